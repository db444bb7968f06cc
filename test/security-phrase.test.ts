// The personal security phrase over HTTP with a real SMTP server, on both databases: bad input stores
// nothing; a set phrase shows in every notice delivered to that holder (and in none to a holder without
// one); it is sealed at rest and never appears in logs, audit entries, webhook payloads, operator
// responses, notice payloads or any other table.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { WEBHOOK_EVENTS } from '../src/webhooks/webhook-events.js';

const PASSWORD = 'correct horse battery staple';
const PHRASE = 'Blue heron at dawn 7';
const PHRASE_RE = /heron/i;

describe.each(DIALECTS)('security phrase on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let holder: { id: string; token: string };
  let operatorKey: string;
  const email = 'phrase-holder@example.com';
  const api = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, token: string, payload?: unknown) =>
    t.app.http.inject({ method, url, headers: bearer(token), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const mailsTo = async (to: string) => {
    await t.app.worker.drain(10_000);
    return sink.messages.filter((m) => m.to === to);
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'debug', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    holder = await signUpAndIn(t.app, email, PASSWORD);
    operatorKey = (await t.app.services.operators.create('phrase test', 'admin')).key;
    // A webhook subscription (never delivered here: the test only reads what would be sent).
    const hook = await api('POST', '/v1/admin/webhooks', operatorKey, { url: 'http://127.0.0.1:9/hook', events: [...WEBHOOK_EVENTS] });
    expect(hook.statusCode).toBeLessThan(300);
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('refuses bad phrases with 400 invalid_security_phrase (or invalid_request) and stores nothing', async () => {
    const cases: Array<[unknown, string]> = [
      ['see https://evil.example/login', 'link'],
      ['visit paypal.com now', 'link'],
      ['abc\u202Eevil', 'characters'],
      ['tab\there', 'characters'],
      ['x'.repeat(200), 'length'],
      ['ab', 'length'],
      ['<b>bold</b>', 'characters'],
      [email, 'email'],
      [`my ${email.toUpperCase()} yes`, 'email'],
      [PASSWORD, 'password'],
      ['battery', 'password'],
    ];
    for (const [phrase, reason] of cases) {
      const r = await api('PUT', '/v1/me/security-phrase', holder.token, { phrase, password: PASSWORD });
      expect(r.statusCode, JSON.stringify(phrase)).toBe(400);
      expect(r.json()).toMatchObject({ code: 'invalid_security_phrase', reason });
    }
    for (const body of [{ phrase: ['a', 'list'], password: PASSWORD }, { phrase: 42, password: PASSWORD }, { password: PASSWORD }, { phrase: PHRASE }]) {
      const r = await api('PUT', '/v1/me/security-phrase', holder.token, body);
      expect(r.statusCode).toBe(400);
      expect(r.json().code).toBe('invalid_request');
    }
    const wrong = await api('PUT', '/v1/me/security-phrase', holder.token, { phrase: PHRASE, password: 'not the password' });
    expect(wrong.statusCode).toBe(401);
    expect((await t.app.http.inject({ method: 'PUT', url: '/v1/me/security-phrase', payload: { phrase: PHRASE, password: PASSWORD } })).statusCode).toBe(401);
    expect(await t.app.db.db.selectFrom('security_phrases').selectAll().execute()).toEqual([]);
    expect((await api('GET', '/v1/me', holder.token)).json().security_phrase_set).toBe(false);
  });

  it('is set with the password, sealed at rest, and announced by a security_phrase_changed notice showing it', async () => {
    const r = await api('PUT', '/v1/me/security-phrase', holder.token, { phrase: `  ${PHRASE.replace(' ', '   ')} `, password: PASSWORD });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ security_phrase_set: true });
    const me = (await api('GET', '/v1/me', holder.token)).json();
    expect(me.security_phrase_set).toBe(true);
    expect(JSON.stringify(me)).not.toMatch(PHRASE_RE);
    const row = await t.app.db.db.selectFrom('security_phrases').selectAll().executeTakeFirstOrThrow();
    expect(row.sealed).not.toMatch(PHRASE_RE);
    expect(t.app.keyring.unseal(row.sealed)).toBe(PHRASE); // trimmed, inner spaces collapsed

    const mail = (await mailsTo(email)).find((m) => m.headers['x-resetguard-notice'] === 'security_phrase_changed')!;
    expect(mail.subject).toBe('You set a security phrase');
    expect(mail.text.split('\n').slice(0, 4).join('\n')).toContain(`Your security phrase: ${PHRASE}`);
    expect(mail.html).toContain(`<strong>${PHRASE}</strong>`);
    for (const [name, value] of Object.entries(mail.headers)) if (name !== 'dkim-signature') expect(value, name).not.toMatch(PHRASE_RE);
  });

  it('shows in every notice kind delivered to the holder, and in none to a holder without a phrase', async () => {
    const other = await signUpAndIn(t.app, 'no-phrase@example.com', PASSWORD);
    for (const [who, token] of [[email, holder.token], ['no-phrase@example.com', other.token]] as const) {
      expect((await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: who } })).statusCode).toBe(202);
      expect((await api('POST', '/v1/me/password', token, { current_password: PASSWORD, new_password: 'another long passphrase 9' })).statusCode).toBe(200);
    }
    await t.app.resetRequests.drain();
    for (const id of [holder.id, other.id]) {
      const forced = await api('POST', `/v1/admin/accounts/${id}/force-reset`, operatorKey, { reason: 'phrase test' });
      expect(forced.statusCode).toBe(202);
      await t.app.worker.drain(10_000);
      const reverted = await api('POST', `/v1/admin/campaigns/${forced.json().campaign_id}/revert`, operatorKey, { reason: 'phrase test revert' });
      expect(reverted.statusCode).toBe(200);
    }
    const kinds = ['security_phrase_changed', 'reset_request', 'password_changed', 'forced_reset', 'correction'];
    const mine = await mailsTo(email);
    expect(new Set(mine.map((m) => m.headers['x-resetguard-notice']))).toEqual(new Set(kinds));
    for (const m of mine) {
      expect(m.text, m.subject).toContain(`Your security phrase: ${PHRASE}`);
      expect(m.html, m.subject).toContain(`<strong>${PHRASE}</strong>`);
      expect(m.subject).not.toMatch(PHRASE_RE);
      expect(m.headers['auto-submitted']).toBe('auto-generated');
      expect(m.headers['x-auto-response-suppress']).toBe('All');
    }
    const theirs = await mailsTo('no-phrase@example.com');
    expect(new Set(theirs.map((m) => m.headers['x-resetguard-notice']))).toEqual(new Set(kinds.slice(1)));
    for (const m of theirs) expect(m.raw).not.toMatch(/security phrase:/i);
  });

  it('never appears in logs, audit, webhooks, operator responses or any stored row', async () => {
    expect(t.logs.join('')).not.toMatch(PHRASE_RE);
    const audit = await api('GET', '/v1/admin/audit?limit=500', operatorKey);
    expect(audit.statusCode).toBe(200);
    expect(audit.body).not.toMatch(PHRASE_RE);
    const campaigns = await api('GET', '/v1/admin/campaigns', operatorKey);
    expect(campaigns.statusCode).toBe(200);
    for (const c of campaigns.json().items as Array<{ id: string }>) {
      for (const url of [`/v1/admin/campaigns/${c.id}`, `/v1/admin/campaigns/${c.id}/targets`]) expect((await api('GET', url, operatorKey)).body).not.toMatch(PHRASE_RE);
    }
    const codes = await t.app.db.db.selectFrom('notices').select('verification_code').where('account_id', '=', holder.id).execute();
    for (const { verification_code } of codes) {
      const lookup = await api('POST', '/v1/admin/notices/lookup', operatorKey, { code: verification_code });
      expect(lookup.body).not.toMatch(PHRASE_RE);
    }
    // Every table, every row, as text: webhook deliveries, notice payloads, audit, findings… Only the
    // sealed value may hold it, and that does not show it.
    const tables = await t.app.db.db.introspection.getTables();
    expect(tables.map((tb) => tb.name)).toContain('webhook_deliveries');
    for (const table of tables) {
      const rows = await sql`select * from ${sql.table(table.name)}`.execute(t.app.db.db);
      expect(JSON.stringify(rows.rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)), table.name).not.toMatch(PHRASE_RE);
    }
  });

  it('is removed with the password (204), and the removal is announced without a phrase', async () => {
    const password = 'another long passphrase 9';
    expect((await api('DELETE', '/v1/me/security-phrase', holder.token, { password: 'wrong password here' })).statusCode).toBe(401);
    const before = sink.messages.length;
    const r = await api('DELETE', '/v1/me/security-phrase', holder.token, { password });
    expect(r.statusCode).toBe(204);
    expect((await api('GET', '/v1/me', holder.token)).json().security_phrase_set).toBe(false);
    await t.app.worker.drain(10_000);
    const removed = sink.messages.slice(before).filter((m) => m.to === email);
    expect(removed.map((m) => m.subject)).toEqual(['Your security phrase was removed']);
    expect(removed[0]!.raw).not.toMatch(/security phrase:/i);
  });
});

describe.each(DIALECTS)('security phrase in the dev mailbox on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is masked in both list views, while the stored message keeps it', async () => {
    const holder = await signUpAndIn(t.app, 'dev-phrase@example.com', PASSWORD);
    expect((await t.app.http.inject({ method: 'PUT', url: '/v1/me/security-phrase', headers: bearer(holder.token), payload: { phrase: PHRASE, password: PASSWORD } })).statusCode).toBe(200);
    await t.app.worker.drain(10_000);
    const json = await t.app.http.inject({ method: 'GET', url: '/v1/dev/mail?to=dev-phrase@example.com' });
    const [item] = json.json().items as Array<{ text: string; html: string; notice_kind: string }>;
    expect(item!.notice_kind).toBe('security_phrase_changed');
    expect(item!.text).toContain('Your security phrase: (hidden in the dev mailbox list)');
    expect(item!.html).toContain('Your security phrase: <strong>(hidden in the dev mailbox list)</strong>');
    expect(json.body).not.toMatch(PHRASE_RE);
    const page = await t.app.http.inject({ method: 'GET', url: '/dev/mail' });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(PHRASE_RE);
    const stored = await t.app.db.db.selectFrom('dev_mail').select('raw').executeTakeFirstOrThrow();
    expect(stored.raw).toMatch(PHRASE_RE);
  });
});
