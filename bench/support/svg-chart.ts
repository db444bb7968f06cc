// A small line chart as SVG text (no dependency, no browser): throughput against size on a log-scale x
// axis, one line per series. Used for docs/ figures written by `npm run bench`.
export interface Series {
  label: string;
  color: string;
  points: Array<{ x: number; y: number }>;
  /** An SVG stroke-dasharray, e.g. "6 4", to tell a baseline's line from the measured one. */
  dash?: string;
  /** Print each point's value above it (default true); with many series the labels would collide. */
  pointLabels?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Horizontal reference lines, e.g. goals. */
  marks?: Array<{ y: number; label: string; color: string }>;
}

const PLOT_W = 470;
const H = 420;
const PAD = { left: 80, top: 48, bottom: 56 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** A "nice" upper bound for the y axis (fifths of it are the ticks) at or above `max`. */
function niceCeil(max: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(max, 1)));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((v) => v >= max)!;
}

export function lineChart(series: Series[], options: ChartOptions): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...series.flatMap((s) => s.points.map((p) => p.y)), ...(options.marks ?? []).map((m) => m.y)];
  const xMin = Math.log10(Math.min(...xs));
  const xMax = Math.log10(Math.max(...xs));
  // Headroom for the value printed above the highest point, inside the plot's frame.
  const yMax = niceCeil(Math.max(...ys) * 1.1);
  // The legend sits right of the plot; make room for its longest label (~7 px a character at 12 px).
  const right = Math.max(170, 50 + 7 * Math.max(...series.map((s) => s.label.length), ...(options.marks ?? []).map((m) => m.label.length)));
  const W = PAD.left + PLOT_W + right;
  const plotW = PLOT_W;
  const plotH = H - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + (xMax === xMin ? plotW / 2 : ((Math.log10(x) - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => PAD.top + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(options.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${PAD.left - 8}" y="${sy(v) + 4}" text-anchor="end">${esc(num(Math.round(v)))}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${sx(x)}" y="${PAD.top + plotH + 18}" text-anchor="middle">${esc(num(x))}</text>`);
  }
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${PAD.left + plotW / 2}" y="${H - 14}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  for (const m of options.marks ?? []) {
    if (m.y > yMax) continue;
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${sy(m.y)}" y2="${sy(m.y)}" stroke="${m.color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${PAD.left + plotW + 6}" y="${sy(m.y) + 4}" fill="${m.color}">${esc(m.label)}</text>`);
  }
  const labelled = series.filter((s) => s.pointLabels !== false);
  // A value at the left or right edge would sit on the axis's tick labels or the frame: it is printed
  // inward from its point there, centred over it elsewhere.
  const [firstX, lastX] = [Math.min(...xs), Math.max(...xs)];
  const pointLabelAt = (x: number): { dx: number; anchor: string } =>
    x === firstX && x !== lastX ? { dx: 6, anchor: 'start' } : x === lastX && x !== firstX ? { dx: -6, anchor: 'end' } : { dx: 0, anchor: 'middle' };
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${dash} points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${s.color}"/>`);
      // Every other labelled series prints below its points, so two close lines keep readable values.
      const below = labelled.indexOf(s) % 2 === 1;
      const at = pointLabelAt(p.x);
      if (s.pointLabels !== false) out.push(`<text x="${(sx(p.x) + at.dx).toFixed(1)}" y="${(sy(p.y) + (below ? 19 : -9)).toFixed(1)}" text-anchor="${at.anchor}" fill="${s.color}">${esc(num(Math.round(p.y)))}</text>`);
    }
    const ly = PAD.top + 16 + i * 20;
    out.push(`<line x1="${PAD.left + plotW + 10}" x2="${PAD.left + plotW + 34}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
    out.push(`<text x="${PAD.left + plotW + 40}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
