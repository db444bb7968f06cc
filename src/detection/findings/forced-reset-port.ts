// How a detector asks for a forced reset. Detection owns this interface and the campaigns wing
// implements it (createApp wires the two), so detection never imports campaigns or the guard
// (test/detection-boundary.test.ts): the forced reset itself stays the guard's, and detection stays
// about evidence.
import type { FindingKind } from './findings.store.js';

export interface DetectorResetRequest {
  accountId: string;
  /** Shown to the account holder in the forced-reset notice. */
  reason: string;
  /** The detector asking, named by the kind of finding it records; the reset is made as that detector. */
  detector: FindingKind;
  /** The findings this reset acts on, linked to it. */
  findingIds: string[];
}

export interface ForcedResetPort {
  /** True while every forced reset is refused (the kill switch): asking then would only be refused. */
  resetsHalted(): Promise<boolean>;
  /**
   * Forces the reset of one account now. `applied: false` when it was stopped on the way (the tripwire,
   * or the kill switch engaged meanwhile); rejects with an AppError when refused outright.
   */
  forceReset(request: DetectorResetRequest): Promise<{ applied: boolean }>;
}
