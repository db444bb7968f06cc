// Sign-up without enumeration (issue 12): 202 for new and registered addresses alike, a verify_email or
// an account_exists notice (never both, never a second account), sign-in refused with
// email_not_verified only after the right password, the confirm token single-use, re-sends held and
// limited like reset links, the 201/409 behaviour behind signup_email_verification=0, and accounts
// created by operators.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, queuedSecret, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const PASSWORD = 'a perfectly long passphrase';
const VOLATILE = new Set(['date', 'x-request-id', 'content-length']);
const stableHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k)));

describe.each(DIALECTS)('sign-up on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  let operatorKey: string;
  let viewerKey: string;
  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'silent' });
    operatorKey = (await t.app.services.operators.create('ops', 'operator')).key;
    viewerKey = (await t.app.services.operators.create('viewer', 'viewer')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.http.inject({ method: 'POST', url, payload: payload as object, headers });
  const signIn = (email: string, password = PASSWORD) => post('/v1/sessions', { email, password });
  const notices = (recipient: string) => t.app.db.db.selectFrom('notices').select(['kind', 'recipient']).where('recipient', '=', recipient).orderBy('created_at').execute();
  const kinds = async (recipient: string) => (await notices(recipient)).map((n) => n.kind);

  it('answers a new and a registered address byte for byte the same, and mails each what fits', async () => {
    await signUpAndIn(t.app, 'taken@example.com', PASSWORD);
    const fresh = await post('/v1/accounts', { email: 'Fresh@Example.com', password: PASSWORD });
    const taken = await post('/v1/accounts', { email: 'taken@example.com', password: 'someone else entirely 42' });
    expect(fresh.statusCode).toBe(202);
    expect(fresh.json()).toEqual({ status: 'accepted' });
    expect(taken.body).toBe(fresh.body);
    expect(stableHeaders(taken.headers)).toEqual(stableHeaders(fresh.headers));
    await t.app.resetRequests.drain();
    expect(await kinds('fresh@example.com')).toEqual(['verify_email']);
    expect(await kinds('taken@example.com')).toEqual(['account_exists']);
    // The registered account is untouched: its own password still opens it, the stranger's does not.
    expect((await signIn('taken@example.com')).statusCode).toBe(201);
    expect((await signIn('taken@example.com', 'someone else entirely 42')).json().code).toBe('invalid_credentials');
    expect(await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', 'taken@example.com').execute()).toHaveLength(1);
  });

  it('refuses sign-in with email_not_verified only after the right password, until the link is confirmed', async () => {
    await post('/v1/accounts', { email: 'nova@example.com', password: PASSWORD });
    await t.app.resetRequests.drain();
    const wrong = await signIn('nova@example.com', 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_credentials');
    const right = await signIn('nova@example.com');
    expect(right.statusCode).toBe(401);
    expect(right.json().code).toBe('email_not_verified');

    const token = await queuedSecret(t.app, 'verify_email', 'nova@example.com');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await t.app.db.db.selectFrom('account_tokens').select('token_hmac').execute();
    expect(stored.map((r) => r.token_hmac)).not.toContain(token);
    const confirmed = await post('/v1/email-verifications/confirm', { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({ status: 'verified', account_id: expect.any(String) });
    const again = await post('/v1/email-verifications/confirm', { token });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('invalid_or_expired_token');

    const session = await signIn('nova@example.com');
    expect(session.statusCode).toBe(201);
    const me = await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.json().token) });
    expect(me.json()).toMatchObject({ email: 'nova@example.com', email_verified: true });
  });

  it('lets exactly one of many concurrent confirms of one token win', async () => {
    await post('/v1/accounts', { email: 'race@example.com', password: PASSWORD });
    await t.app.resetRequests.drain();
    const token = await queuedSecret(t.app, 'verify_email', 'race@example.com');
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/email-verifications/confirm', { token })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.statusCode === 400)).toHaveLength(19);
  });

  it('re-sends the link like a reset: 202 for every address, held for a minute, capped per hour', async () => {
    await post('/v1/accounts', { email: 'slow@example.com', password: PASSWORD });
    await t.app.resetRequests.drain();
    const known = await post('/v1/email-verifications', { email: 'slow@example.com' });
    const unknown = await post('/v1/email-verifications', { email: 'nobody-here@example.com' });
    expect(known.statusCode).toBe(202);
    expect(unknown.body).toBe(known.body);
    await t.app.resetRequests.drain();
    expect(await kinds('slow@example.com')).toEqual(['verify_email']); // within the minute: held
    clock.advance(61_000);
    await post('/v1/email-verifications', { email: 'slow@example.com' });
    await t.app.resetRequests.drain();
    expect(await kinds('slow@example.com')).toEqual(['verify_email', 'verify_email']);
    expect(await kinds('nobody-here@example.com')).toEqual([]);
    // Both links work until one is used (a new mail does not kill the link being clicked).
    const newest = await queuedSecret(t.app, 'verify_email', 'slow@example.com');
    expect((await post('/v1/email-verifications/confirm', { token: newest })).statusCode).toBe(200);
    // A verified address is sent nothing more.
    clock.advance(61_000);
    await post('/v1/email-verifications', { email: 'slow@example.com' });
    await t.app.resetRequests.drain();
    expect(await kinds('slow@example.com')).toHaveLength(2);
  });

  it('verifies the address when a reset link is used (the mailbox is proven either way)', async () => {
    await post('/v1/accounts', { email: 'squat@example.com', password: 'grabber passphrase here 7' });
    await t.app.resetRequests.drain();
    await t.app.services.recovery.issueResetLink('squat@example.com', '127.0.0.1');
    const token = await queuedSecret(t.app, 'reset_request', 'squat@example.com');
    expect((await post('/v1/password-resets/confirm', { token, password: PASSWORD })).statusCode).toBe(200);
    expect((await signIn('squat@example.com')).statusCode).toBe(201);
    expect((await signIn('squat@example.com', 'grabber passphrase here 7')).statusCode).toBe(401);
  });

  it.each([
    ['an array of emails', { email: ['victim@example.com', 'attacker@evil.test'], password: PASSWORD }],
    ['an object', { email: { address: 'victim@example.com' }, password: PASSWORD }],
    ['a number', { email: 12345, password: PASSWORD }],
    ['a header injection', { email: 'victim@example.com\r\nBcc: attacker@evil.test', password: PASSWORD }],
    ['a list joined by commas', { email: 'victim@example.com,attacker@evil.test', password: PASSWORD }],
  ])('sign-up refuses %s with a 400 and writes nothing', async (_name, payload) => {
    const before = (await t.app.db.db.selectFrom('notices').select('id').execute()).length;
    for (const url of ['/v1/accounts', '/v1/email-verifications']) {
      const r = await post(url, payload);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(['invalid_request', 'invalid_email']).toContain(r.json().code);
    }
    expect((await post('/v1/accounts', { email: 'victim@example.com', password: [PASSWORD] })).statusCode).toBe(400);
    for (const token of [['x'], 5, null, { a: 1 }]) expect((await post('/v1/email-verifications/confirm', { token })).statusCode).toBe(400);
    await t.app.resetRequests.drain();
    expect(await t.app.db.db.selectFrom('notices').select('id').execute()).toHaveLength(before);
    expect(await t.app.db.db.selectFrom('accounts').select('id').where('email', 'like', 'victim%').execute()).toEqual([]);
  });

  it('checks the password policy before answering (that reveals nothing about the address)', async () => {
    const r = await post('/v1/accounts', { email: 'short@example.com', password: 'short' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('password_too_short');
  });

  it('keeps 201 / 409 when signup_email_verification is 0', async () => {
    await t.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
    try {
      const created = await post('/v1/accounts', { email: 'direct@example.com', password: PASSWORD });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toEqual({ id: expect.any(String), email: 'direct@example.com' });
      const dup = await post('/v1/accounts', { email: 'direct@example.com', password: PASSWORD });
      expect(dup.statusCode).toBe(409);
      expect(dup.json().code).toBe('account_exists');
      expect((await signIn('direct@example.com')).statusCode).toBe(201);
    } finally {
      await t.app.services.settings.patch({ signup_email_verification: 1 }, 'test');
    }
  });

  it('lets operators create accounts directly, audited, verified or not, with or without a password', async () => {
    const op = bearer(operatorKey);
    expect((await post('/v1/admin/accounts', { email: 'made@example.com' })).statusCode).toBe(401);
    expect((await post('/v1/admin/accounts', { email: 'made@example.com' }, bearer(viewerKey))).statusCode).toBe(403);
    const made = await post('/v1/admin/accounts', { email: 'Made@Example.com', password: PASSWORD }, op);
    expect(made.statusCode).toBe(201);
    expect(made.json()).toEqual({ id: expect.any(String), email: 'made@example.com' });
    expect((await signIn('made@example.com')).statusCode).toBe(201);
    expect((await post('/v1/admin/accounts', { email: 'made@example.com' }, op)).json().code).toBe('account_exists');
    expect((await post('/v1/admin/accounts', { email: 'x@example.com', email_verified: 'false' }, op)).statusCode).toBe(400);

    const unverified = await post('/v1/admin/accounts', { email: 'later@example.com', password: PASSWORD, email_verified: false }, op);
    expect(unverified.statusCode).toBe(201);
    expect((await signIn('later@example.com')).json().code).toBe('email_not_verified');
    expect(await kinds('later@example.com')).toEqual(['verify_email']);

    // Without a password the holder chooses one through a reset link.
    const bare = await post('/v1/admin/accounts', { email: 'bare@example.com' }, op);
    expect(bare.statusCode).toBe(201);
    expect((await signIn('bare@example.com', 'anything at all really')).json().code).toBe('invalid_credentials');
    await t.app.services.recovery.issueResetLink('bare@example.com', '127.0.0.1');
    const token = await queuedSecret(t.app, 'reset_request', 'bare@example.com');
    expect((await post('/v1/password-resets/confirm', { token, password: PASSWORD })).statusCode).toBe(200);
    expect((await signIn('bare@example.com')).statusCode).toBe(201);

    const audit = await t.app.db.db.selectFrom('audit_log').select(['actor', 'action', 'subject', 'data']).where('action', '=', 'account.created').execute();
    expect(audit).toHaveLength(3);
    expect(audit.map((a) => a.subject)).toContain(`account:${made.json().id}`);
    for (const a of audit) expect(JSON.stringify(a)).not.toContain(PASSWORD);
  });
});
