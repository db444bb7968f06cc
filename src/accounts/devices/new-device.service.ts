// New-device alerts: a successful sign-in from a device the account has not used for 90 days mails a
// `new_sign_in` notice (when, the network it came from, browser and OS) with a "This wasn't me" link.
//
// A device is the pages' long-lived cookie (rg_device) or, for API clients, the pair of network (/24 or
// /64) and browser family: precise enough that a holder's own phone and laptop are recognised, coarse
// enough that a new address from the same provider does not alarm them. Only an HMAC of either is kept.
//
// Cost on sign-in: one primary-key read; a write at most once a day per device; the new-device path
// (rare) does the rest. The very first device of an account records silently: the holder just created
// it or was given it, and an upgrade that introduces alerts must not mail every account at once.
import type { Kysely } from 'kysely';
import { sourceOf } from '../../detection/stuffing/stuffing-network.js';
import type { Clock } from '../../lib/clock.js';
import type { Keyring } from '../../lib/secrets.js';
import { summarizeUserAgent, userAgentFamily } from '../../lib/user-agent.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { Settings } from '../../settings/settings-definitions.js';
import type { Account, Database } from '../../storage/schema.js';
import type { RequestContext } from '../sessions.service.js';
import type { DevicesStore } from './devices.store.js';

const DAY_MS = 86_400_000;
export const DEVICE_MEMORY_MS = 90 * DAY_MS;

export interface NewDeviceDeps {
  db: Kysely<Database>;
  store: DevicesStore;
  keyring: Keyring;
  outbox: NoticeOutbox;
  settings: { get(): Promise<Settings> };
  clock: Clock;
}

export interface DeviceSeen {
  key: string;
  label: string;
  /** The address prefix, as the notice names the approximate place. */
  network: string;
}

export class NewDeviceWatch {
  constructor(private readonly d: NewDeviceDeps) {}

  describe(ctx: RequestContext): DeviceSeen {
    const source = sourceOf(ctx.ip);
    const network = (source.net ?? source.ip).replace(/^(net|ip):/, '');
    const family = summarizeUserAgent(ctx.userAgent);
    const key = ctx.device ? this.d.keyring.sign('device', `cookie:${ctx.device}`) : this.d.keyring.sign('device', `api:${network}|${family}`);
    return { key, label: `${family}, network ${network}`, network };
  }

  async signedIn(account: Pick<Account, 'id' | 'email'>, ctx: RequestContext): Promise<void> {
    const now = this.d.clock.now();
    const device = this.describe(ctx);
    const lastSeen = await this.d.store.lastSeen(account.id, device.key);
    if (lastSeen !== undefined && now - lastSeen < DEVICE_MEMORY_MS) {
      if (now - lastSeen >= DAY_MS) await this.d.store.touch(account.id, device.key, now);
      return;
    }
    // Read outside the transaction: on SQLite a read waiting for the connection a transaction holds
    // would never finish.
    const alert = (await this.d.settings.get()).new_sign_in_notice === 1;
    const { browser, system } = userAgentFamily(ctx.userAgent);
    await this.d.db.transaction().execute(async (trx) => {
      const first = !(await this.d.store.hasAny(trx, account.id));
      await this.d.store.remember(trx, account.id, device.key, device.label, now);
      if (first || !alert) return;
      await this.d.outbox.enqueue(trx, {
        kind: 'new_sign_in',
        accountId: account.id,
        recipient: account.email,
        payload: { signed_in_at: now, network: device.network, browser: browser ?? null, os: system ?? null, client: browser || system ? null : summarizeUserAgent(ctx.userAgent) },
        idempotencyKey: `new_sign_in:${account.id}:${device.key.slice(0, 16)}:${now}`,
      });
    });
  }
}
