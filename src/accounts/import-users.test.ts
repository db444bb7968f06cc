import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { emailSkeleton } from './email-skeleton.js';
import { importUsers, MAX_LINE_CHARS, type ImportProgress } from './import-users.js';
import { createPasswordHasher } from './password-hasher.js';

const fixtures = JSON.parse(readFileSync(new URL('../../test/fixtures/legacy-hashes.json', import.meta.url), 'utf8')) as Array<{
  name: string;
  hash: string;
  password: string;
}>;
const fx = (name: string) => fixtures.find((f) => f.name === name)!;
const hasher = createPasswordHasher();

const users = {
  'alice@example.com': fx('htpasswd-2y-0'),
  'bob@example.com': fx('scrypt-passlib-ln14-r8-p1-1'),
  'carol@example.com': fx('argon2-cli-argon2id-2'),
  'dave@example.com': fx('pbkdf2-django-0'),
  'josé@xn--bcher-kva.de': fx('pbkdf2-phc-1'),
  'erin@example.com': fx('pbkdf2-passlib-2'),
};
const rec = (email: unknown, hash: unknown) => JSON.stringify({ email, password_hash: hash });

// Line numbers are physical lines, 1-based; the comments give the expected outcome.
const LINES = [
  '\uFEFF' + rec('Alice@Example.com', users['alice@example.com'].hash), // 1 imported (BOM, case)
  '', // 2 blank: ignored
  rec('bob@example.com', users['bob@example.com'].hash), // 3 imported
  '{"email": "x@example.com", "password_hash": "$2b$10$', // 4 malformed_json
  rec(['a@example.com'], users['bob@example.com'].hash), // 5 invalid_email (array)
  rec('md5@example.com', '$1$saltsalt$qjXMvOEDnZsfLzTkX4T6Q/'), // 6 unsupported_hash
  rec('ALICE@example.com', users['bob@example.com'].hash), // 7 duplicate: skipped
  rec('existing@example.com', users['bob@example.com'].hash), // 8 existing account: skipped
  '   ', // 9 blank: ignored
  rec('carol@example.com', users['carol@example.com'].hash), // 10 imported
  rec('dave@example.com', users['dave@example.com'].hash), // 11 imported
  '[1, 2]', // 12 invalid_record
  JSON.stringify({ email: 'nohash@example.com' }), // 13 invalid_password_hash
  rec('not-an-email', users['bob@example.com'].hash), // 14 invalid_email
  rec('JOSÉ@bücher.de', users['josé@xn--bcher-kva.de'].hash), // 15 imported (IDN, multibyte)
  rec('erin@example.com', users['erin@example.com'].hash), // 16 imported, no final newline
];
const CONTENT = LINES.join('\r\n');
const EXPECTED_ERRORS = [
  { line: 4, code: 'malformed_json' },
  { line: 5, code: 'invalid_email' },
  { line: 6, code: 'unsupported_hash' },
  { line: 12, code: 'invalid_record' },
  { line: 13, code: 'invalid_password_hash' },
  { line: 14, code: 'invalid_email' },
];

/** Small byte chunks that split lines, CRLFs and multibyte characters at arbitrary places. */
async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe.each(DIALECTS)('importUsers on %s', (dialect) => {
  let t: TestDatabase;
  const clock = new ManualClock();
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resetguard-import-'));
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.drop();
  });

  it('imports valid lines, skips existing and duplicate emails, reports invalid lines by number', async () => {
    const existingHash = await hasher.hash('the original password');
    await t.db.db.insertInto('accounts').values({ id: 'existing-1', email: 'existing@example.com', created_at: 1, password_changed_at: 5 }).execute();
    await t.db.db.insertInto('credentials').values({ account_id: 'existing-1', hash: existingHash, scheme: 'argon2id', state: 'active', updated_at: 5 }).execute();

    const progress: ImportProgress[] = [];
    const report = await importUsers(t.db, chunked(CONTENT, 7), { clock, batchSize: 2, onProgress: (p) => progress.push(p) });

    expect(report).toMatchObject({ lines: 16, imported: 6, skipped_existing: 2, invalid: 6 });
    expect(report.errors.map(({ line, code }) => ({ line, code }))).toEqual(EXPECTED_ERRORS);
    for (const e of report.errors) {
      // Never a hash, never (part of) the line.
      for (const secret of ['saltsalt', '$2b$10', users['bob@example.com'].hash, 'example.com']) expect(e.message).not.toContain(secret);
    }
    expect(progress.at(-1)).toMatchObject({ lines: 16, imported: 6, bytes: Buffer.byteLength(CONTENT) });

    const rows = await t.db.db
      .selectFrom('accounts')
      .innerJoin('credentials', 'credentials.account_id', 'accounts.id')
      .select(['accounts.id', 'email', 'created_at', 'password_changed_at', 'hash', 'scheme', 'state', 'updated_at'])
      .orderBy('email')
      .execute();
    expect(rows.map((r) => r.email)).toEqual([
      'alice@example.com',
      'bob@example.com',
      'carol@example.com',
      'dave@example.com',
      'erin@example.com',
      'existing@example.com',
      'josé@xn--bcher-kva.de',
    ]);
    const byEmail = new Map(rows.map((r) => [r.email, r]));
    // The existing account kept its own credential; the duplicate line for alice did not replace hers.
    expect(byEmail.get('existing@example.com')).toMatchObject({ hash: existingHash, password_changed_at: 5 });
    expect(byEmail.get('alice@example.com')!.hash).toBe(users['alice@example.com'].hash);
    expect(Object.fromEntries(rows.map((r) => [r.email, r.scheme]))).toMatchObject({
      'alice@example.com': 'bcrypt',
      'bob@example.com': 'scrypt',
      'carol@example.com': 'argon2id',
      'dave@example.com': 'pbkdf2-sha256',
    });
    for (const [email, f] of Object.entries(users)) {
      const row = byEmail.get(email)!;
      expect(row).toMatchObject({ created_at: clock.now(), password_changed_at: null, state: 'active', updated_at: clock.now() });
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await hasher.verify(row.hash, f.password)).toEqual({ valid: true, needsRehash: true });
      expect((await hasher.verify(row.hash, 'not the password')).valid).toBe(false);
    }
  });

  it('is idempotent: a second run of the same file (from disk) imports nothing new', async () => {
    const file = join(dir, 'users.jsonl');
    writeFileSync(file, CONTENT);
    const report = await importUsers(t.db, createReadStream(file), { clock });
    expect(report).toMatchObject({ lines: 16, imported: 0, skipped_existing: 8, invalid: 6 });
    const count = await t.db.db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(7);
  });

  it('takes "email_verified": false per line (default true) and refuses a value that is not a boolean', async () => {
    const hash = users['bob@example.com'].hash;
    const lines = [
      JSON.stringify({ email: 'unverified@example.com', password_hash: hash, email_verified: false }),
      JSON.stringify({ email: 'verified@example.com', password_hash: hash, email_verified: true }),
      JSON.stringify({ email: 'default@example.com', password_hash: hash }),
      JSON.stringify({ email: 'odd@example.com', password_hash: hash, email_verified: 'no' }),
    ].join('\n');
    const report = await importUsers(t.db, chunked(lines, 64), { clock });
    expect(report).toMatchObject({ imported: 3, invalid: 1 });
    expect(report.errors).toEqual([{ line: 4, code: 'invalid_email_verified', message: '"email_verified" must be true or false' }]);
    const rows = await t.db.db.selectFrom('accounts').select(['email', 'email_verified']).where('email', 'in', ['unverified@example.com', 'verified@example.com', 'default@example.com']).orderBy('email').execute();
    expect(rows.map((r) => [r.email, Number(r.email_verified)])).toEqual([
      ['default@example.com', 1],
      ['unverified@example.com', 0],
      ['verified@example.com', 1],
    ]);
  });

  it('accepts plain string chunks and LF endings, ignores a trailing newline, keeps a line too long out', async () => {
    const long = rec('long@example.com', 'x'.repeat(MAX_LINE_CHARS + 10));
    const text = [rec('frank@example.com', fx('pyca-bcrypt-2b-1').hash), long, rec('gina@example.com', fx('pyca-bcrypt-2a-2').hash)].join('\n') + '\n';
    async function* strings() {
      for (let i = 0; i < text.length; i += 1000) yield text.slice(i, i + 1000);
    }
    const report = await importUsers(t.db, strings(), { clock });
    expect(report).toMatchObject({ lines: 3, imported: 2, skipped_existing: 0, invalid: 1 });
    expect(report.errors).toEqual([{ line: 2, code: 'line_too_long', message: expect.any(String) }]);
  });

  it('skips a lookalike of an existing address, or of an earlier line in the same batch, as an existing email', async () => {
    const hash = users['bob@example.com'].hash;
    const lines = [
      rec('\u0430\u0441\u0435@example.com', hash), // асе (all Cyrillic) beside the ace@ below: the first line wins
      rec('ace@example.com', hash),
      rec('b\u043eb@example.com', hash), // lookalike of bob@, imported by the first test
      rec('paypa1@example.com', hash),
      rec('paypal@example.com', hash),
    ].join('\n');
    const report = await importUsers(t.db, chunked(lines, 64), { clock, batchSize: 10 });
    expect(report).toMatchObject({ lines: 5, imported: 2, skipped_existing: 3, invalid: 0 });
    const rows = await t.db.db.selectFrom('accounts').select(['email', 'email_skeleton']).where('email', 'like', '%@example.com').execute();
    const emails = rows.map((r) => r.email);
    expect(emails).toContain('\u0430\u0441\u0435@example.com');
    expect(emails).toContain('paypa1@example.com');
    for (const gone of ['ace@example.com', 'b\u043eb@example.com', 'paypal@example.com']) expect(emails).not.toContain(gone);
    expect(rows.find((r) => r.email === 'paypa1@example.com')?.email_skeleton).toBe(emailSkeleton('paypal@example.com'));
    const credentials = await t.db.db.selectFrom('credentials').innerJoin('accounts', 'accounts.id', 'credentials.account_id').select('email').where('email', 'in', ['ace@example.com', 'paypal@example.com']).execute();
    expect(credentials).toEqual([]);
  });

  it('counts every invalid line but keeps only the first 1000 errors', async () => {
    const text = 'not json\n'.repeat(1200);
    const report = await importUsers(t.db, chunked(text, 4096), { clock });
    expect(report.invalid).toBe(1200);
    expect(report.errors).toHaveLength(1000);
    expect(report.errors[999]!.line).toBe(1000);
  });
});
