// /console/webhooks over HTTP: any operator reads, admins add and delete (CSRF on both), both field
// errors shown at once, and the signing secret on the creation page alone — never on the list, never
// in the database in clear, never in the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';

describe('console webhooks pages', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;
  let operator: ConsoleBrowser;
  const count = async () => (await t.app.services.webhooks.list()).length;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { ...CONSOLE_TEST_ENV, RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    admin = await consoleBrowser(t, 'admin');
    operator = await consoleBrowser(t, 'operator');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets an operator read but not add or delete', async () => {
    const existing = await t.app.services.webhooks.create('http://127.0.0.1:9/siem', ['campaign.halted'], 'seed');
    const page = await operator.get('/console/webhooks');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('http://127.0.0.1:9/siem');
    expect(page.body).not.toContain('action="/console/webhooks"');
    expect(page.body).not.toContain('/delete');
    expect((await operator.post('/console/webhooks', { url: 'http://127.0.0.1:9/evil', events: 'finding.created' })).statusCode).toBe(403);
    expect((await operator.get(`/console/webhooks/${existing.id}/delete`)).statusCode).toBe(403);
    expect((await operator.post(`/console/webhooks/${existing.id}/delete`, {})).statusCode).toBe(403);
    expect(await count()).toBe(1);
    await t.app.services.webhooks.remove(existing.id, 'test');
  });

  it('shows a bad URL and a missing event at their fields, keeping what was typed', async () => {
    await admin.get('/console/webhooks');
    const r = await admin.post('/console/webhooks', { url: 'http://user:pw@127.0.0.1:9/x' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('id="wh-url-error">url must not contain credentials');
    expect(r.body).toContain('id="wh-events-error">Choose at least one event.');
    expect(r.body).toContain('value="http://user:pw@127.0.0.1:9/x"');
    expect(await count()).toBe(0);
    expect((await admin.post('/console/webhooks', { url: 'http://127.0.0.1:9/x', events: 'not.an.event' })).body).toContain('Unknown event(s) &#34;not.an.event&#34;');
    expect((await admin.post('/console/webhooks', { url: 'http://127.0.0.1:9/x', events: 'finding.created' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect(await count()).toBe(0);
  });

  it('shows the secret once, on the answer to the form', async () => {
    await admin.get('/console/webhooks');
    const body = new URLSearchParams([['url', 'http://127.0.0.1:9/resetguard?tenant=7'], ['events', 'campaign.halted'], ['events', 'finding.created']]);
    body.set('csrf', /name="csrf" value="([^"]+)"/.exec((await admin.get('/console/webhooks')).body)![1]!);
    const r = await t.app.http.inject({ method: 'POST', url: '/console/webhooks', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `rg_console=${admin.jar.get('rg_console')}` }, payload: body.toString() });
    expect(r.statusCode).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    const secret = /<textarea id="secret" readonly rows="2" autocomplete="off" spellcheck="false">(whsec_[^<]+)<\/textarea>/.exec(r.body)?.[1];
    expect(secret).toBeDefined();
    expect(r.body).toContain('This is the only time the secret is shown.');
    const [sub] = await t.app.services.webhooks.list();
    expect(sub).toMatchObject({ url: 'http://127.0.0.1:9/resetguard?tenant=7', events: ['campaign.halted', 'finding.created'] });
    const row = await t.app.db.db.selectFrom('webhook_subscriptions').selectAll().executeTakeFirstOrThrow();
    expect(row.secret).not.toContain(secret!.slice(6));
    expect(t.app.keyring.unseal(row.secret)).toBe(secret);
    const list = await admin.get('/console/webhooks');
    expect(list.body).toContain('http://127.0.0.1:9/resetguard?tenant=7');
    expect(list.body).not.toContain(secret!);
    expect(list.body).not.toContain(secret!.slice(6, 20));
    expect(t.logs.join('')).not.toContain(secret!.slice(6, 20));
  });

  it('shows delivery counts, then deletes with a confirmation that states what is dropped', async () => {
    const [sub] = await t.app.services.webhooks.list();
    await t.app.services.webhooks.emit(t.app.db.db, 'finding.created', { finding_id: 'f1' }, 'finding.created:f1');
    await t.app.services.webhooks.emit(t.app.db.db, 'finding.created', { finding_id: 'f2' }, 'finding.created:f2');
    const list = await admin.get('/console/webhooks');
    expect(list.body).toContain('0 delivered · 2 queued');
    const confirm = await admin.get(`/console/webhooks/${sub!.id}/delete`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Its 2 undelivered messages are dropped.');
    expect((await admin.post(`/console/webhooks/${sub!.id}/delete`, {}, { csrf: 'forged' })).statusCode).toBe(403);
    expect(await count()).toBe(1);
    const gone = await admin.post(`/console/webhooks/${sub!.id}/delete`, {});
    expect(gone.statusCode).toBe(303);
    expect(gone.headers.location).toBe('/console/webhooks?done=deleted');
    expect(await count()).toBe(0);
    const audited = (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.subject === `webhook:${sub!.id}`);
    expect(audited.map((e) => [e.action, e.actor])).toEqual([
      ['webhook.created', `operator:${admin.operatorId}`],
      ['webhook.deleted', `operator:${admin.operatorId}`],
    ]);
    expect(audited[0]!.data).toEqual({ host: '127.0.0.1:9', events: ['campaign.halted', 'finding.created'] });
    expect((await admin.get(`/console/webhooks/${sub!.id}/delete`)).statusCode).toBe(404);
    expect((await admin.post(`/console/webhooks/${sub!.id}/delete`, {})).statusCode).toBe(404);
  });
});
