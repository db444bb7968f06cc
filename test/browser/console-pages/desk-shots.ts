// Console pages of the operator desk: the account search, one account with its timeline (a forced
// reset mailed through the dev mailbox, a finding, an operator signing it out everywhere), the
// confirmation pages of lock and resend, the dashboard's verification-code lookup, and the operators
// page with its disable and rotate-key confirmations and the key shown once.
import type { App } from '../../../src/app.js';
import { formatVerificationCode } from '../../../src/notices/verification-code.js';
import type { Role } from '../../../src/operators/roles.js';
import { seedAccounts, seedSessions } from '../../support/seed.js';
import type { ConsoleScene, ShotProvider } from './scene.js';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`desk scene: timed out waiting for ${what}`);
}

const identity = (scene: ConsoleScene, role: Role) => ({ id: scene.operators[role].id, name: scene.operators[role].name, role });

async function seed(scene: ConsoleScene): Promise<{ accountId: string; noticeId: string; code: string; spare: string }> {
  const app: App = scene.app;
  const accounts = await seedAccounts(app.db, 40, 'member', Date.now() - 30 * 86_400_000);
  const target = accounts[7]!;
  await seedSessions(app.db, accounts.slice(0, 20).map((a) => a.id));
  await app.services.findings.record([{ kind: 'breached_password', account_id: target.id, source: 'signin:pwned', evidence: { pwned_count: 3_861_493 }, dedupe_key: `desk-shots:${target.id}` }]);
  const forced = await app.http.inject({
    method: 'POST',
    url: `/v1/admin/accounts/${target.id}/force-reset`,
    headers: { authorization: `Bearer ${scene.operators.operator.key}` },
    payload: { reason: 'Password seen in a breach' },
  });
  if (forced.statusCode !== 202) throw new Error(`force-reset: ${forced.statusCode} ${forced.body}`);
  const sent = () => app.db.db.selectFrom('notices').select(['id', 'state', 'verification_code']).where('account_id', '=', target.id).where('kind', '=', 'forced_reset').executeTakeFirst();
  await until('the forced-reset notice to be sent', async () => (await sent())?.state === 'sent');
  const notice = (await sent())!;
  await seedSessions(app.db, [target.id]);
  await app.services.desk.revokeSessions(target.id, identity(scene, 'operator'), 'Holder called: phone stolen');
  await app.services.desk.lock(accounts[12]!.id, identity(scene, 'admin'), 'Fraud ring confirmed by the payments team');
  const spare = await app.services.operators.create('Rio Rotated', 'operator');
  return { accountId: target.id, noticeId: notice.id, code: formatVerificationCode(notice.verification_code!), spare: spare.id };
}

export const deskShots: ShotProvider = async (scene) => {
  const { accountId, noticeId, code, spare } = await seed(scene);
  const account = `/console/accounts/${accountId}`;
  return [
    { name: 'accounts', path: '/console/accounts?q=member', caption: '`/console/accounts`: find accounts by an email prefix or exactly, filter by state, paged in address order', as: 'viewer' },
    { name: 'account', path: account, caption: "an account: its facts, the actions the operator's role allows, and its timeline newest first (notices with their verification codes, campaigns, operator actions)" },
    { name: 'account-resend', path: `${account}/resend?notice=${noticeId}`, caption: 'sending a notice again: the same Message-ID and code, behind a reason and a ticked box' },
    { name: 'account-lock', path: `${account}/lock`, caption: 'locking an account (admins): what it does, and "tell the holder" off unless ticked', as: 'admin' },
    {
      name: 'lookup',
      path: '/console',
      caption: 'the dashboard\'s "Is this mail genuine?" box answered: the notice, its account and its campaign',
      as: 'viewer',
      then: async (page) => {
        await page.fill('#lookup-code', code);
        await Promise.all([page.waitForURL('**/console/lookup'), page.click('form[action="/console/lookup"] button[type=submit]')]);
      },
    },
    { name: 'operators', path: '/console/operators', caption: '`/console/operators` (admins): every operator, with rotate-key and disable, and the form to add one', as: 'admin' },
    { name: 'operator-disable', path: `/console/operators/${scene.operators.viewer.id}/disable`, caption: 'disabling an operator: the key and console sessions stop at once', as: 'admin' },
    {
      name: 'operator-key',
      path: `/console/operators/${spare}/rotate-key`,
      caption: 'a rotated key, shown this once',
      as: 'admin',
      then: async (page) => {
        await page.fill('#c-reason', 'Key pasted into a chat by mistake');
        await page.check('input[name=confirm]');
        await Promise.all([page.waitForLoadState('load'), page.click('main form button[type=submit]')]);
      },
    },
  ];
};
