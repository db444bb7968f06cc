// Console pages of detection (findings, breach dumps), the audit log, webhooks, settings and the dev
// mailbox, with the data they show: accounts whose passwords leak in a dump that a real worker matches,
// a CLI import still running, stuffing and sign-in findings, one webhook receiver that answers and one
// that is gone, a changed setting, and the audit entries all of that wrote.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { BreachDumpsStore } from '../../../src/detection/breach-dumps/breach-dumps.store.js';
import { SEED_PASSWORD, seedAccounts } from '../../support/seed.js';
import type { ConsoleScene, ShotProvider } from './scene.js';

/** A receiver on 127.0.0.1 that accepts every delivery; unref'd, so it never keeps a process alive. */
async function startReceiver(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/resetguard`;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function seed(scene: ConsoleScene): Promise<{ doneDump: string; runningDump: string; webhookToDelete: string }> {
  const { app, operators } = scene;
  const svc = app.services;
  const operator = { id: operators.operator.id, name: operators.operator.name, role: 'operator' as const };

  // Webhooks first, so the findings below are delivered (or not) to them.
  const receiver = await startReceiver();
  await svc.webhooks.create(receiver, ['finding.created', 'campaign.halted', 'guard.tripwire_tripped'], operators.admin.id);
  // A receiver that was switched off: nothing listens on port 9, so its deliveries fail after retries.
  const dead = await svc.webhooks.create('http://127.0.0.1:9/old-siem', ['finding.created', 'campaign.created'], operators.admin.id);

  // 200 customers; 12 of them reused their password on a site whose combo list leaked.
  const accounts = await seedAccounts(app.db, 200, 'customer');
  const leaked = accounts.slice(0, 12).map((a) => `${a.email}:${SEED_PASSWORD}`);
  const wrong = accounts.slice(12, 40).map((a, i) => `${a.email}:summer20${10 + i}!`);
  const strangers = Array.from({ length: 120 }, (_, i) => `someone${i}@elsewhere.example:hunter${i}`);
  const dump = [...leaked, ...wrong, ...strangers, 'this line is not a credential', ''].join('\n');
  const view = await svc.breachDumps.upload(Readable.from([Buffer.from(dump)]), { label: 'shop.example 2024 combo list' }, operator);
  await until(async () => (await svc.breachDumps.view(view.id)).state === 'completed', 'the dump to be matched');

  // A large CLI import in progress on another machine: its counters as a checkpoint leaves them.
  const now = app.clock.now();
  const running = randomUUID();
  await new BreachDumpsStore(app.db.db).insert(app.db.db, {
    id: running, label: 'collection #7 (part 3 of 12)', origin: 'file', state: 'running', created_by: 'cli:secops@bastion-2', created_at: now - 260_000,
    started_at: now - 255_000, updated_at: now - 400, finished_at: null, bytes_total: 4_812_005_376, bytes_done: 1_923_331_072,
    lines: 51_204_336, invalid_lines: 88_410, matched_emails: 1_907, candidate_pairs: 1_644, verified: 1_612, confirmed_reuses: 3,
    error: null, cancel_requested: 0, attempts: 1, locked_by: 'bastion-2:4711:x', locked_until: now + 3_600_000,
  });

  // What the sign-in detectors would have found.
  await svc.findings.record(
    accounts.slice(60, 66).map((a, i) => ({ kind: 'credential_stuffing' as const, account_id: a.id, source: 'stuffing:ip:203.0.113.77', evidence: { failures: 212 + i * 7, distinct_accounts: 64, window_seconds: 600 }, dedupe_key: `shots:stuff:${a.id}` })),
  );
  await svc.findings.record(
    accounts.slice(70, 73).map((a) => ({ kind: 'breached_password' as const, account_id: a.id, source: 'signin:pwned', evidence: { pwned_count: 3_861_493 }, dedupe_key: `shots:pwned:${a.id}` })),
  );

  // An operator already acted on the stuffing findings: a campaign made from them (not started).
  const campaign = await app.http.inject({
    method: 'POST',
    url: '/v1/admin/campaigns',
    headers: { authorization: `Bearer ${operators.operator.key}` },
    payload: { reason: 'Credential stuffing from one address', targets: { findings: { source: 'stuffing:ip:203.0.113.77' } }, expected_count: 6 },
  });
  if (campaign.statusCode !== 201) throw new Error(`campaign from findings: ${campaign.statusCode} ${campaign.body}`);

  // An admin tightened one guard rail.
  await svc.settings.patch({ approval_threshold: 50 }, operators.admin.id);
  // A customer asked for a reset link: the dev mailbox (no SMTP here) has the mail.
  await svc.recovery.issueResetLink(accounts[150]!.email, '198.51.100.23');
  await until(async () => (await app.http.inject({ method: 'GET', url: '/v1/dev/mail' })).json<{ items: unknown[] }>().items.length > 0, 'the reset mail');
  await until(async () => [...(await svc.webhooks.deliveryStats()).values()].every((s) => s.counts.pending + s.counts.sending === 0), 'webhook deliveries to settle');
  return { doneDump: view.id, runningDump: running, webhookToDelete: dead.id };
}

export const adminShots: ShotProvider = async (scene) => {
  const { doneDump, runningDump, webhookToDelete } = await seed(scene);
  // The creation shot adds a subscription each time it runs (once per width): the list shot removes
  // those again, so every width shows the same list.
  const dropCreated = async () => {
    for (const s of await scene.app.services.webhooks.list()) if (s.url === 'http://127.0.0.1:9/resetguard') await scene.app.services.webhooks.remove(s.id, scene.operators.admin.id);
  };
  return [
    { name: 'findings', path: '/console/findings', caption: '`/console/findings`: what the detectors found, newest first, filters, the campaigns made from each, and "Reset these accounts…" into a new campaign' },
    { name: 'findings-dump', path: `/console/findings?source=breach_dump%3A${doneDump}`, caption: 'the findings of one breach dump (source filter)', as: 'viewer' },
    { name: 'breach-dumps', path: '/console/breach-dumps', caption: '`/console/breach-dumps`: upload a dump (a file with upload progress, or pasted lines without JavaScript) and the recent dumps' },
    { name: 'breach-dump-done', path: `/console/breach-dumps/${doneDump}`, caption: 'a matched dump: lines read, accounts matched, passwords checked, reuses found (never a password)' },
    { name: 'breach-dump-running', path: `/console/breach-dumps/${runningDump}`, caption: 'a dump being matched: refreshed in place while it runs, with a cancel button' },
    { name: 'audit', path: '/console/audit', caption: '`/console/audit`: the hash-chained audit log, newest first, paged both ways', as: 'viewer' },
    { name: 'audit-verify', path: '/console/audit/verify', caption: '"Verify the chain": every entry\'s hash recomputed from the first', as: 'viewer' },
    {
      name: 'webhooks',
      path: '/console/webhooks',
      caption: '`/console/webhooks`: subscriptions with their delivery health; admins add and delete',
      as: 'admin',
      then: async (page) => {
        await dropCreated();
        await page.reload();
      },
    },
    {
      name: 'webhook-created',
      path: '/console/webhooks',
      caption: 'a new subscription: its signing secret is shown this once',
      as: 'admin',
      then: async (page) => {
        await page.fill('#wh-url', 'http://127.0.0.1:9/resetguard');
        await page.check('input[value="campaign.halted"]');
        await page.check('input[value="guard.tripwire_tripped"]');
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/webhooks"] button[type=submit]')]);
      },
    },
    { name: 'webhook-delete', path: `/console/webhooks/${webhookToDelete}/delete`, caption: 'deleting a subscription says what is dropped', as: 'admin' },
    { name: 'settings', path: '/console/settings', caption: '`/console/settings`: every setting with its value, default and meaning, guard rails first (admins edit)', as: 'admin' },
    {
      name: 'settings-error',
      path: '/console/settings',
      caption: 'a refused value is shown at its field; nothing is saved',
      as: 'admin',
      then: async (page) => {
        await page.fill('#s-canary_size', '0');
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/settings"] button[type=submit]')]);
      },
    },
    { name: 'settings-viewer', path: '/console/settings', caption: 'settings as a viewer sees them: read-only', as: 'viewer' },
    { name: 'dev-mailbox', path: '/dev/mail', caption: '`/dev/mail`: the dev mailbox, linked from the console when no SMTP is configured' },
  ];
};
