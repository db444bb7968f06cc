import { readFileSync } from 'node:fs';
import { hash as argon2Hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './password-hasher.js';

const hasher = createPasswordHasher();
const legacy = JSON.parse(readFileSync(new URL('../../test/fixtures/legacy-hashes.json', import.meta.url), 'utf8')) as Array<{
  name: string;
  hash: string;
  password: string;
}>;

describe('password hasher', () => {
  it('hashes with argon2id at OWASP minimum parameters, salted', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(stored, 'correct horse battery staple')).toEqual({ valid: true, needsRehash: false });
    expect((await hasher.verify(stored, 'correct horse battery stapl')).valid).toBe(false);
    expect((await hasher.verify(stored, '')).valid).toBe(false);
  });

  it('asks to rehash a weaker argon2id hash', async () => {
    // algorithm 2 = Argon2id in @node-rs/argon2 (a const enum, so a literal here).
    const weak = await argon2Hash('pw-weak', { memoryCost: 4096, timeCost: 2, parallelism: 1, algorithm: 2 as never });
    expect(weak).toContain('m=4096');
    expect(await hasher.verify(weak, 'pw-weak')).toEqual({ valid: true, needsRehash: true });
  });

  it('asks to rehash when our own parameters rise', async () => {
    const stored = await hasher.hash('pw');
    const stronger = createPasswordHasher({ timeCost: 3 });
    expect(await stronger.verify(stored, 'pw')).toEqual({ valid: true, needsRehash: true });
  });

  it.each(legacy.map((f) => [f.name, f] as const))('legacy %s verifies and needs a rehash', async (_name, f) => {
    expect(await hasher.verify(f.hash, f.password)).toEqual({ valid: true, needsRehash: true });
  });

  it.each([
    '',
    'garbage',
    '$argon2id$v=19$m=19456,t=2,p=1$',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$!!!!',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$',
    '$2b$10$tooShort',
    '$scrypt$ln=14,r=8,p=1$$',
    'pbkdf2_sha256$x$y$z',
    '\u0000',
  ])('a malformed stored hash %j is invalid and does not throw', async (stored) => {
    await expect(hasher.verify(stored, 'pw')).resolves.toMatchObject({ valid: false });
  });

  it('verifyDummy spends about the work of a real verify', async () => {
    const stored = await hasher.hash('pw');
    await hasher.verifyDummy('warm-up'); // the first call also makes the dummy hash
    const time = async (fn: () => Promise<unknown>) => {
      const start = performance.now();
      for (let i = 0; i < 5; i++) await fn();
      return performance.now() - start;
    };
    const real = await time(() => hasher.verify(stored, 'wrong'));
    const dummy = await time(() => hasher.verifyDummy('wrong'));
    // Loose bounds: the point is "an argon2 verify at our parameters", not a cheap early return;
    // other test files share the two cores.
    expect(dummy).toBeGreaterThan(real * 0.3);
    expect(dummy).toBeLessThan(real * 3.5);
  });

  it('refuses parameters it could not verify later', () => {
    expect(() => createPasswordHasher({ memoryCost: 10_000_000 })).toThrow(RangeError);
    expect(() => createPasswordHasher({ timeCost: 0 })).toThrow(RangeError);
  });
});
