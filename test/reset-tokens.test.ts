// Reset token rules: single use, expiry, tampering, concurrency, policy failures keep the token, and the
// link rule for repeated requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { PassThrough } from 'node:stream';
import { createApp, type App } from '../src/app.js';
import { DIALECTS } from './support/databases.js';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';

/** Issues a link the way a request does and reads the token back from the sealed outbox row. */
async function issueToken(app: App, email: string): Promise<string> {
  const issued = await app.services.recovery.issueResetLink(email, '127.0.0.1');
  if (!issued) throw new Error('no link issued');
  const notice = await app.db.db
    .selectFrom('notices')
    .select('sealed')
    .where('kind', '=', 'reset_request')
    .where('recipient', '=', email)
    .where('sealed', 'is not', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  // Settle it (as delivery would) so the next issue for this account is the only unsent one.
  await app.db.db.updateTable('notices').set({ sealed: null }).where('recipient', '=', email).execute();
  return app.keyring.unseal(notice.sealed!);
}

const confirm = (app: App, token: string, password: string) =>
  app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token, password } });

describe.each(DIALECTS)('reset tokens on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  let n = 0;
  const newAccount = async () => {
    const email = `user${++n}@example.com`;
    await signUpAndIn(t.app, email, 'original passphrase 123');
    return email;
  };

  beforeAll(async () => {
    t = await startTestApp(kind, { clock });
  });
  afterAll(async () => {
    await t.close();
  });

  it('rejects a reused token', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    expect((await confirm(t.app, token, 'first new passphrase 1')).statusCode).toBe(200);
    const reuse = await confirm(t.app, token, 'second new passphrase 2');
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().code).toBe('invalid_or_expired_token');
  });

  it('rejects an expired token (1 hour by default)', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    clock.advance(3_600_000 + 1);
    expect((await confirm(t.app, token, 'first new passphrase 1')).json().code).toBe('invalid_or_expired_token');
  });

  it('rejects tampered, truncated and foreign tokens', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    for (const bad of [flipped, token.slice(0, -1), token + 'A', 'x'.repeat(43), '', 'a'.repeat(129)]) {
      const r = await confirm(t.app, bad, 'first new passphrase 1');
      expect(r.statusCode).toBe(400);
      expect(r.json().code).toBe('invalid_or_expired_token');
    }
    expect((await confirm(t.app, token, 'first new passphrase 1')).statusCode).toBe(200);
  });

  it('lets exactly one of 50 concurrent confirms win', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => confirm(t.app, token, `concurrent passphrase ${i}x`)));
    const wins = results.filter((r) => r.statusCode === 200);
    expect(wins).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 400 && r.json().code === 'invalid_or_expired_token')).toHaveLength(49);
    const changed = await t.app.db.db.selectFrom('notices').select('id').where('kind', '=', 'password_changed').where('recipient', '=', email).execute();
    expect(changed).toHaveLength(1);
  });

  it('keeps the token usable after a password-policy failure', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    const short = await confirm(t.app, token, 'short');
    expect(short.json().code).toBe('password_too_short');
    const breached = await confirm(t.app, token, 'password123');
    expect(breached.json().code).toBe('password_breached');
    expect((await confirm(t.app, token, 'a perfectly fine passphrase')).statusCode).toBe(200);
  });

  it('does not kill an earlier link with a new request; using one voids the others', async () => {
    const email = await newAccount();
    const first = await issueToken(t.app, email);
    // Within a minute a repeat request sends nothing.
    expect(await t.app.services.recovery.issueResetLink(email, '127.0.0.1')).toBe(false);
    clock.advance(61_000);
    const second = await issueToken(t.app, email);
    expect(second).not.toBe(first);
    expect((await confirm(t.app, first, 'the first link still works')).statusCode).toBe(200);
    expect((await confirm(t.app, second, 'the second link is now void')).json().code).toBe('invalid_or_expired_token');
  });

  it('sends at most the per-account limit of links per hour', async () => {
    clock.set(Date.UTC(2026, 10, 27, 10, 0)); // well inside one hourly window
    const email = await newAccount();
    let sent = 0;
    for (let i = 0; i < 6; i++) {
      if (await t.app.services.recovery.issueResetLink(email, '127.0.0.1')) sent++;
      clock.advance(61_000);
    }
    expect(sent).toBe(3);
  });

  it('accepts a token signed before a key rotation (the old key still verifies)', async () => {
    const email = await newAccount();
    const token = await issueToken(t.app, email);
    const config = { ...t.app.config, secrets: [Buffer.from('a-new-signing-key-0123456789-abcdefghijkl'), ...t.app.config.secrets] };
    const rotated = await createApp(config, { db: t.database.db, migrate: false, clock, logDestination: new PassThrough() });
    try {
      expect((await confirm(rotated, token, 'after the rotation 2026')).statusCode).toBe(200);
    } finally {
      await rotated.close();
    }
  });
});
