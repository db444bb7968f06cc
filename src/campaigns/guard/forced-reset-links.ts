// A campaign's forced-reset notices are queued without secrets (forced-reset.store.ts); this makes them
// when the notice worker first claims each notice, in one transaction per claimed batch: the reset token
// (only its HMAC is stored), sealed into the notice so a retry re-sends the same link, and the
// verification code. attachSecrets only fills a notice that has none, so a notice never gets two links.
// A notice whose reset was reverted before it went out is cancelled instead (lockStanding makes a revert
// running at the same moment wait, or see the token and void it).
import type { Clock } from '../../lib/clock.js';
import type { Metrics } from '../../lib/metrics.js';
import { randomToken, sortableId, type Keyring } from '../../lib/secrets.js';
import type { NoticePreparer } from '../../notices/notice-worker.js';
import { attachSecrets, cancelClaimed, type NoticeSecrets } from '../../notices/outbox.store.js';
import { generateVerificationCode } from '../../notices/verification-code.js';
import { TOKEN_PURPOSE, type ResetTokensStore } from '../../recovery/reset-tokens.store.js';
import type { Db } from '../../storage/database.js';
import type { Notice, ResetToken } from '../../storage/schema.js';
import type { CampaignTargetsStore } from '../campaign-targets.store.js';

export interface ForcedResetLinksDeps {
  db: Db;
  keyring: Keyring;
  clock: Clock;
  targets: CampaignTargetsStore;
  tokens: ResetTokensStore;
  metrics?: Metrics;
}

const isForcedReset = (n: Notice): n is Notice & { campaign_id: string; account_id: string } =>
  n.kind === 'forced_reset' && n.campaign_id !== null && n.account_id !== null;

/** The link's expiry is the one the mail states (set when the reset was applied). */
function expiresAt(notice: Notice): number {
  const value = (JSON.parse(notice.payload) as { expires_at?: unknown }).expires_at;
  if (typeof value !== 'number') throw new Error(`forced_reset notice ${notice.id} has no expires_at`);
  return value;
}

export function forcedResetLinks(deps: ForcedResetLinksDeps): NoticePreparer {
  return async (claimed, workerId) => {
    const needing = claimed.filter((n) => n.verification_code === null);
    if (needing.length === 0) return claimed;
    return deps.db.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const withdrawn = new Set<string>();
      const byCampaign = new Map<string, Array<Notice & { campaign_id: string; account_id: string }>>();
      for (const n of needing.filter(isForcedReset)) byCampaign.set(n.campaign_id, [...(byCampaign.get(n.campaign_id) ?? []), n]);
      for (const [campaignId, notices] of byCampaign) {
        const standing = await deps.targets.lockStanding(trx, campaignId, notices.map((n) => n.account_id));
        for (const n of notices) if (!standing.has(n.account_id)) withdrawn.add(n.id);
      }
      await cancelClaimed(trx, [...withdrawn], workerId, now, deps.metrics);
      const made = new Map<string, NoticeSecrets>();
      const tokens = new Map<string, ResetToken>();
      for (const n of needing) {
        if (withdrawn.has(n.id)) continue;
        let sealed: string | null = null;
        if (isForcedReset(n)) {
          const token = randomToken();
          sealed = deps.keyring.seal(token);
          tokens.set(n.id, {
            id: sortableId(now),
            account_id: n.account_id,
            token_hmac: deps.keyring.sign(TOKEN_PURPOSE, token),
            purpose: 'forced',
            created_at: now,
            expires_at: expiresAt(n),
            used_at: null,
            voided_at: null,
            campaign_id: n.campaign_id,
          });
        }
        made.set(n.id, { id: n.id, sealed, verification_code: generateVerificationCode() });
      }
      const took = await attachSecrets(trx, deps.db.dialect, workerId, [...made.values()]);
      await deps.tokens.insertMany(trx, [...tokens.entries()].filter(([id]) => took.has(id)).map(([, t]) => t));
      // Notices that already had their secrets go as they are; those that did not take them (the lease
      // moved on) are another worker's now.
      return claimed.flatMap((n) => {
        if (n.verification_code !== null) return [n];
        if (!took.has(n.id)) return [];
        const secrets = made.get(n.id)!;
        return [{ ...n, sealed: secrets.sealed, verification_code: secrets.verification_code }];
      });
    });
  };
}
