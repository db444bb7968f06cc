// `resetguard demo [--accounts N]`: seeds the configured database with something to try the guard rails
// on: N accounts sharing one known password, three operators (keys printed once), one finished
// single-account forced reset, and a 300-target campaign waiting for a second operator's approval.
//
// Running it again does not fail: existing demo accounts are kept as they are, a finished demo reset or
// a demo campaign still awaiting approval is reused, and new operators are created (a key is shown only
// when it is made, so an old one cannot be printed again).
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { AccountsStore } from '../accounts/accounts.store.js';
import { createPasswordHasher } from '../accounts/password-hasher.js';
import { normalizePassword } from '../accounts/password-policy.js';
import { createApp, type App } from '../app.js';
import { CampaignsStore, type CampaignRow } from '../campaigns/campaigns.store.js';
import { loadConfig, type Config } from '../config.js';
import type { OperatorIdentity } from '../operators/operators.service.js';

/** Not a secret: printed at the end, the same for every demo account. Long enough, not on any list. */
export const DEMO_PASSWORD = 'demo lantern orchard 2014';
export const DEMO_DOMAIN = 'demo.example';
const SINGLE_REASON = 'demo: credentials of this account were seen in a third-party breach';
const CAMPAIGN_REASON = 'demo: credential stuffing from a botnet hit these accounts';
const CAMPAIGN_SIZE = 300;
const CHUNK = 500;
/** How far back a re-run looks for demo campaigns to reuse. */
const REUSE_SCAN = 200;

export const demoEmail = (i: number, width: number) => `user${String(i).padStart(width, '0')}@${DEMO_DOMAIN}`;

export interface DemoResult {
  database: string;
  password: string;
  accounts: { total: number; created: number; existing: number; first: string; last: string };
  operators: Array<OperatorIdentity & { key: string }>;
  campaigns: {
    single: { id: string; state: string; target: string; reused: boolean } | null;
    pending: { id: string; state: string; target_count: number; expected_count: number; verdict: string; reused: boolean } | null;
  };
}

function accountCount(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('expected an integer 1–100000');
  return n;
}

/**
 * Creates the missing demo accounts. Hashing 1,000 passwords at argon2id's OWASP minimum would take
 * half a minute, so one hash is made (through signUp, which also checks the password policy) and copied
 * into every other new account: the same password gives a working sign-in either way. A demo data set
 * with one salt for all is fine; real accounts never share one.
 */
async function seedAccounts(app: App, emails: string[], hashPassword: (pw: string) => Promise<string>): Promise<{ ids: Map<string, string>; created: number }> {
  const accounts = new AccountsStore(app.db.db);
  const ids = new Map<string, string>();
  for (let i = 0; i < emails.length; i += CHUNK) {
    for (const r of await accounts.idsByEmail(emails.slice(i, i + CHUNK))) ids.set(r.email, r.id);
  }
  const missing = emails.filter((e) => !ids.has(e));
  if (missing.length === 0) return { ids, created: 0 };

  let created = 0;
  let hash: string;
  const first = missing[0]!;
  if (first === emails[0]) {
    const account = await app.services.accounts.signUp(first, DEMO_PASSWORD);
    ids.set(first, account.id);
    created++;
    missing.shift();
    hash = (await accounts.findCredential(app.db.db, account.id))!.hash;
  } else {
    hash = await hashPassword(normalizePassword(DEMO_PASSWORD));
  }
  const now = Date.now();
  for (let i = 0; i < missing.length; i += CHUNK) {
    // Another process may add one of these (or a lookalike) meanwhile: the unique indexes decide, and
    // only accounts inserted here get a credential.
    const inserted = await accounts.insertManyWithCredentials(
      missing.slice(i, i + CHUNK).map((email) => ({ account: { id: randomUUID(), email, created_at: now, password_changed_at: now }, hash, scheme: 'argon2id' })),
      now,
    );
    for (const a of inserted) ids.set(a.email, a.id);
    created += inserted.length;
  }
  return { ids, created };
}

async function seedDemo(app: App, count: number, hashPassword: (pw: string) => Promise<string>): Promise<DemoResult> {
  const width = Math.max(4, String(count).length);
  const emails = Array.from({ length: count }, (_, i) => demoEmail(i + 1, width));
  const { ids, created } = await seedAccounts(app, emails, hashPassword);

  const operators = [];
  for (const [name, role] of [['demo-operator', 'operator'], ['demo-approver', 'approver'], ['demo-admin', 'admin']] as const) {
    operators.push(await app.services.operators.create(name, role));
  }
  const operator = operators[0]!;

  const recent = await new CampaignsStore(app.db.db, app.db.dialect).list(REUSE_SCAN);
  const reusable = (kind: string, reason: string, state: string): CampaignRow | undefined => recent.find((c) => c.kind === kind && c.reason === reason && c.state === state);

  // The single reset takes the last account, the campaign the first ones, so they never overlap and the
  // accounts between them keep working for sign-in.
  const singleEmail = emails[emails.length - 1]!;
  let single: DemoResult['campaigns']['single'] = null;
  const oldSingle = reusable('single', SINGLE_REASON, 'completed');
  if (oldSingle) {
    single = { id: oldSingle.id, state: oldSingle.state, target: singleEmail, reused: true };
  } else {
    const c = await app.services.campaigns.forceResetOne(ids.get(singleEmail)!, SINGLE_REASON, operator);
    single = { id: c.id, state: c.state, target: singleEmail, reused: false };
  }

  let pending: DemoResult['campaigns']['pending'] = null;
  const targets = emails.slice(0, Math.min(CAMPAIGN_SIZE, count - 1));
  const oldPending = reusable('campaign', CAMPAIGN_REASON, 'awaiting_approval');
  if (oldPending) {
    pending = { id: oldPending.id, state: oldPending.state, target_count: oldPending.target_count, expected_count: oldPending.expected_count, verdict: oldPending.guard_verdict, reused: true };
  } else if (targets.length > 0) {
    const c = await app.services.campaigns.create({ reason: CAMPAIGN_REASON, targets: { emails: targets }, expected_count: targets.length }, operator);
    pending = { id: c.id, state: c.state, target_count: c.target_count, expected_count: c.expected_count, verdict: c.guard_verdict, reused: false };
  }

  return {
    database: describeDatabase(app.config),
    password: DEMO_PASSWORD,
    accounts: { total: count, created, existing: count - created, first: emails[0]!, last: singleEmail },
    operators,
    campaigns: { single, pending },
  };
}

function describeDatabase(config: Config): string {
  if (config.database.kind === 'sqlite') return `SQLite ${config.database.path}`;
  const url = new URL(config.database.url);
  url.password = '';
  return `PostgreSQL ${url.host}${url.pathname}`;
}

function report(r: DemoResult, base: string): string {
  const [op, approver, admin] = r.operators;
  const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    `demo data in ${r.database}`,
    '',
    `accounts: ${r.accounts.first} … ${r.accounts.last} (${r.accounts.created} created, ${r.accounts.existing} already there)`,
    `password of every demo account: ${r.password}`,
    '',
    'operators (API keys are shown once: keep them now):',
    ...r.operators.map((o) => `  ${o.name.padEnd(14)} ${o.role.padEnd(9)} ${o.key}`),
    '',
    'campaigns:',
  ];
  if (r.campaigns.single) {
    const s = r.campaigns.single;
    lines.push(`  ${s.id}  ${s.state}  single forced reset of ${s.target}${s.reused ? ' (from an earlier run)' : ''}`);
  }
  if (r.campaigns.pending) {
    const p = r.campaigns.pending;
    lines.push(`  ${p.id}  ${p.state}  ${p.target_count} targets, expected ${p.expected_count}, guard ${p.verdict}${p.reused ? ' (from an earlier run)' : ''}`);
  }
  const id = r.campaigns.pending?.id ?? r.campaigns.single?.id ?? 'ID';
  const auth = (o: { key: string } | undefined) => `-H ${sq(`Authorization: Bearer ${o?.key ?? 'KEY'}`)}`;
  lines.push(
    '',
    'next steps:',
    '  1. start the server (another terminal):  npx resetguard serve',
    '  2. look at the campaign:',
    `     curl -s ${auth(op)} ${base}/v1/admin/campaigns/${id}`,
    ...(r.campaigns.pending?.state === 'awaiting_approval'
      ? ['  3. approve it as the second person, then start it:', `     curl -s -X POST ${auth(approver)} ${base}/v1/admin/campaigns/${id}/approve`]
      : ['  3. start it:']),
    `     curl -s -X POST ${auth(op)} ${base}/v1/admin/campaigns/${id}/start`,
    '  4. watch the waves go out (the canary first, then a hold):',
    `     npx resetguard campaign watch ${id}`,
    '     halt it:   curl -s -X POST ' + `${auth(op)} ${base}/v1/admin/campaigns/${id}/halt`,
    '     revert it: curl -s -X POST ' + `${auth(op)} -H 'content-type: application/json' -d '{"reason":"demo: wrong list"}' ${base}/v1/admin/campaigns/${id}/revert`,
    ...(r.campaigns.pending?.state === 'awaiting_approval'
      ? ['     (over the approval threshold that is a request: the approver runs it)', `     curl -s -X POST ${auth(approver)} ${base}/v1/admin/campaigns/${id}/revert/approve`]
      : []),
    '  5. sign in as an account outside both resets:',
    `     curl -s -X POST -H 'content-type: application/json' -d ${sq(JSON.stringify({ email: middleEmail(r), password: r.password }))} ${base}/v1/sessions`,
    `  notices land in the dev mailbox unless RESETGUARD_SMTP_URL is set: ${base}/dev/mail`,
    `  settings (admin): curl -s ${auth(admin)} ${base}/v1/admin/settings`,
    '',
  );
  return lines.join('\n');
}

/** An account neither demo reset touches (the campaign takes the first 300, the single one the last). */
function middleEmail(r: DemoResult): string {
  const width = r.accounts.first.length - `user@${DEMO_DOMAIN}`.length;
  const taken = r.campaigns.pending?.target_count ?? 0;
  const i = taken + 1 < r.accounts.total ? taken + 1 : 1;
  return demoEmail(i, width);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('seed demo accounts, operators and campaigns into the configured database, to try approve/start/halt/revert')
    .option('--accounts <n>', 'how many demo accounts (1–100000)', accountCount, 1000)
    .option('--json', 'print what was created as JSON (keys included)')
    .action(async (opts: { accounts: number; json?: boolean }) => {
      const config = loadConfig();
      const hasher = createPasswordHasher();
      // Never startBackground(): the demo only writes rows; `serve` delivers the queued notice later.
      const app = await createApp(config, { migrate: true, hasher, logDestination: process.stderr });
      try {
        const result = await seedDemo(app, opts.accounts, (pw) => hasher.hash(pw));
        process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : report(result, config.publicUrl.replace(/\/+$/, '')));
      } finally {
        await app.close();
      }
    });
}
