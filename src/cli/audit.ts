// `resetguard audit verify`: checks the whole hash chain. Exit 0 when intact, 1 when tampered with, so a
// cron job or a monitor can alert on the code alone. Configuration and database errors propagate to
// main.ts, which reports them with its own codes.
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { AuditKeys } from '../audit/audit-hash.js';
import { AuditLog } from '../audit/audit.service.js';
import { AuditStore } from '../audit/audit.store.js';
import { loadConfig } from '../config.js';
import { systemClock } from '../lib/clock.js';
import { ensureSchema, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';

/** Below this many entries a check takes well under a second; a bar would only flicker. */
const BAR_THRESHOLD = 20_000;

function parseHead(value: string): { seq: number; hash: string } {
  const m = /^([1-9][0-9]{0,14}):([0-9a-f]{64})$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected SEQ:HASH, e.g. 42:3f9c… (64 hex digits), as printed by --json');
  return { seq: Number(m[1]), hash: m[2]! };
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('check every entry of the audit log (exit 1 if it was tampered with)')
    .option('--json', 'print {ok, entries, first_bad_seq?, head} as JSON')
    .option('--expect-head <seq:hash>', 'an entry recorded earlier (e.g. from --json) that must still be there unchanged: catches entries deleted from the end', parseHead)
    .action(async (opts: { json?: boolean; expectHead?: { seq: number; hash: string } }) => {
      const config = loadConfig();
      await ensureSchema(config.database);
      const db = openDatabase(config.database, { poolSize: 1 });
      let bar: cliProgress.SingleBar | null = null;
      try {
        await migrateToLatest(db, { secrets: config.secrets });
        // A bar only for a person watching a long check: in a pipe or a log it would be noise.
        if (process.stderr.isTTY) {
          const total = await new AuditStore(db.db).count();
          if (total >= BAR_THRESHOLD) {
            bar = new cliProgress.SingleBar(
              { stream: process.stderr, format: 'verifying [{bar}] {percentage}% | {value}/{total} entries', hideCursor: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(total, 0);
          }
        }
        const log = new AuditLog({ db, clock: systemClock, keys: new AuditKeys(config.secrets) });
        const result = await log.verify({
          ...(opts.expectHead ? { expectHead: opts.expectHead } : {}),
          // Entries appended during the check are checked too: let the bar's end move with them.
          onProgress: (checked) => {
            if (!bar) return;
            if (checked > bar.getTotal()) bar.setTotal(checked);
            bar.update(checked);
          },
        });
        bar?.stop();
        bar = null;
        if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
        else if (result.ok) process.stdout.write(`audit log OK: ${result.entries} entries\n`);
        else process.stdout.write(`audit log TAMPERED: ${result.first_bad_seq !== undefined ? `first bad entry seq ${result.first_bad_seq} (of ${result.entries}): ` : ''}${result.problem ?? ''}\n`);
        if (!result.ok) process.exitCode = 1;
      } finally {
        bar?.stop();
        await db.close();
      }
    });
}
