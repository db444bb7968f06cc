// A holder's own report ("This wasn't me", undoing an email change) resets their account through the
// guard without spending the tripwire budget, which an operator's single reset does spend; the kill
// switch stops both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { DIALECTS } from '../../test/support/databases.js';
import { seedAccounts, type SeededAccount } from '../../test/support/seed.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import { holderResetAdapter } from './forced-reset-adapter.js';

describe.each(DIALECTS)('holder-initiated resets on %s', (kind) => {
  let t: TestApp;
  let accounts: SeededAccount[];
  let operator: OperatorIdentity;
  const credentialState = async (id: string) => (await t.app.db.db.selectFrom('credentials').select('state').where('account_id', '=', id).executeTakeFirstOrThrow()).state;

  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'silent' });
    accounts = await seedAccounts(t.app.db, 4, 'holder');
    operator = await t.app.services.operators.create('holder test operator', 'admin');
    await t.app.services.settings.patch({ tripwire_budget_per_hour: 1 }, operator.id);
  }, 120_000);
  afterAll(() => t.close());

  it('spends no tripwire budget, while an operator single reset does', async () => {
    const holder = holderResetAdapter(t.app.services.campaigns);
    await holder.resetByHolder(accounts[0]!.id, 'the holder says a sign-in was not theirs');
    await holder.resetByHolder(accounts[1]!.id, 'the holder says a sign-in was not theirs');
    expect(await credentialState(accounts[0]!.id)).toBe('reset_required');
    expect(await credentialState(accounts[1]!.id)).toBe('reset_required');
    expect((await t.app.services.guard.status()).tripwire.used).toBe(0);
    const campaign = await t.app.db.db.selectFrom('campaigns').selectAll().where('kind', '=', 'holder').orderBy('created_at').executeTakeFirstOrThrow();
    expect(campaign).toMatchObject({ created_by: `holder:${accounts[0]!.id}`, approved_by: `holder:${accounts[0]!.id}`, state: 'completed' });

    await t.app.services.campaigns.forceResetOne(accounts[2]!.id, 'operator single reset', operator);
    expect((await t.app.services.guard.status()).tripwire.used).toBe(1);
  });

  it('is stopped by the kill switch', async () => {
    await t.app.services.guard.setKillSwitch(true, 'incident', 'test');
    await expect(holderResetAdapter(t.app.services.campaigns).resetByHolder(accounts[3]!.id, 'the holder says a sign-in was not theirs')).rejects.toMatchObject({ code: 'kill_switch_engaged' });
    expect(await credentialState(accounts[3]!.id)).toBe('active');
    await t.app.services.guard.setKillSwitch(false, 'incident over', 'test');
  });
});
