// The campaigns wing's side of detection's ForcedResetPort: a detector's reset is a campaign of one
// made by the detector's own identity (never approved, so it spends the tripwire budget), and the
// kill switch is the guard's.
import type { DetectorResetRequest, ForcedResetPort } from '../detection/findings/forced-reset-port.js';
import type { Guard } from './guard/guard.service.js';
import type { HolderResetPort } from '../accounts/holder-reset-port.js';
import { detectorIdentity, holderIdentity } from './campaign-actors.js';
import type { CampaignsService } from './campaigns.service.js';

export function forcedResetAdapter(campaigns: Pick<CampaignsService, 'forceResetOne'>, guard: Pick<Guard, 'killSwitchEngaged'>): ForcedResetPort {
  return {
    resetsHalted: () => guard.killSwitchEngaged(),
    async forceReset(request: DetectorResetRequest) {
      const campaign = await campaigns.forceResetOne(request.accountId, request.reason, detectorIdentity(request.detector), { kind: 'detector', findingIds: request.findingIds });
      return { applied: campaign.applied_count > 0 };
    },
  };
}

/** The campaigns wing's side of accounts' HolderResetPort: a campaign of one, approved by its holder. */
export function holderResetAdapter(campaigns: Pick<CampaignsService, 'forceResetOne'>): HolderResetPort {
  return {
    async resetByHolder(accountId, reason) {
      await campaigns.forceResetOne(accountId, reason, holderIdentity(accountId), { kind: 'holder', findingIds: [] });
    },
  };
}
