// The campaign chart as server-rendered SVG: cumulative applied / sent / failed / completed /
// "unexpected" per minute. No script draws it, so it is there without JavaScript; console.js swaps in the
// fresh SVG that the live endpoint renders with this same function. Colours come from console.css
// classes (the CSP forbids inline style); presentation attributes are allowed and carry the geometry.
import { cumulative, SERIES, type Series, type TimelineBucket } from '../../campaigns/campaign-timeline.store.js';
import { escapeHtml } from '../../lib/html.js';
import { count } from './campaign-format.js';

const W = 720;
const H = 260;
const PAD = { left: 56, right: 16, top: 16, bottom: 36 };

export const SERIES_LABELS: Record<Series, string> = {
  applied: 'Applied',
  sent: 'Notices sent',
  failed: 'Notices failed',
  completed: 'Completed by holder',
  unexpected: '"Unexpected"',
};

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

export function chartSvg(buckets: TimelineBucket[]): string {
  const points = cumulative(buckets);
  const totals = points.at(-1);
  const summary = totals ? SERIES.map((s) => `${SERIES_LABELS[s]} ${count(totals[s])}`).join(', ') : 'no activity yet';
  const title = `Campaign activity over time (cumulative, per minute, UTC): ${summary}`;
  if (points.length === 0) {
    return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="chart-empty">Nothing applied yet</text></svg>`;
  }
  const max = Math.max(1, ...points.map((p) => Math.max(...SERIES.map((s) => p[s]))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  // One point: draw it as a short flat segment so the series is visible at all.
  const x = (i: number) => PAD.left + (points.length === 1 ? (i === 0 ? 0 : plotW) : (i / (points.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const series = SERIES.map((s) => {
    const pts = (points.length === 1 ? [points[0]!, points[0]!] : points).map((p, i) => `${x(i).toFixed(1)},${y(p[s]).toFixed(1)}`).join(' ');
    return `<polyline class="line ${s}" fill="none" points="${pts}"/>`;
  }).join('');
  const grid = [...new Set([0, 0.5, 1].map((f) => Math.round(max * f)))]
    .map((v) => {
      return `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${count(v)}</text>`;
    })
    .join('');
  const first = points[0]!.at;
  const last = points.at(-1)!.at;
  const axis = `<text class="axis" x="${PAD.left}" y="${H - 12}">${hhmm(first)}</text><text class="axis" x="${W - PAD.right}" y="${H - 12}" text-anchor="end">${hhmm(last)} UTC</text>`;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${grid}${axis}${series}</svg>`;
}

/** The legend, with the totals as text (the numbers a screen reader and a copy-paste get). */
export function chartLegend(buckets: TimelineBucket[]): string {
  const totals = Object.fromEntries(SERIES.map((s) => [s, buckets.reduce((n, b) => n + b[s], 0)])) as Record<Series, number>;
  return `<ul class="legend">${SERIES.map((s) => `<li><span class="swatch ${s}" aria-hidden="true"></span>${SERIES_LABELS[s]}: <strong data-live="total-${s}">${count(totals[s])}</strong></li>`).join('')}</ul>`;
}
