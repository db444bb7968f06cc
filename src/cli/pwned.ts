// `resetguard pwned import FILE|DIR [--out STORE]`: builds the local pwned-password store from Have I Been
// Pwned's downloader output (one sorted file of HASH:COUNT lines, or a folder of PREFIX.txt files).
// The default store is `<data dir>/pwned`, where RESETGUARD_PWNED=<that path> then finds it.
//
// Exit codes: 0 the store was written and every line was good, 1 the store was written but some lines
// were bad (listed), 2 no store was written (unreadable or unsorted input, another import running),
// 130 interrupted (Ctrl-C / SIGTERM) after a checkpoint: running the same command again resumes.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { ImportError, ImportInterrupted, importPwned, type ImportProgress, type ImportReport } from '../detection/pwned/pwned-import.js';
import { resolveStorePath, STORE_FILE_NAME } from '../detection/pwned/pwned-store.js';

/** How many bad lines the human summary lists; `--json` carries every one the report kept. */
const ERRORS_SHOWN = 20;
/** Without a terminal, one progress line this often: enough to show a long import is alive. */
const PLAIN_PROGRESS_MS = 5_000;

const n = (x: number) => x.toLocaleString('en-US');
const rateText = (perSecond: number) => (perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)}k` : perSecond.toFixed(0));

function summary(r: ImportReport): string {
  const lines = [
    `store:            ${r.out}`,
    `hashes:           ${n(r.hashes)} (${r.bytes_per_hash.toFixed(2)} bytes per hash, ${n(r.bytes)} bytes)`,
    `lines read:       ${n(r.lines)}`,
    `count-0 lines:    ${n(r.zero_count_lines)} (skipped)`,
    `bad lines:        ${n(r.bad_lines)}${r.bad_lines > 0 ? ` (${Object.entries(r.bad_by_reason).map(([k, v]) => `${k} ${n(v)}`).join(', ')})` : ''}`,
  ];
  for (const e of r.errors.slice(0, ERRORS_SHOWN)) lines.push(`  ${e.file ? `${e.file} ` : ''}line ${e.line}: ${e.reason}: ${e.message}: ${JSON.stringify(e.text)}`);
  if (r.bad_lines > ERRORS_SHOWN) lines.push(`  … and ${n(r.bad_lines - ERRORS_SHOWN)} more (--json lists the first ${r.errors.length})`);
  if (r.merged > 0) lines.push(`merged:           ${n(r.merged)} (distinct hashes equal on their first 140 bits, stored as one)`);
  if (r.saturated > 0) lines.push(`saturated counts: ${n(r.saturated)} (stored as 16,777,215, reported as "at least")`);
  if (r.files) {
    const f = r.files;
    lines.push(`prefix files:     ${n(f.total)}${f.missing_prefixes > 0 ? ` (${n(f.missing_prefixes)} of the 1,048,576 prefixes have no file)` : ''}`);
    if (f.ignored > 0) lines.push(`ignored:          ${n(f.ignored)} other file(s): ${f.ignored_names.join(', ')}${f.ignored > f.ignored_names.length ? ', …' : ''}`);
  }
  // A resumed run did only part of the work in `seconds`: no rate for it.
  if (r.resumed_from) lines.push(`resumed from:     ${r.resumed_from}`, `took ${r.seconds.toFixed(1)} s (this run)`);
  else lines.push(`took ${r.seconds.toFixed(1)} s (${rateText(r.hashes / Math.max(r.seconds, 1e-3))} hashes/s)`);
  lines.push(`use it with RESETGUARD_PWNED=${r.out} (a running server keeps the store it opened until it restarts)`);
  return lines.join('\n') + '\n';
}

/** A bar for a person at a terminal; plain lines every few seconds for a log. */
function progressReporter(): { update(p: ImportProgress): void; stop(): void } {
  const started = performance.now();
  const rate = (p: ImportProgress) => rateText(p.hashes / Math.max((performance.now() - started) / 1000, 1e-3));
  const done = (p: ImportProgress) => (p.unit === 'bytes' ? `${(p.done / 2 ** 20).toFixed(0)}/${(p.total / 2 ** 20).toFixed(0)} MiB` : `${n(p.done)}/${n(p.total)} files`);
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    let started = false;
    return {
      update(p) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {where} | {hashes} hashes, {bad} bad lines | {rate} hashes/s', hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
        }
        const payload = { where: done(p), hashes: n(p.hashes), bad: n(p.badLines), rate: rate(p) };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      },
      stop: () => bar?.stop(),
    };
  }
  let last = performance.now();
  return {
    update(p) {
      if (performance.now() - last < PLAIN_PROGRESS_MS) return;
      last = performance.now();
      const pct = p.total > 0 ? ((p.done / p.total) * 100).toFixed(1) : '?';
      process.stderr.write(`pwned import: ${pct}% (${done(p)}), ${n(p.hashes)} hashes, ${n(p.badLines)} bad lines, ${rate(p)} hashes/s\n`);
    },
    stop() {},
  };
}

export function registerPwnedCommand(program: Command): void {
  const pwned = program.command('pwned').description('the local pwned-password store');
  pwned
    .command('import')
    .description("build the local store from Have I Been Pwned's downloader output: a file of SHA1:COUNT lines or a folder of PREFIX.txt files")
    .argument('<source>', 'file or folder')
    .option('--out <store>', 'store file to write (a directory means DIR/pwned); default <data dir>/pwned')
    .option('--restart', 'ignore the checkpoint of an interrupted import and start over')
    .option('--json', 'print the report as JSON')
    .action(async (source: string, opts: { out?: string; restart?: boolean; json?: boolean }) => {
      // The configuration is read only for the default path: an explicit --out needs no database or secret.
      const out = resolveStorePath(resolve(opts.out ?? resolve(loadConfig().dataDir, STORE_FILE_NAME)));
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      // Once: a second Ctrl-C gets the default behaviour (exit now, resuming from the last checkpoint).
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const progress = progressReporter();
      try {
        const report = await importPwned(source, {
          out,
          restart: opts.restart ?? false,
          signal: controller.signal,
          onProgress: (p) => progress.update(p),
          onNote: (message) => process.stderr.write(`pwned import: ${message}\n`),
        });
        progress.stop();
        process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : summary(report));
        process.exitCode = report.bad_lines > 0 ? 1 : 0;
      } catch (err) {
        progress.stop();
        if (err instanceof ImportInterrupted) {
          process.stderr.write(`resetguard: ${err.message}\n`);
          process.exitCode = 130;
        } else if (err instanceof ImportError) {
          process.stderr.write(`resetguard: ${err.message}\n`);
          process.exitCode = 2;
        } else {
          throw err;
        }
      } finally {
        process.removeListener('SIGINT', interrupt);
        process.removeListener('SIGTERM', interrupt);
      }
    });
}
