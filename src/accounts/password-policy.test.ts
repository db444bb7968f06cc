import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../lib/errors.js';
import { createBlocklist, noBlocklist, type PasswordBlocklist } from '../detection/pwned/pwned.js';
import { createBuiltinBlocklist } from '../detection/pwned/pwned-builtin.js';
import { checkPasswordPolicy, normalizePassword } from './password-policy.js';

const blocklist = createBuiltinBlocklist();
const base = { minLength: 8, blocklist };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error('expected an AppError');
  return err;
}

describe('normalizePassword', () => {
  it('applies NFKC: fullwidth digits and letters, composed accents', () => {
    expect(normalizePassword('ｐａｓｓ１２３')).toBe('pass123');
    expect(normalizePassword('cafe\u0301')).toBe('café');
    expect(normalizePassword('ﬁ')).toBe('fi');
  });
});

describe('checkPasswordPolicy', () => {
  it('returns the normalized password', async () => {
    expect(await checkPasswordPolicy('ｌｉｇｈｔｈｏｕｓｅ　ｂａｎｊｏ　７', base)).toBe('lighthouse banjo 7');
  });

  it('counts Unicode code points after NFKC', async () => {
    expect(await codeOf(checkPasswordPolicy('abcdefg', base))).toBe('password_too_short');
    // 7 letters + one emoji (two UTF-16 units, one code point) = 8: accepted.
    expect(await checkPasswordPolicy('zqxwvkj😀', base)).toBe('zqxwvkj😀');
    // 4 emoji are 8 UTF-16 units but only 4 code points.
    expect(await codeOf(checkPasswordPolicy('😀😁😂🤣', base))).toBe('password_too_short');
    // "e" + combining acute composes to one code point: 7 after NFKC.
    expect(await codeOf(checkPasswordPolicy('zqxwvke\u0301', base))).toBe('password_too_short');
  });

  it('rejects over the maximum (1024 by default) and accepts exactly it', async () => {
    const ok = 'horse battery '.repeat(80).slice(0, 1024);
    expect(await checkPasswordPolicy(ok, base)).toBe(ok);
    expect(await codeOf(checkPasswordPolicy(ok + 'x', base))).toBe('password_too_long');
    expect(await codeOf(checkPasswordPolicy('x'.repeat(5_000_000), base))).toBe('password_too_long');
    expect(await codeOf(checkPasswordPolicy('abcdefghijk', { ...base, maxLength: 10 }))).toBe('password_too_long');
  });

  it('rejects common and breached passwords, case-insensitively, with guidance', async () => {
    for (const pw of ['password123', 'qwertyuiop', 'PASSWORD123', 'ｑｗｅｒｔｙｕｉｏｐ']) {
      expect(await codeOf(checkPasswordPolicy(pw, base))).toBe('password_breached');
    }
    const err = await errorOf(checkPasswordPolicy('password123', base));
    expect(err.message).toMatch(/longer passphrase/);
    expect(err.extra).toEqual({}); // the builtin list knows no counts
  });

  it('reports a breach count when the blocklist knows one', async () => {
    const counting: PasswordBlocklist = { check: async () => ({ breached: true, count: 42 }) };
    const err = await errorOf(checkPasswordPolicy('unusual passphrase here', { ...base, blocklist: counting }));
    expect(err.code).toBe('password_breached');
    expect(err.extra).toEqual({ breach_count: 42 });
    expect(err.message).toContain('42');
  });

  it('rejects a password containing the email or its local part (4+ characters)', async () => {
    const email = 'jonathan@example.com';
    expect(await codeOf(checkPasswordPolicy('jonathan@example.com', { ...base, email }))).toBe('password_contains_email');
    expect(await codeOf(checkPasswordPolicy('my JONATHAN@Example.com pw', { ...base, email }))).toBe('password_contains_email');
    expect(await codeOf(checkPasswordPolicy('Jonathan-is-great', { ...base, email }))).toBe('password_contains_email');
    // A local part under 4 characters is too common a substring to forbid.
    expect(await checkPasswordPolicy('bobsledding team 4', { ...base, email: 'bob@example.com' })).toBe('bobsledding team 4');
  });

  it("is off with RESETGUARD_PWNED=off, and refuses a corpus path that does not exist", async () => {
    expect(await checkPasswordPolicy('password123', { ...base, blocklist: noBlocklist })).toBe('password123');
    expect(await createBlocklist('off').check('password')).toEqual({ breached: false });
    expect(await createBlocklist('builtin').check('password')).toEqual({ breached: true });
    // Stores and range APIs are tested in test/pwned-store.test.ts and test/pwned-range.test.ts.
    expect(() => createBlocklist('/nonexistent/pwned')).toThrow(/does not exist; build a store with `resetguard pwned import/);
  });

  it('says "at least" for a saturated count and "once" for a count of 1', async () => {
    const saturated: PasswordBlocklist = { check: async () => ({ breached: true, count: 16_777_215, countIsLowerBound: true }) };
    const err = await errorOf(checkPasswordPolicy('unusual passphrase here', { ...base, blocklist: saturated }));
    expect(err.extra).toEqual({ breach_count: 16_777_215, breach_count_is_lower_bound: true });
    expect(err.message).toContain('seen at least 16,777,215 times in data breaches');
    const once: PasswordBlocklist = { check: async () => ({ breached: true, count: 1 }) };
    expect((await errorOf(checkPasswordPolicy('unusual passphrase here', { ...base, blocklist: once }))).message).toContain('seen once in data breaches, where attackers find it; choose a password you have never used elsewhere');
  });

  it('never throws anything but AppError (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 1100 }), fc.constantFrom('password', '')),
        fc.option(fc.emailAddress(), { nil: undefined }),
        async (password, email) => {
          try {
            const out = await checkPasswordPolicy(password, { ...base, email });
            expect(out).toBe(password.normalize('NFKC'));
          } catch (err) {
            expect(err).toBeInstanceOf(AppError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers a non-string with an AppError too (JavaScript callers)', async () => {
    for (const value of [null, undefined, 12345678, ['password123'], { toString: () => 'x' }]) {
      expect(await codeOf(checkPasswordPolicy(value as unknown as string, base))).toBe('invalid_request');
    }
  });
});
