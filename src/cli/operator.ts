import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { systemClock } from '../lib/clock.js';
import { OperatorsService } from '../operators/operators.service.js';
import { OperatorsStore } from '../operators/operators.store.js';
import { ROLES } from '../operators/roles.js';
import { ensureSchema, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';

export function registerOperatorCommand(program: Command): void {
  const operator = program.command('operator').description('manage operators');
  operator
    .command('create')
    .description('create an operator and print its API key (shown once)')
    .requiredOption('--name <name>', 'who this operator is')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print {"id","name","role","key"}')
    .action(async (opts: { name: string; role: string; json?: boolean }) => {
      const config = loadConfig();
      await ensureSchema(config.database);
      const db = openDatabase(config.database, { poolSize: 1 });
      try {
        await migrateToLatest(db);
        const created = await new OperatorsService(new OperatorsStore(db.db), systemClock).create(opts.name, opts.role);
        if (opts.json) {
          process.stdout.write(JSON.stringify(created) + '\n');
        } else {
          process.stdout.write(
            `operator ${created.name} (${created.role}) created, id ${created.id}\n` +
              `API key (shown once; store it now): ${created.key}\n` +
              `use it as: Authorization: Bearer ${created.key}\n`,
          );
        }
      } finally {
        await db.close();
      }
    });
}
