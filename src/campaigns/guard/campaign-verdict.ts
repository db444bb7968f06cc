// The guard's verdict on a campaign at creation, from its frozen target set and declared size. The
// 2014 failure was a selector that matched far more accounts than anyone meant: a declared
// expected_count that disagrees with what was selected is the cheapest way to catch that.
import type { Settings } from '../../settings/settings-definitions.js';

export const HARD_CAP = 5_000_000;
/** Unknown ids/emails tolerated before the list itself is suspect. */
export const UNKNOWN_TOLERANCE = 0.01;

export type Verdict = 'ok' | 'needs_approval' | 'blocked';

export interface VerdictInput {
  targetCount: number;
  expectedCount: number;
  requestedCount: number;
  unknownCount: number;
}

export function campaignVerdict(input: VerdictInput, settings: Settings, hardCap = HARD_CAP): { verdict: Verdict; reasons: string[] } {
  const blocked: string[] = [];
  const { targetCount, expectedCount, requestedCount, unknownCount } = input;
  if (targetCount === 0) blocked.push('the target set is empty');
  if (targetCount > hardCap) blocked.push(`${targetCount} targets exceed the hard cap of ${hardCap}`);
  const mismatch = expectedCount === 0 ? (targetCount === 0 ? 0 : Number.POSITIVE_INFINITY) : Math.abs(targetCount - expectedCount) / expectedCount;
  if (mismatch > settings.expected_count_tolerance) {
    blocked.push(
      `${targetCount} targets but ${expectedCount} expected (${Number.isFinite(mismatch) ? Math.round(mismatch * 100) + '%' : 'infinitely'} off; tolerance ${Math.round(settings.expected_count_tolerance * 100)}%)`,
    );
  }
  if (requestedCount > 0 && unknownCount / requestedCount > UNKNOWN_TOLERANCE) {
    blocked.push(`${unknownCount} of ${requestedCount} requested accounts do not exist (tolerance ${UNKNOWN_TOLERANCE * 100}%)`);
  }
  if (blocked.length > 0) return { verdict: 'blocked', reasons: blocked };
  if (targetCount > settings.approval_threshold) {
    return { verdict: 'needs_approval', reasons: [`${targetCount} targets exceed the approval threshold of ${settings.approval_threshold}: a second operator must approve`] };
  }
  return { verdict: 'ok', reasons: [] };
}
