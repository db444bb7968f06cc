// Dates and throttle waits as people read them. Pages render on the server without knowing the
// reader's time zone, so times are UTC and say so; <time datetime> keeps the exact instant.
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatUtc(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

export function timeTag(ms: number): string {
  return `<time datetime="${new Date(ms).toISOString()}">${formatUtc(ms)}</time>`;
}

/** "1 minute", "15 minutes": a throttle's Retry-After (seconds) rounded up, never "0 minutes". */
export function minutesFrom(retryAfterSeconds: unknown): string {
  const seconds = typeof retryAfterSeconds === 'number' && Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 60;
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
