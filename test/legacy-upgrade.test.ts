// Imported legacy hashes (made by other tools: htpasswd, python3-bcrypt, the argon2 CLI, hashlib) sign
// in over HTTP as they are, and the first successful sign-in rehashes them to argon2id.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsers } from '../src/accounts/import-users.js';
import { DIALECTS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

interface Fixture {
  name: string;
  scheme: string;
  hash: string;
  password: string;
  wrong_password: string;
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/legacy-hashes.json', import.meta.url), 'utf8')) as Fixture[];
// One of each scheme and form keeps the run short; legacy-hashes.test.ts verifies all of them.
const sample = [...new Map(fixtures.map((f) => [f.name.replace(/-\d+$/, ''), f])).values()];

describe.each(DIALECTS)('legacy hashes upgrade on sign-in on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    const lines = sample.map((f) => JSON.stringify({ email: `${f.name}@legacy.example`, password_hash: f.hash })).join('\n');
    const report = await importUsers(t.app.db, Readable.from([lines]), { clock: t.app.clock });
    expect(report.imported).toBe(sample.length);
  });
  afterAll(async () => {
    await t.close();
  });

  it('covers bcrypt, scrypt, PBKDF2 and argon2 fixtures', () => {
    expect(new Set(sample.map((f) => f.scheme))).toEqual(new Set(['bcrypt', 'scrypt', 'pbkdf2-sha256', 'argon2']));
  });

  it.each(sample.map((f, i) => [f.name, f, i] as const))('%s: verifies as imported, then is argon2id', async (_name, f, i) => {
    const email = `${f.name}@legacy.example`;
    // One client address per fixture: the per-IP failure throttle is not what this test is about.
    const signIn = (password: string) => t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: `10.7.0.${i}` });
    expect((await signIn(f.wrong_password)).statusCode).toBe(401);
    const before = await t.app.db.db.selectFrom('credentials').innerJoin('accounts', 'accounts.id', 'credentials.account_id').select(['hash', 'scheme']).where('email', '=', email).executeTakeFirstOrThrow();
    expect(before.hash).toBe(f.hash);
    expect((await signIn(f.password)).statusCode).toBe(201);
    const after = await t.app.db.db.selectFrom('credentials').innerJoin('accounts', 'accounts.id', 'credentials.account_id').select(['hash', 'scheme']).where('email', '=', email).executeTakeFirstOrThrow();
    expect(after.scheme).toBe('argon2id');
    expect(after.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await signIn(f.password)).statusCode).toBe(201);
    expect((await signIn(f.wrong_password)).statusCode).toBe(401);
  });
});
