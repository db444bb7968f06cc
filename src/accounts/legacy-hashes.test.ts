import { readFileSync } from 'node:fs';
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialScheme, identifyScheme, LIMITS, verifyHash, verifyHashSync } from './legacy-hashes.js';

interface Fixture {
  name: string;
  tool: string;
  scheme: string;
  hash: string;
  password: string;
  wrong_password: string;
}

// Made by htpasswd, pyca/bcrypt, the argon2 reference CLI and Python's hashlib
// (test/fixtures/make-legacy-hashes.py): independent of the code under test.
const fixtures = JSON.parse(readFileSync(new URL('../../test/fixtures/legacy-hashes.json', import.meta.url), 'utf8')) as Fixture[];

describe('legacy hash fixtures from other tools', () => {
  it('covers every accepted form', () => {
    const forms = new Set(fixtures.map((f) => f.hash.match(/^\$?[a-z0-9_-]+\$/i)?.[0]));
    for (const form of ['$2y$', '$2a$', '$2b$', '$argon2id$', '$argon2i$', '$argon2d$', '$scrypt$', '$pbkdf2-sha256$', 'pbkdf2_sha256$']) {
      expect(forms).toContain(form);
    }
    expect(fixtures.some((f) => f.hash.includes('$i='))).toBe(true);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: scheme identified, right password verifies, wrong one does not', async (_name, f) => {
    expect(identifyScheme(f.hash)).toBe(f.scheme);
    expect(await verifyHash(f.hash, f.password)).toBe(true);
    expect(await verifyHash(f.hash, f.wrong_password)).toBe(false);
  });

  // The verify pool's threads use the synchronous twin: it must answer exactly as sign-in's verifier.
  it.each(fixtures.map((f) => [f.name, f] as const))('%s: verifyHashSync agrees', (_name, f) => {
    expect(verifyHashSync(f.hash, f.password)).toBe(true);
    expect(verifyHashSync(f.hash, f.wrong_password)).toBe(false);
  });

  it('names the credential scheme column', () => {
    const by = (prefix: string) => fixtures.find((f) => f.hash.startsWith(prefix))!.hash;
    expect(credentialScheme(by('$argon2id$'))).toBe('argon2id');
    expect(credentialScheme(by('$argon2i$'))).toBe('argon2');
    expect(credentialScheme(by('$2y$'))).toBe('bcrypt');
    expect(credentialScheme(by('$scrypt$'))).toBe('scrypt');
    expect(credentialScheme(by('pbkdf2_sha256$'))).toBe('pbkdf2-sha256');
    expect(credentialScheme('nonsense')).toBeNull();
  });
});

describe('unrecognized and hostile hashes', () => {
  const salt = Buffer.from('0123456789abcdef');
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

  it.each([
    ['empty', ''],
    ['plain text', 'hunter2'],
    ['md5 crypt', '$1$saltsalt$qjXMvOEDnZsfLzTkX4T6Q/'],
    ['sha512 crypt', '$6$rounds=5000$salt$abc'],
    ['bcrypt cost 31', '$2b$31$' + 'a'.repeat(53)],
    ['bcrypt cost above bound', `$2b$${LIMITS.bcryptMaxCost + 1}$` + 'a'.repeat(53)],
    ['bcrypt short', '$2b$10$abc'],
    ['bcrypt $2x$', '$2x$10$' + 'a'.repeat(53)],
    ['argon2 4 GiB', '$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHQ$6N7lbaPVRHQNDcwG/VJmDLNHm8NtaQq8+e3eGhoqFH0'],
    ['argon2 t=1000', '$argon2id$v=19$m=4096,t=1000,p=1$c29tZXNhbHQ$6N7lbaPVRHQNDcwG/VJmDLNHm8NtaQq8+e3eGhoqFH0'],
    ['argon2 bad base64', '$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$!!!'],
    ['argon2 without hash', '$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ'],
    ['scrypt N=2^21', `$scrypt$ln=21,r=8,p=1$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['scrypt N=2^20 r=16 (2 GiB)', `$scrypt$ln=20,r=16,p=1$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['scrypt p=1000', `$scrypt$ln=10,r=8,p=1000$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['scrypt $7$', '$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D'],
    ['pbkdf2 rounds over bound', `$pbkdf2-sha256$${LIMITS.pbkdf2MaxRounds + 1}$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['pbkdf2 zero rounds', `$pbkdf2-sha256$0$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['pbkdf2 PHC l mismatch', `$pbkdf2-sha256$i=1000,l=64$${b64(salt)}$${b64(Buffer.alloc(32))}`],
    ['django short digest', 'pbkdf2_sha256$1000$salt$AAAA'],
    ['too long', '$pbkdf2-sha256$1000$' + 'a'.repeat(2000) + '$' + b64(Buffer.alloc(32))],
  ])('%s → unrecognized, never matches', async (_name, hash) => {
    expect(identifyScheme(hash)).toBeNull();
    expect(await verifyHash(hash, 'hunter2')).toBe(false);
    expect(verifyHashSync(hash, 'hunter2')).toBe(false);
  });

  it('accepts parameters right at the bounds', () => {
    expect(identifyScheme(`$scrypt$ln=20,r=8,p=1$${b64(salt)}$${b64(Buffer.alloc(32))}`)).toBe('scrypt');
    expect(identifyScheme(`$pbkdf2-sha256$${LIMITS.pbkdf2MaxRounds}$${b64(salt)}$${b64(Buffer.alloc(32))}`)).toBe('pbkdf2-sha256');
    expect(identifyScheme(`$2b$${LIMITS.bcryptMaxCost}$` + 'a'.repeat(53))).toBe('bcrypt');
  });

  it('decodes passlib adapted base64 ("." for "+") in salt and digest', async () => {
    // Find a salt/digest whose base64 contains "+", so the "." mapping is really exercised.
    for (let i = 0; ; i++) {
      const s = Buffer.from(`salt-${i}`);
      const dk = pbkdf2Sync('pw', s, 1000, 32, 'sha256');
      const enc = (b: Buffer) => b64(b).replace(/\+/g, '.');
      if (!b64(dk).includes('+')) continue;
      expect(await verifyHash(`$pbkdf2-sha256$1000$${enc(s)}$${enc(dk)}`, 'pw')).toBe(true);
      break;
    }
  });

  it('verifies scrypt hashes that need more than node:crypto default maxmem', async () => {
    // N=2^17, r=8 needs 128 MiB, above Node's 32 MiB default: our maxmem must be raised for it.
    const dk = scryptSync('pw', salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
    expect(await verifyHash(`$scrypt$ln=17,r=8,p=1$${b64(salt)}$${b64(dk)}`, 'pw')).toBe(true);
    expect(verifyHashSync(`$scrypt$ln=17,r=8,p=1$${b64(salt)}$${b64(dk)}`, 'pw')).toBe(true);
  });
});
