// Wave sizes: a canary of min(canary_size, 1% of targets), at least 1; then each wave grows by
// wave_growth over the previous one, until the frozen target set is used up.
export function canarySize(targetCount: number, canarySetting: number): number {
  return Math.max(1, Math.min(canarySetting, Math.floor(targetCount / 100)));
}

export function nextWaveRange(
  targetCount: number,
  previous: { first_seq: number; last_seq: number } | undefined,
  settings: { canary_size: number; wave_growth: number },
): { first: number; last: number } | null {
  const first = previous ? previous.last_seq + 1 : 1;
  if (first > targetCount) return null;
  const size = previous ? Math.max(1, Math.ceil((previous.last_seq - previous.first_seq + 1) * settings.wave_growth)) : canarySize(targetCount, settings.canary_size);
  return { first, last: Math.min(targetCount, first + size - 1) };
}
