// `resetguard campaign list|show|watch`: read-only views of forced-reset campaigns for a person at a
// terminal or a script. Actions (approve, start, halt, …) stay in the API and console, where the caller
// is an authenticated operator; a CLI that reads the database directly has no operator to attribute
// them to in the audit log.
//
// Exit codes: 0 done (watch: the campaign reached completed, cancelled or reverted), 1 an unknown
// campaign id, 2 (watch) the campaign is halted, 130 (watch) interrupted with Ctrl-C.
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { createApp, type App } from '../app.js';
import type { CampaignView } from '../campaigns/campaign-view.js';
import { CampaignsStore } from '../campaigns/campaigns.store.js';
import { loadCliConfig } from '../config.js';
import { AppError } from '../lib/errors.js';

/** States a campaign never leaves: watch ends with 0 on these. */
const FINISHED = new Set(['completed', 'cancelled', 'reverted']);
/** A non-TTY watch prints on every change, and at least this often so a log shows it is alive. */
const HEARTBEAT_MS = 60_000;

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer 1–${max}`);
    return n;
  };
}

/**
 * A full app over the configured database, migrated, with no background work started: these commands
 * only read. Logs go to stderr so that `--json` output on stdout stays parseable.
 */
async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadCliConfig(), { migrate: true, logDestination: process.stderr });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** The view, or null (after telling the user) when there is no such campaign. */
async function viewOrReport(app: App, id: string): Promise<CampaignView | null> {
  try {
    return await app.services.campaigns.view(id);
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') {
      process.stderr.write(`resetguard: no campaign with id ${id} (see \`resetguard campaign list\`)\n`);
      process.exitCode = 1;
      return null;
    }
    throw err;
  }
}

const shortTime = (iso: string | null) => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function listTable(views: CampaignView[]): string {
  if (views.length === 0) return 'no campaigns yet\n';
  return table(
    ['ID', 'STATE', 'KIND', 'TARGETS/EXPECTED', 'APPLIED', 'VERDICT', 'CREATED'],
    views.map((v) => [v.id, v.state, v.kind, `${v.target_count}/${v.expected_count}`, String(v.counts.applied), v.guard.verdict, shortTime(v.created_at)]),
  );
}

export function describeCampaign(v: CampaignView): string {
  const c = v.counts;
  const lines = [
    `campaign ${v.id} (${v.kind})`,
    `  state         ${v.state}`,
    `  reason        ${v.reason}`,
    `  created       ${shortTime(v.created_at)} by operator ${v.created_by}`,
    `  approved      ${v.approved_by ? `${shortTime(v.approved_at)} by operator ${v.approved_by}` : '-'}`,
    `  started       ${shortTime(v.started_at)}`,
    `  completed     ${shortTime(v.completed_at)}`,
    `  targets       ${v.target_count} (expected ${v.expected_count}, ${v.unknown_count} requested but unknown)`,
    `  options       notify ${v.notify ? 'yes' : 'no'}, revoke sessions ${v.revoke_sessions ? 'yes' : 'no'}`,
    `  guard         ${v.guard.verdict}${v.guard.reasons.length ? '' : ' (no reasons given)'}`,
    ...v.guard.reasons.map((r) => `                - ${r}`),
    `  counts        applied ${c.applied}, skipped ${c.skipped}, notices sent ${c.notices_sent}, failed ${c.notices_failed}`,
    `                user completed ${c.user_completed}, reverted ${c.reverted}, corrections sent ${c.corrections_sent}`,
    `  halt reason   ${v.halt_reason ?? '-'}`,
    `  revert        ${revertText(v)}`,
  ];
  if (v.waves.length === 0) {
    lines.push(`  waves         ${v.kind === 'single' ? 'none (a single-account reset is applied at once)' : FINISHED.has(v.state) ? 'none' : 'none yet'}`);
  } else {
    lines.push('  waves');
    const t = table(
      ['WAVE', 'SEQ', 'SIZE', 'STATE', 'STARTED', 'HOLD UNTIL', 'COMPLETED'],
      v.waves.map((w) => [String(w.wave), `${w.first_seq}-${w.last_seq}`, String(w.size), w.state, shortTime(w.started_at), shortTime(w.hold_until), shortTime(w.completed_at)]),
    );
    for (const l of t.trimEnd().split('\n')) lines.push(`    ${l}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Targets of a wave already processed (applied or skipped). The view has campaign-wide counts only;
 * targets are taken in seq order and waves are consecutive seq ranges, so a wave still applying holds
 * everything processed past its first seq, and a holding or done wave is whole.
 */
function waveProgress(v: CampaignView, wave: CampaignView['waves'][number]): number {
  if (wave.state !== 'applying') return wave.size;
  const processed = v.counts.applied + v.counts.skipped;
  return Math.min(wave.size, Math.max(0, processed - (wave.first_seq - 1)));
}

/** The revert asked for over approval_threshold: waiting for a second person, or approved by whom. */
function revertText(v: CampaignView): string {
  const r = v.revert;
  if (!r) return '-';
  const asked = `requested ${shortTime(r.requested_at)} by operator ${r.requested_by} (${r.reason})`;
  if (r.awaiting_approval) return `${asked}, waiting for an approver or admin other than them to approve it`;
  return r.approved_by ? `${asked}, approved by operator ${r.approved_by}` : asked;
}

const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19) + ' UTC';

/** How long until `ms`, coarse enough that a log line printed on change does not change every poll. */
function untilText(ms: number, now: number): string {
  const left = ms - now;
  if (left <= 0) return 'due now';
  if (left < 60_000) return 'under a minute';
  return `${Math.round(left / 60_000)} min`;
}

/**
 * What the campaign waits for and when its next step is due, in words: a watch that only printed
 * counts sat silent through a ten-minute hold and looked stuck.
 */
export function nextStep(v: CampaignView, now: number): string | null {
  switch (v.state) {
    case 'draft':
      return v.guard.verdict === 'blocked' ? null : 'a draft: an operator starts it (or asks for approval)';
    case 'awaiting_approval':
      return 'waiting for a second operator to approve';
    case 'ready':
      return 'ready: waiting for an operator to start it (POST /v1/admin/campaigns/ID/start)';
    case 'reverting':
      return 'reverting: previous passwords and sessions are being put back';
    case 'running':
      break;
    default:
      return null;
  }
  const wave = v.waves.at(-1);
  if (!wave) return v.kind === 'single' ? 'applying the reset' : 'waiting for a worker to open wave 1';
  if (wave.state === 'applying') return `wave ${wave.wave} applying (${waveProgress(v, wave)}/${wave.size})`;
  if (wave.state === 'holding' && wave.hold_until) {
    const until = Date.parse(wave.hold_until);
    const last = wave.last_seq >= v.target_count;
    const then = last ? 'the campaign completes then' : `wave ${wave.wave + 1} starts then`;
    return `wave ${wave.wave} holding until ${clockTime(until)} (${untilText(until, now)}): ${then}, unless its health check halts it`;
  }
  return wave.last_seq >= v.target_count ? 'completing' : `waiting for a worker to open wave ${wave.wave + 1}`;
}

export function statusLine(v: CampaignView): string {
  const c = v.counts;
  const parts = [
    `state ${v.state}`,
    `notices sent ${c.notices_sent}, failed ${c.notices_failed}`,
    `user completed ${c.user_completed}`,
  ];
  if (c.reverted || c.corrections_sent) parts.push(`reverted ${c.reverted}, corrections ${c.corrections_sent}`);
  const next = nextStep(v, Date.now());
  if (next) parts.push(next);
  if (v.state === 'draft' && v.guard.verdict === 'blocked') parts.push(`blocked by the guard: ${v.guard.reasons.join('; ')}`);
  if (v.halt_reason) parts.push(`halt reason: ${v.halt_reason}`);
  if (v.revert?.awaiting_approval) parts.push(`revert ${revertText(v)}`);
  return parts.join(' | ');
}

function plainLine(v: CampaignView): string {
  const wave = v.waves.at(-1);
  const waveText = wave ? ` | wave ${wave.wave} ${wave.state} ${waveProgress(v, wave)}/${wave.size}` : '';
  return `applied ${v.counts.applied}/${v.target_count}${waveText} | ${statusLine(v)}`;
}

/** Live bars on a terminal: a status line, the whole campaign, then one bar per wave as waves open. */
class WatchBars {
  readonly #multi = new cliProgress.MultiBar(
    { stream: process.stderr, hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 30, autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  readonly #status: cliProgress.SingleBar;
  readonly #total: cliProgress.SingleBar;
  readonly #waves = new Map<number, cliProgress.SingleBar>();

  constructor(v: CampaignView) {
    this.#status = this.#multi.create(1, 0, { text: '' }, { format: '{text}' });
    this.#total = this.#multi.create(Math.max(1, v.target_count), 0, {}, { format: 'applied  [{bar}] {value}/{total}' });
  }

  update(v: CampaignView): void {
    this.#status.update(0, { text: statusLine(v) });
    this.#total.update(v.counts.applied);
    for (const w of v.waves) {
      let bar = this.#waves.get(w.wave);
      if (!bar) {
        bar = this.#multi.create(Math.max(1, w.size), 0, { wave: String(w.wave).padStart(2), state: w.state }, { format: 'wave {wave}  [{bar}] {value}/{total} {state}' });
        this.#waves.set(w.wave, bar);
      }
      bar.update(waveProgress(v, w), { state: w.state + (w.state === 'holding' && w.hold_until ? ` until ${shortTime(w.hold_until)}` : '') });
    }
  }

  stop(): void {
    this.#multi.stop();
  }
}

async function watch(app: App, id: string, intervalMs: number): Promise<void> {
  let view = await viewOrReport(app, id);
  if (!view) return;
  let interrupted = false;
  let wake: (() => void) | null = null;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C while closing: leave at once
    interrupted = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY === true;
  process.stdout.write(`watching campaign ${view.id} (${view.kind}, ${view.target_count} targets): ${view.reason}\n`);
  const bars = tty ? new WatchBars(view) : null;
  let lastLine = '';
  let lastPrinted = 0;
  try {
    for (;;) {
      if (bars) {
        bars.update(view);
      } else {
        const line = plainLine(view);
        if (line !== lastLine || Date.now() - lastPrinted >= HEARTBEAT_MS) {
          process.stdout.write(`${new Date().toISOString()} ${line}\n`);
          lastLine = line;
          lastPrinted = Date.now();
        }
      }
      if (FINISHED.has(view.state) || view.state === 'halted' || interrupted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      if (interrupted) break;
      view = (await viewOrReport(app, id)) ?? view; // deleted under us: keep the last view (never happens today)
    }
  } finally {
    bars?.stop();
    process.off('SIGINT', onSigint);
  }
  if (interrupted) {
    process.stdout.write(`stopped watching; campaign ${view.id} is ${view.state}\n`);
    process.exitCode = 130;
  } else if (view.state === 'halted') {
    process.stdout.write(`campaign ${view.id} is HALTED: ${view.halt_reason ?? 'no reason recorded'}\n`);
    process.exitCode = 2;
  } else {
    const c = view.counts;
    process.stdout.write(`campaign ${view.id} ${view.state}: applied ${c.applied}/${view.target_count}, notices sent ${c.notices_sent}, failed ${c.notices_failed}, user completed ${c.user_completed}\n`);
  }
}

export function registerCampaignCommand(program: Command): void {
  const campaign = program.command('campaign').description('look at forced-reset campaigns (actions are in the API and the console)');

  campaign
    .command('list')
    .description('campaigns, newest first')
    .option('--json', 'print {"items":[…],"next_cursor"} as the API does')
    .option('--limit <n>', 'how many (1–1000)', positiveInt(1000), 20)
    .action(async (opts: { json?: boolean; limit: number }) => {
      await withApp(async (app) => {
        // The store lists rows; the service's view adds counts and waves, as GET /v1/admin/campaigns does.
        const rows = await new CampaignsStore(app.db.db, app.db.dialect).list(opts.limit);
        const views = await Promise.all(rows.map((r) => app.services.campaigns.view(r.id)));
        if (opts.json) {
          const next = rows.length === opts.limit ? String(rows[rows.length - 1]!.created_at) : null;
          process.stdout.write(JSON.stringify({ items: views, next_cursor: next }) + '\n');
        } else {
          process.stdout.write(listTable(views));
        }
      });
    });

  campaign
    .command('show')
    .description('one campaign: counts, waves, guard verdict and reasons, halt reason')
    .argument('<id>', 'campaign id')
    .option('--json', 'print the view as GET /v1/admin/campaigns/:id returns it')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withApp(async (app) => {
        const view = await viewOrReport(app, id);
        if (!view) return;
        process.stdout.write(opts.json ? JSON.stringify(view) + '\n' : describeCampaign(view));
      });
    });

  campaign
    .command('watch')
    .description('follow a campaign wave by wave until it finishes (exit 0), is halted (exit 2) or Ctrl-C (130)')
    .argument('<id>', 'campaign id')
    .option('--interval <ms>', 'how often to look (50–60000 ms)', (v) => {
      const n = positiveInt(60_000)(v);
      if (n < 50) throw new InvalidArgumentError('expected at least 50 ms');
      return n;
    }, 1000)
    .action(async (id: string, opts: { interval: number }) => {
      await withApp((app) => watch(app, id, opts.interval));
    });
}
