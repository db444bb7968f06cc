// Who a campaign action is attributed to in the audit log: an operator (`operator:<id>`), or an identity
// of its own for resets no operator asked for (a detector, the account's holder).
import type { OperatorIdentity } from '../operators/operators.service.js';

/** Detectors act as an identity of their own (never an operator key): `detector:<finding kind>`. */
const DETECTOR_PREFIX = 'detector:';
export function detectorIdentity(kind: string): OperatorIdentity {
  return { id: `${DETECTOR_PREFIX}${kind}`, name: `${kind} detector`, role: 'operator' };
}

/**
 * A holder who reports their account is not theirs ("This wasn't me", undoing an email change) asks for
 * the reset of that one account as `holder:<account id>`. The campaign is approved by that same holder:
 * it spends no tripwire budget (the tripwire counts resets nobody approved, and a holder can only ever
 * reset their own account), but the kill switch still stops it.
 */
const HOLDER_PREFIX = 'holder:';
export function holderIdentity(accountId: string): OperatorIdentity {
  return { id: `${HOLDER_PREFIX}${accountId}`, name: 'account holder', role: 'operator' };
}

/** The audit actor of an action: detectors and holders as themselves, operators as `operator:<id>`. */
export const actorOf = (op: OperatorIdentity) => (op.id.startsWith(DETECTOR_PREFIX) || op.id.startsWith(HOLDER_PREFIX) ? op.id : `operator:${op.id}`);
