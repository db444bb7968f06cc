// `resetguard breach import FILE [--label L] [--resume ID] [--json]`: matches a third-party breach dump
// against our accounts in this process, reading the file where it lies (nothing is copied, so a dump of
// any size needs no spool space). A progress line goes to stderr; the dump's id and final counts to
// stdout. The dump is visible to operators at GET /v1/admin/breach-dumps/<id> while it runs, and an
// operator's cancel there stops it.
//
// Exit codes: 0 completed, 1 cancelled by an operator, 2 the file cannot be read or the resume is refused,
// 130 interrupted (Ctrl-C: the checkpoint is kept; `--resume ID` continues from it).
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { createApp } from '../app.js';
import { loadCliConfig } from '../config.js';
import type { ImportProgress } from '../detection/breach-dumps/breach-dump-import.js';
import { BreachImportError, type BreachDumpView } from '../detection/breach-dumps/breach-dumps.service.js';

/** A non-TTY progress line (a log, a pipe) at most this often. */
const LOG_EVERY_MS = 10_000;

function who(): string {
  try {
    return `cli:${userInfo().username}@${hostname()}`;
  } catch {
    // No passwd entry for this uid (some containers).
    return `cli:uid${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}

const n = (x: number) => x.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function progressLine(p: ImportProgress, total: number): string {
  const pct = total > 0 ? ((p.bytesRead / total) * 100).toFixed(1) : '100.0';
  const c = p.counters;
  return `breach dump ${p.dumpId}: ${pct}% of ${mb(total)} | ${n(c.lines)} lines, ${n(c.invalid_lines)} invalid, ${n(c.matched_emails)} matched, ${n(c.verified)}/${n(c.candidate_pairs)} verified, ${n(p.confirmed_reuses)} confirmed`;
}

function summary(view: BreachDumpView): string {
  const c = view.counts;
  const lines = [
    `breach dump ${view.id} ${view.state}`,
    `lines:            ${c.lines}`,
    `invalid:          ${c.invalid_lines}`,
    `matched emails:   ${c.matched_emails}`,
    `confirmed reuses: ${c.confirmed_reuses}`,
    `  (${c.candidate_pairs} distinct account/password pairs verified; findings: GET /v1/admin/findings?source=${view.findings_source})`,
  ];
  return lines.join('\n') + '\n';
}

export function registerBreachCommand(program: Command): void {
  const breach = program.command('breach').description('third-party breach dumps');
  breach
    .command('import')
    .description('match a breach dump (email:password lines or email,password CSV) against accounts; confirmed reuses become breach_reuse findings')
    .argument('<file>', 'the dump (UTF-8, any size)')
    .option('--label <label>', "a name for the dump (e.g. the breached site's)")
    .option('--resume <id>', 'continue an interrupted, failed or cancelled import of this same file from its checkpoint')
    .option('--json', 'print the final state as JSON')
    .action(async (file: string, opts: { label?: string; resume?: string; json?: boolean }) => {
      const app = await createApp(loadCliConfig(), { migrate: true, logDestination: process.stderr });
      let interrupted = false;
      const onSigint = () => {
        if (interrupted) process.exit(130); // a second Ctrl-C: leave now, the lease simply runs out
        interrupted = true;
        process.stderr.write('\nstopping at the next checkpoint (Ctrl-C again to quit at once)…\n');
      };
      process.on('SIGINT', onSigint);
      const tty = process.stderr.isTTY === true;
      // For the progress line only; the service checks the file itself.
      let total = 0;
      try {
        total = statSync(file).size;
      } catch {
        // reported by importFile
      }
      let lastLog = 0;
      try {
        const { view, outcome } = await app.services.breachDumps.importFile(file, {
          ...(opts.label !== undefined ? { label: opts.label } : {}),
          ...(opts.resume !== undefined ? { resumeId: opts.resume } : {}),
          actor: who(),
          workerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
          shouldStop: () => interrupted,
          onProgress: (p) => {
            const now = Date.now();
            if (tty) process.stderr.write(`\r${progressLine(p, total)}\x1b[K`);
            else if (now - lastLog >= LOG_EVERY_MS) {
              lastLog = now;
              process.stderr.write(progressLine(p, total) + '\n');
            }
          },
        });
        if (tty) process.stderr.write('\n');
        process.stdout.write(opts.json ? JSON.stringify(view) + '\n' : summary(view));
        if (outcome === 'stopped') {
          process.stderr.write(`interrupted; continue with: resetguard breach import ${file} --resume ${view.id}\n`);
          process.exitCode = 130;
        } else if (outcome === 'cancelled') {
          process.stderr.write(`cancelled by an operator at ${view.progress.bytes_done} of ${view.progress.bytes_total} bytes\n`);
          process.exitCode = 1;
        }
      } catch (err) {
        if (!(err instanceof BreachImportError)) throw err;
        process.stderr.write(`resetguard: ${err.message}\n`);
        process.exitCode = 2;
      } finally {
        process.off('SIGINT', onSigint);
        await app.close();
      }
    });
}
