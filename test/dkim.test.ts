// DKIM (RFC 6376): notices signed by the service verify with an outside verifier (mailauth), its DNS
// lookups answered by this test, never the network; on both databases' delivery paths through a real SMTP
// server. A changed header or body fails. Bad keys and names are clear start-up errors naming the variable.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { describeCheck } from '../src/cli/dkim.js';
import { checkDkimRecord, generateDkimKey } from '../src/notices/dkim/dkim-check.js';
import { dkimRecordName, dkimRecordValue, parseDkimEnv } from '../src/notices/dkim/dkim-key.js';
import { DIALECTS } from './support/databases.js';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink, type SinkMessage } from './support/smtp-sink.js';

const DOMAIN = 'rg.example';
const dir = mkdtempSync(join(tmpdir(), 'resetguard-dkim-'));
const rsaPem = generateDkimKey('rsa');
const edPem = generateDkimKey('ed25519');

/** A resolver that answers exactly one TXT name, as DNS would, and refuses everything else. */
function resolverFor(records: Record<string, string>) {
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const value = rrtype === 'TXT' ? records[name] : undefined;
    if (value === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return [value.match(/.{1,255}/g)!];
  };
}

async function verify(raw: string, selector: string, pem: string) {
  const resolver = resolverFor({ [dkimRecordName({ domain: DOMAIN, selector })]: dkimRecordValue(pem) });
  const { results } = await dkimVerify(Buffer.from(raw), { resolver });
  return results;
}

const dkimEnv = (selector: string, key: string) => ({
  RESETGUARD_MAIL_FROM: `Security <security@${DOMAIN}>`,
  RESETGUARD_DKIM_DOMAIN: DOMAIN,
  RESETGUARD_DKIM_SELECTOR: selector,
  RESETGUARD_DKIM_PRIVATE_KEY: key,
});

describe.each(DIALECTS)('DKIM-signed notices on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let mail: SinkMessage;

  beforeAll(async () => {
    sink = await startSmtpSink();
    // The key as a path to a PEM file (the other form, PEM in the variable, is used for Ed25519 below).
    const file = join(dir, `${kind}.pem`);
    writeFileSync(file, rsaPem, { mode: 0o600 });
    t = await startTestApp(kind, { smtpUrl: sink.url, env: { ...dkimEnv('rg2026', file), RESETGUARD_REPLY_TO: `Help <help@${DOMAIN}>` } });
    await signUpAndIn(t.app, 'signed@example.com', 'correct horse battery staple');
    await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'signed@example.com' } });
    await t.app.resetRequests.drain();
    await t.app.worker.drain(10_000);
    mail = await sink.waitFor((m) => m.headers['x-resetguard-notice'] === 'reset_request', 10_000);
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('verifies with mailauth: rsa-sha256, relaxed/relaxed, covering the contract headers', async () => {
    const [result] = await verify(mail.raw, 'rg2026', rsaPem);
    expect(result!.status.result).toBe('pass');
    expect(result!.signingDomain).toBe(DOMAIN);
    expect(mail.headers['dkim-signature']).toMatch(/a=rsa-sha256;/);
    expect(mail.headers['dkim-signature']).toMatch(/c=relaxed\/relaxed;/);
    const signed = /\bh=([^;]+)/.exec(mail.headers['dkim-signature']!.replace(/\s+/g, ''))![1]!.split(':');
    for (const h of ['from', 'to', 'subject', 'date', 'message-id', 'reply-to', 'auto-submitted', 'x-auto-response-suppress', 'x-resetguard-notice']) expect(signed).toContain(h);
    expect(mail.headers['reply-to']).toBe(`Help <help@${DOMAIN}>`);
  });

  it('fails once a header or the body is changed in transit', async () => {
    const subject = mail.raw.replace(/^Subject: .*$/m, 'Subject: Urgent: confirm your password');
    expect(subject).not.toBe(mail.raw);
    expect((await verify(subject, 'rg2026', rsaPem))[0]!.status.result).toBe('fail');
    const link = mail.raw.replace(/resetguard\.test/, 'resetguard.evil');
    expect(link).not.toBe(mail.raw);
    expect((await verify(link, 'rg2026', rsaPem))[0]!.status.result).not.toBe('pass');
    // And a record for another key does not verify this one.
    expect((await verify(mail.raw, 'rg2026', generateDkimKey('rsa')))[0]!.status.result).toBe('fail');
  });

  it('a retry after a refused attempt is signed again, under the notice\'s one Message-ID', async () => {
    await signUpAndIn(t.app, 'retry@example.com', 'correct horse battery staple');
    sink.setMode('tempfail');
    await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'retry@example.com' } });
    await t.app.resetRequests.drain();
    await t.app.worker.runOnce();
    const [row] = await t.app.db.db.selectFrom('notices').select(['message_id', 'attempts', 'state']).where('recipient', '=', 'retry@example.com').execute();
    expect(row, JSON.stringify(row)).toMatchObject({ attempts: 1, state: 'pending' });
    sink.setMode('accept');
    await new Promise((r) => setTimeout(r, 250)); // past the test's backoff cap
    await t.app.worker.drain(10_000);
    const retried = await sink.waitFor((m) => m.messageId === row!.message_id, 10_000);
    expect((await verify(retried.raw, 'rg2026', rsaPem))[0]!.status.result).toBe('pass');
  });
});

describe('DKIM with Ed25519, and in the dev mailbox', () => {
  let t: TestApp;
  afterAll(async () => t?.close());

  it('signs ed25519-sha256 (RFC 8463) that mailauth verifies, from a PEM given in the variable', async () => {
    t = await startTestApp('sqlite', { env: dkimEnv('ed1', edPem.replace(/\n/g, '\\n')) });
    await signUpAndIn(t.app, 'ed@example.com', 'correct horse battery staple');
    await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'ed@example.com' } });
    await t.app.resetRequests.drain();
    await t.app.worker.drain(10_000);
    const { raw } = await t.app.db.db.selectFrom('dev_mail').select('raw').executeTakeFirstOrThrow();
    const [result] = await verify(raw, 'ed1', edPem);
    expect(raw).toMatch(/^DKIM-Signature: v=1;\r\n a=ed25519-sha256;/);
    expect(result!.status.result).toBe('pass');
    expect((await verify(raw.replace(/^(To: .*)$/m, '$1x'), 'ed1', edPem))[0]!.status.result).toBe('fail');
  });
});

describe('DKIM configuration', () => {
  const base = { NODE_ENV: 'test', RESETGUARD_SECRET: 's'.repeat(40), RESETGUARD_DATABASE_URL: ':memory:' };
  const load = (env: Record<string, string>) => () => loadConfig({ ...base, ...env });

  it('refuses a key that is not a private key, a short RSA key, a partial set, and names with spaces', () => {
    const publicPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const shortPem = generateKeyPairSync('rsa', { modulusLength: 768 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [dkimEnv('s1', publicPem), /RESETGUARD_DKIM_PRIVATE_KEY is not a private key/],
      [dkimEnv('s1', 'not a key at all'), /RESETGUARD_DKIM_PRIVATE_KEY is neither a PEM private key nor a readable file/],
      [dkimEnv('s1', shortPem), /RESETGUARD_DKIM_PRIVATE_KEY is an RSA key of 768 bits; use at least 1024/],
      [dkimEnv('s1', ecPem), /RESETGUARD_DKIM_PRIVATE_KEY must be an RSA or Ed25519 key/],
      [{ ...dkimEnv('has space', rsaPem) }, /RESETGUARD_DKIM_SELECTOR must be a DNS name/],
      [{ ...dkimEnv('s1', rsaPem), RESETGUARD_DKIM_DOMAIN: 'rg example.com' }, /RESETGUARD_DKIM_DOMAIN must be a DNS name/],
      [{ RESETGUARD_DKIM_DOMAIN: DOMAIN }, /missing RESETGUARD_DKIM_SELECTOR, RESETGUARD_DKIM_PRIVATE_KEY/],
      [{ RESETGUARD_REPLY_TO: 'a@b.example, c@d.example' }, /RESETGUARD_REPLY_TO must be one address/],
    ];
    for (const [env, message] of cases) {
      expect(load(env)).toThrow(ConfigError);
      expect(load(env)).toThrow(message);
    }
    expect(load(dkimEnv('s1', rsaPem))().dkim).toMatchObject({ domain: DOMAIN, selector: 's1', algorithm: 'rsa' });
    expect(load({})().dkim).toBeNull();
  });

  it('warns at start in production when no key is configured', async () => {
    const sink = await startSmtpSink();
    const t = await startTestApp('sqlite', { smtpUrl: sink.url, logLevel: 'warn', env: { NODE_ENV: 'production' } });
    try {
      expect(t.logs.join('')).toMatch(/DKIM signing is off/);
    } finally {
      await t.close();
      await sink.stop();
    }
  });

  it('dkim check: match, mismatch, missing, and a clear answer when DNS cannot be reached', async () => {
    const config = parseDkimEnv(dkimEnv('s1', rsaPem))!;
    const name = 's1._domainkey.rg.example';
    const published = (value: string) => async (n: string) => (n === name ? [value.match(/.{1,255}/g)!] : []);
    expect(await checkDkimRecord(config, published(dkimRecordValue(rsaPem)))).toEqual({ status: 'match', name });
    // Whitespace inside the published value is allowed (RFC 6376 §3.6.1).
    expect((await checkDkimRecord(config, published(dkimRecordValue(rsaPem).replace('p=', 'p = ')))).status).toBe('match');
    expect((await checkDkimRecord(config, published(dkimRecordValue(generateDkimKey('rsa'))))).status).toBe('mismatch');
    const missing = await checkDkimRecord(config, async () => {
      throw Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });
    });
    expect(missing.status).toBe('missing');
    expect(describeCheck(missing)).toContain(`${name}. IN TXT ( "v=DKIM1; k=rsa; p=`);
    const unreachable = await checkDkimRecord(config, async () => {
      throw Object.assign(new Error('queryTxt ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    expect(unreachable.status).toBe('dns_unreachable');
    expect(describeCheck(unreachable)).toMatch(/DNS could not be reached/);
  });

  it('dkim keygen writes a 2048-bit key (mode 0600) and prints the record and the settings', () => {
    const out = join(dir, 'keys');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dkim', 'keygen', '--selector', 'mail2026', '--domain', DOMAIN, '--out', out], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, ...base, RESETGUARD_DATABASE_URL: join(dir, 'cli.db') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const file = join(out, 'mail2026.private.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pem = readFileSync(file, 'utf8');
    expect(parseDkimEnv(dkimEnv('mail2026', pem))!.algorithm).toBe('rsa');
    expect(r.stdout).toContain('mail2026._domainkey.rg.example. IN TXT ( "v=DKIM1; k=rsa; p=');
    expect(r.stdout.replace(/" "/g, '').replace(/\s+/g, '')).toContain(dkimRecordValue(pem).replace(/\s+/g, ''));
    expect(r.stdout).toContain(`RESETGUARD_DKIM_PRIVATE_KEY=${file}`);
    const spaced = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dkim', 'keygen', '--selector', 'a b', '--out', out], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, ...base, RESETGUARD_DATABASE_URL: join(dir, 'cli.db') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(spaced.status).toBe(78);
    expect(spaced.stderr).toMatch(/--selector must be a DNS name/);
  });
});
