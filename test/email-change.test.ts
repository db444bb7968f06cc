// Email change with undo (issue 12), over HTTP with the real SMTP sink, on both databases: the new address
// confirms by its mailed link, the old address is told and can undo from its own link (old address back,
// every session ended, a reset forced and mailed, a holder_report finding); a taken address answers the
// same 202 and changes nothing; bad input is a clear 4xx with nothing changed and no mail; tokens are
// single-use, HMAC at rest, and expire; the second factor is asked for when it is on.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, extractResetToken, signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

const PASSWORD = 'a perfectly long passphrase';
const DAY = 86_400_000;

describe.each(DIALECTS)('email change on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 9));
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.http.inject({ method: 'POST', url, payload: payload as object, headers });
  const me = (token: string) => t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const signIn = (email: string, password = PASSWORD) => post('/v1/sessions', { email, password });
  const noticeCount = async () => (await t.app.db.db.selectFrom('notices').select('id').execute()).length;
  const mailTo = (to: string, kind: string) => sink.waitFor((m) => m.to === to && m.headers['x-resetguard-notice'] === kind, 10_000);
  /** The token of the link in the mail of `kind` that reached `to` (the worker runs: the outbox copy is wiped once sent). */
  const mailedToken = async (to: string, kind: string, path: string) => extractResetToken((await mailTo(to, kind)).text, path);

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, clock, logLevel: 'silent', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['account.email_changed', 'account.email_change_undone', 'holder.report'], 'test');
    t.app.worker.start();
    t.app.resetRequests.start(); // POST /v1/me/email answers before it looks: the queue does the rest
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('changes by the mailed link, tells the old address, and the old address undoes it', async () => {
    const { id, token: first } = await signUpAndIn(t.app, 'alice@example.com', PASSWORD);
    const second = (await signIn('alice@example.com')).json().token as string;

    const asked = await post('/v1/me/email', { new_email: ' Alice.New@Example.NET ', password: PASSWORD }, bearer(first));
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ status: 'accepted' });
    const confirmMail = await mailTo('alice.new@example.net', 'email_change_confirm');
    expect(confirmMail.text).toContain('a***@example.com');
    const token = extractResetToken(confirmMail.text, '/email-change');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await t.app.db.db.selectFrom('account_tokens').select('token_hmac').execute();
    expect(stored.map((r) => r.token_hmac)).not.toContain(token);
    expect((await me(first)).json().email).toBe('alice@example.com'); // nothing changes before the link

    const confirmed = await post('/v1/email-changes/confirm', { token }, bearer(first));
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({ status: 'email_changed', account_id: id });
    expect((await post('/v1/email-changes/confirm', { token })).json().code).toBe('invalid_or_expired_token');
    expect((await me(first)).json()).toMatchObject({ email: 'alice.new@example.net', email_verified: true });
    expect((await me(second)).statusCode).toBe(401); // every other session ended
    expect((await signIn('alice.new@example.net')).statusCode).toBe(201);
    expect((await signIn('alice@example.com')).json().code).toBe('invalid_credentials');

    const changedMail = await mailTo('alice@example.com', 'email_changed');
    expect(changedMail.text).toContain('a***@example.net');
    const undoToken = extractResetToken(changedMail.text, '/email-change/undo');
    const undone = await post('/v1/email-changes/undo', { token: undoToken });
    expect(undone.statusCode).toBe(200);
    expect(undone.json()).toEqual({ status: 'email_restored', account_id: id });
    expect((await post('/v1/email-changes/undo', { token: undoToken })).json().code).toBe('invalid_or_expired_token');
    expect((await me(first)).statusCode).toBe(401); // every session ended, the confirming one too
    const account = await t.app.db.db.selectFrom('accounts').select('email').where('id', '=', id).executeTakeFirstOrThrow();
    expect(account.email).toBe('alice@example.com');
    // Whoever changed it cannot sign in with the password any more; the old mailbox gets a reset link.
    expect((await signIn('alice@example.com')).json().code).toBe('invalid_credentials');
    const resetMail = await mailTo('alice@example.com', 'forced_reset');
    const resetToken = extractResetToken(resetMail.text);
    expect((await post('/v1/password-resets/confirm', { token: resetToken, password: 'the rightful owner again 9' })).statusCode).toBe(200);
    expect((await signIn('alice@example.com', 'the rightful owner again 9')).statusCode).toBe(201);

    const findings = await t.app.db.db.selectFrom('findings').select(['kind', 'source']).where('account_id', '=', id).execute();
    expect(findings).toEqual([{ kind: 'holder_report', source: 'holder:email_change_undo' }]);
    const events = await t.app.db.db.selectFrom('webhook_deliveries').select(['event', 'payload']).execute();
    const mine = events.map((e) => ({ event: e.event, data: JSON.parse(e.payload).data })).filter((e) => e.data.account_id === id);
    expect(mine.map((e) => e.event).sort()).toEqual(['account.email_change_undone', 'account.email_changed', 'holder.report']);
    for (const e of events) expect(e.payload).not.toMatch(/alice|example\.net/);

    // The desk's timeline tells the story: the change, the undo, the sessions it ended.
    const viewer = (await t.app.services.operators.create(`viewer ${kind}`, 'viewer')).key;
    const timeline = (await t.app.http.inject({ method: 'GET', url: `/v1/admin/accounts/${id}/timeline?limit=100`, headers: bearer(viewer) })).json();
    const kinds = timeline.items.map((i: { kind: string }) => i.kind);
    expect(kinds).toEqual(expect.arrayContaining(['email_changed', 'email_change_undone', 'session_ended']));
    expect(timeline.items.find((i: { kind: string }) => i.kind === 'email_changed').summary).toContain('alice.new@example.net');
    expect(timeline.items.find((i: { kind: string }) => i.kind === 'email_change_undone').summary).toContain('alice@example.com');
  });

  it('answers a taken address with the same 202, and nothing changes or is mailed', async () => {
    await signUpAndIn(t.app, 'bob@example.com', PASSWORD);
    const { token } = await signUpAndIn(t.app, 'carol@example.com', PASSWORD);
    const before = await noticeCount();
    const jobs = async () => (await t.app.db.db.selectFrom('reset_request_jobs').select('id').execute()).length;
    await t.app.resetRequests.stop(); // hold the queue to see what each request wrote
    try {
      const taken = await post('/v1/me/email', { new_email: 'bob@example.com', password: PASSWORD }, bearer(token));
      expect(await jobs()).toBe(1);
      const free = await post('/v1/me/email', { new_email: 'carol2@example.com', password: PASSWORD }, bearer(token));
      expect(await jobs()).toBe(2); // the same write for both: the answer comes before the look
      expect(taken.statusCode).toBe(202);
      expect(taken.body).toBe(free.body);
      expect(await noticeCount()).toBe(before);
      await t.app.resetRequests.drain();
    } finally {
      t.app.resetRequests.start();
    }
    expect(await noticeCount()).toBe(before + 1);
    const kinds = await t.app.db.db.selectFrom('notices').select('recipient').where('kind', '=', 'email_change_confirm').execute();
    expect(kinds.map((k) => k.recipient)).not.toContain('bob@example.com');
    expect((await me(token)).json().email).toBe('carol@example.com');
  });

  it('refuses bad input with a clear 4xx, changes nothing and mails nothing', async () => {
    const { token } = await signUpAndIn(t.app, 'dave@example.com', PASSWORD);
    const before = await noticeCount();
    const cases: Array<[unknown, number, string]> = [
      [{ new_email: 'dave@example.com', password: PASSWORD }, 400, 'email_unchanged'],
      [{ new_email: 'DAVE@Example.com', password: PASSWORD }, 400, 'email_unchanged'],
      [{ new_email: 'not an address', password: PASSWORD }, 400, 'invalid_email'],
      [{ new_email: 'x@example.com\r\nBcc: evil@evil.test', password: PASSWORD }, 400, 'invalid_email'],
      [{ new_email: 'x@example.com,evil@evil.test', password: PASSWORD }, 400, 'invalid_email'],
      [{ new_email: 'x@example.com', password: 'not the password at all' }, 401, 'invalid_credentials'],
      [{ new_email: ['x@example.com', 'evil@evil.test'], password: PASSWORD }, 400, 'invalid_request'],
      [{ new_email: { a: 'x@example.com' }, password: PASSWORD }, 400, 'invalid_request'],
      [{ new_email: 'x@example.com', password: [PASSWORD] }, 400, 'invalid_request'],
      [{ new_email: 'x@example.com' }, 400, 'invalid_request'],
      [{ new_email: 'x@example.com', password: PASSWORD, totp_code: 123456 }, 400, 'invalid_request'],
    ];
    for (const [payload, status, code] of cases) {
      const r = await post('/v1/me/email', payload, bearer(token));
      expect(r.statusCode, JSON.stringify(payload)).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe(code);
    }
    expect((await post('/v1/me/email', { new_email: 'x@example.com', password: PASSWORD })).statusCode).toBe(401);
    for (const url of ['/v1/email-changes/confirm', '/v1/email-changes/undo']) {
      for (const bad of [['x'], 5, null, { a: 1 }]) expect((await post(url, { token: bad })).statusCode).toBe(400);
      for (const junk of ['', 'nope', 'A'.repeat(43), 'x'.repeat(500)]) expect((await post(url, { token: junk })).json().code).toBe('invalid_or_expired_token');
    }
    await t.app.resetRequests.drain();
    expect(await noticeCount()).toBe(before);
    expect((await me(token)).json().email).toBe('dave@example.com');
  });

  it('uses each token once (one of many concurrent confirms wins), kills earlier requests, and expires', async () => {
    const { token } = await signUpAndIn(t.app, 'erin@example.com', PASSWORD);
    await post('/v1/me/email', { new_email: 'erin-old-request@example.com', password: PASSWORD }, bearer(token));
    const stale = await mailedToken('erin-old-request@example.com', 'email_change_confirm', '/email-change');
    await post('/v1/me/email', { new_email: 'erin2@example.com', password: PASSWORD }, bearer(token));
    const link = await mailedToken('erin2@example.com', 'email_change_confirm', '/email-change');
    expect((await post('/v1/email-changes/confirm', { token: stale })).json().code).toBe('invalid_or_expired_token');
    // A token is good only for its own purpose.
    expect((await post('/v1/email-changes/undo', { token: link })).json().code).toBe('invalid_or_expired_token');
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/v1/email-changes/confirm', { token: link })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.statusCode === 400)).toHaveLength(9);

    const undo = await mailedToken('erin@example.com', 'email_changed', '/email-change/undo');
    clock.advance(15 * DAY); // email_change_undo_days is 14
    expect((await post('/v1/email-changes/undo', { token: undo })).json().code).toBe('invalid_or_expired_token');
    const { token: later } = await signUpAndIn(t.app, 'frank@example.com', PASSWORD);
    await post('/v1/me/email', { new_email: 'frank2@example.com', password: PASSWORD }, bearer(later));
    const slow = await mailedToken('frank2@example.com', 'email_change_confirm', '/email-change');
    clock.advance(DAY + 1);
    expect((await post('/v1/email-changes/confirm', { token: slow })).json().code).toBe('invalid_or_expired_token');
  });

  it('a taker who changes the address twice cannot undo back to their own address', async () => {
    const { id, token } = await signUpAndIn(t.app, 'gina@example.com', PASSWORD);
    const change = async (to: string) => {
      await post('/v1/me/email', { new_email: to, password: PASSWORD }, bearer(token));
      expect((await post('/v1/email-changes/confirm', { token: await mailedToken(to, 'email_change_confirm', '/email-change') }, bearer(token))).statusCode).toBe(200);
    };
    await change('taker1@example.com');
    await change('taker2@example.com');
    const holderUndo = await mailedToken('gina@example.com', 'email_changed', '/email-change/undo');
    const takerUndo = await mailedToken('taker1@example.com', 'email_changed', '/email-change/undo');
    expect((await post('/v1/email-changes/undo', { token: holderUndo })).statusCode).toBe(200);
    expect((await post('/v1/email-changes/undo', { token: takerUndo })).json().code).toBe('invalid_or_expired_token');
    expect((await t.app.db.db.selectFrom('accounts').select('email').where('id', '=', id).executeTakeFirstOrThrow()).email).toBe('gina@example.com');
  });

  it('an undo takes the old address back from an unverified sign-up made with it meanwhile', async () => {
    const { id, token } = await signUpAndIn(t.app, 'kim@example.com', PASSWORD);
    await post('/v1/me/email', { new_email: 'kim-taker@example.com', password: PASSWORD }, bearer(token));
    expect((await post('/v1/email-changes/confirm', { token: await mailedToken('kim-taker@example.com', 'email_change_confirm', '/email-change') })).statusCode).toBe(200);
    // The taker squats the old address with a sign-up they cannot confirm.
    expect((await post('/v1/accounts', { email: 'kim@example.com', password: 'the squatters passphrase' })).statusCode).toBe(202);
    await t.app.resetRequests.drain();
    const squatter = await t.app.db.db.selectFrom('accounts').select(['id', 'email_verified']).where('email', '=', 'kim@example.com').executeTakeFirstOrThrow();
    expect(squatter.email_verified).toBe(0);

    expect((await post('/v1/email-changes/undo', { token: await mailedToken('kim@example.com', 'email_changed', '/email-change/undo') })).statusCode).toBe(200);
    const owner = await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', 'kim@example.com').executeTakeFirstOrThrow();
    expect(owner.id).toBe(id);
    const gone = await t.app.db.db.selectFrom('accounts').select(['email', 'deleted_at']).where('id', '=', squatter.id).executeTakeFirstOrThrow();
    expect(gone.deleted_at).not.toBeNull();
    expect(gone.email).not.toContain('kim@');
  });

  it('an undo removes a second factor turned on after the change, and keeps one from before', async () => {
    const totpOn = async (token: string) => {
      const { secret } = (await post('/v1/me/totp', { password: PASSWORD }, bearer(token))).json();
      expect((await post('/v1/me/totp/confirm', { code: authenticator.clone({ epoch: clock.now() }).generate(secret) }, bearer(token))).statusCode).toBe(200);
      return secret as string;
    };
    const changeAndUndo = async (token: string, from: string, to: string, extra: Record<string, string> = {}) => {
      expect((await post('/v1/me/email', { new_email: to, password: PASSWORD, ...extra }, bearer(token))).statusCode).toBe(202);
      expect((await post('/v1/email-changes/confirm', { token: await mailedToken(to, 'email_change_confirm', '/email-change') }, bearer(token))).statusCode).toBe(200);
      return async () => expect((await post('/v1/email-changes/undo', { token: await mailedToken(from, 'email_changed', '/email-change/undo') })).statusCode).toBe(200);
    };
    const factor = (id: string) => t.app.db.db.selectFrom('second_factors').select('account_id').where('account_id', '=', id).execute();

    const taken = await signUpAndIn(t.app, 'ines@example.com', PASSWORD);
    const undoTaken = await changeAndUndo(taken.token, 'ines@example.com', 'ines-taker@example.com');
    await totpOn(taken.token); // the taker locks the door behind them
    await undoTaken();
    expect(await factor(taken.id)).toEqual([]);

    const own = await signUpAndIn(t.app, 'jon@example.com', PASSWORD);
    const secret = await totpOn(own.token);
    clock.advance(31_000);
    const undoOwn = await changeAndUndo(own.token, 'jon@example.com', 'jon2@example.com', { totp_code: authenticator.clone({ epoch: clock.now() }).generate(secret) });
    await undoOwn();
    expect(await factor(own.id)).toHaveLength(1);
  });

  it('asks for the second factor when it is on (and GET /v1/me says whether it is)', async () => {
    const { token } = await signUpAndIn(t.app, 'hana@example.com', PASSWORD);
    expect((await me(token)).json()).toMatchObject({ email_verified: true, second_factor: { state: 'off', recovery_codes_left: 0 } });
    const { secret } = (await post('/v1/me/totp', { password: PASSWORD }, bearer(token))).json();
    expect((await me(token)).json().second_factor).toEqual({ state: 'pending', recovery_codes_left: 0 });
    const code = () => authenticator.clone({ epoch: clock.now() }).generate(secret);
    expect((await post('/v1/me/totp/confirm', { code: code() }, bearer(token))).statusCode).toBe(200);
    expect((await me(token)).json().second_factor).toEqual({ state: 'on', recovery_codes_left: 10 });
    clock.advance(31_000);
    const without = await post('/v1/me/email', { new_email: 'hana2@example.com', password: PASSWORD }, bearer(token));
    expect(without.statusCode).toBe(401);
    expect(without.json().code).toBe('second_factor_required');
    const wrong = await post('/v1/me/email', { new_email: 'hana2@example.com', password: PASSWORD, totp_code: '000000' }, bearer(token));
    expect(wrong.json().code).toBe('invalid_second_factor');
    const ok = await post('/v1/me/email', { new_email: 'hana2@example.com', password: PASSWORD, totp_code: code() }, bearer(token));
    expect(ok.statusCode).toBe(202);
    await t.app.resetRequests.drain();
    const notices = await t.app.db.db.selectFrom('notices').select('kind').where('recipient', '=', 'hana2@example.com').execute();
    expect(notices.map((n) => n.kind)).toEqual(['email_change_confirm']);
  });
});
