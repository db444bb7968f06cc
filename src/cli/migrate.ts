import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { ensureSchema, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (serve also does this at start)')
    .action(async () => {
      const config = loadConfig();
      await ensureSchema(config.database);
      const db = openDatabase(config.database, { poolSize: 1 });
      try {
        const { applied } = await migrateToLatest(db, { secrets: config.secrets });
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.close();
      }
    });
}
