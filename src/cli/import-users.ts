// `resetguard import-users FILE`: JSONL, one {"email","password_hash"} a line. Valid lines are imported
// even when others are not; the exit code tells a script what happened:
//   0 every line imported or skipped as existing, 1 some lines were invalid, 2 the file cannot be read.
// Configuration and database errors propagate to main.ts, which reports them with its own codes.
import { open, type FileHandle } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { importUsers, type ImportReport } from '../accounts/import-users.js';
import { systemClock } from '../lib/clock.js';
import { ensureSchema, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';

/** How many errors the human summary lists; `--json` carries all that the report kept. */
const ERRORS_SHOWN = 20;

class FileReadError extends Error {}

/** Tags read failures so they are told apart from database failures (exit 2, not a crash). */
async function* readChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) yield chunk as Buffer;
  } catch (err) {
    throw new FileReadError((err as Error).message);
  }
}

function summary(report: ImportReport): string {
  const lines = [
    `lines read:       ${report.lines}`,
    `imported:         ${report.imported}`,
    `already existing: ${report.skipped_existing}`,
    `invalid:          ${report.invalid}`,
  ];
  for (const e of report.errors.slice(0, ERRORS_SHOWN)) lines.push(`  line ${e.line}: ${e.code}: ${e.message}`);
  if (report.invalid > ERRORS_SHOWN) lines.push(`  … and ${report.invalid - ERRORS_SHOWN} more (--json lists the first ${report.errors.length})`);
  return lines.join('\n') + '\n';
}

export function registerImportUsersCommand(program: Command): void {
  program
    .command('import-users')
    .description('import users with their existing password hashes (JSONL: {"email","password_hash"} per line; argon2, bcrypt, scrypt, PBKDF2-SHA256)')
    .argument('<file>', 'JSONL file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let handle: FileHandle;
      let size: number;
      try {
        handle = await open(file, 'r');
        const stat = await handle.stat();
        if (stat.isDirectory()) {
          await handle.close();
          throw new Error('is a directory');
        }
        size = stat.isFile() ? stat.size : 0;
      } catch (err) {
        process.stderr.write(`resetguard: cannot read ${file}: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }

      const config = loadConfig();
      await ensureSchema(config.database);
      const db = openDatabase(config.database, { poolSize: 2 });
      // A bar only for a person watching: in a pipe or a log it would be noise.
      const bar =
        process.stderr.isTTY && size > 0
          ? new cliProgress.SingleBar(
              { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {imported} imported, {invalid} invalid', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : null;
      try {
        await migrateToLatest(db, { secrets: config.secrets });
        bar?.start(size, 0, { imported: 0, invalid: 0 });
        const report = await importUsers(db, readChunks(handle), {
          clock: systemClock,
          onProgress: (p) => bar?.update(p.bytes, { imported: p.imported, invalid: p.invalid }),
        });
        bar?.stop();
        process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : summary(report));
        if (report.invalid > 0) process.exitCode = 1;
      } catch (err) {
        bar?.stop();
        if (!(err instanceof FileReadError)) throw err;
        process.stderr.write(`resetguard: cannot read ${file}: ${err.message} (batches already committed stay imported; re-running skips them)\n`);
        process.exitCode = 2;
      } finally {
        await handle.close();
        await db.close();
      }
    });
}
