// `resetguard operator list|create|disable|rotate-key`: the same service, rules and audit entries as the
// admin API, for whoever runs the CLI on a machine with the database's credentials (actor `cli`).
import type { Command } from 'commander';
import { AuditKeys } from '../audit/audit-hash.js';
import { AuditLog } from '../audit/audit.service.js';
import { loadConfig } from '../config.js';
import { systemClock } from '../lib/clock.js';
import { OperatorSessionsStore } from '../operators/operator-sessions.store.js';
import { OperatorsService } from '../operators/operators.service.js';
import { OperatorsStore } from '../operators/operators.store.js';
import { ROLES } from '../operators/roles.js';
import { ensureSchema, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';

const CLI_ACTOR = 'cli';

async function withOperators<T>(work: (operators: OperatorsService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  await ensureSchema(config.database);
  const db = openDatabase(config.database, { poolSize: 1 });
  try {
    await migrateToLatest(db, { secrets: config.secrets });
    const audit = new AuditLog({ db, clock: systemClock, keys: new AuditKeys(config.secrets) });
    return await work(new OperatorsService({ db, store: new OperatorsStore(db.db), audit, consoleSessions: new OperatorSessionsStore(db.db), clock: systemClock }));
  } finally {
    await db.close();
  }
}

const out = (line: string) => process.stdout.write(line + '\n');
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export function registerOperatorCommand(program: Command): void {
  const operator = program.command('operator').description('manage operators (every change is audited)');
  operator
    .command('create')
    .description('create an operator and print its API key (shown once)')
    .requiredOption('--name <name>', 'who this operator is')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print {"id","name","role","key"}')
    .action(async (opts: { name: string; role: string; json?: boolean }) => {
      const created = await withOperators((ops) => ops.create(opts.name, opts.role, CLI_ACTOR));
      if (opts.json) out(JSON.stringify(created));
      else out(`operator ${created.name} (${created.role}) created, id ${created.id}\nAPI key (shown once; store it now): ${created.key}\nuse it as: Authorization: Bearer ${created.key}`);
    });

  operator
    .command('list')
    .description('list operators, disabled ones too')
    .option('--json', 'one JSON object per line: {"id","name","role","created_at","disabled_at"}')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withOperators((ops) => ops.list());
      for (const r of rows) {
        if (opts.json) out(JSON.stringify({ id: r.id, name: r.name, role: r.role, created_at: iso(r.created_at), disabled_at: r.disabled_at === null ? null : iso(r.disabled_at) }));
        else out(`${r.id}  ${r.role.padEnd(8)}  ${r.disabled_at === null ? 'active  ' : 'disabled'}  created ${iso(r.created_at)}  ${r.name}`);
      }
      if (!opts.json && rows.length === 0) out('no operators yet: npx resetguard operator create --name NAME --role admin');
    });

  operator
    .command('disable <id>')
    .description('disable an operator: its key and console sessions stop at once (never the last admin)')
    .option('--reason <text>', 'why, for the audit log')
    .action(async (id: string, opts: { reason?: string }) => {
      const row = await withOperators((ops) => ops.disable(id, CLI_ACTOR, opts.reason ?? null));
      out(`operator ${row.name} (${row.role}) disabled at ${iso(row.disabled_at)}`);
    });

  operator
    .command('rotate-key <id>')
    .description('give an operator a new API key (shown once); the old key stops at once')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'print {"id","key"}')
    .action(async (id: string, opts: { reason?: string; json?: boolean }) => {
      const rotated = await withOperators((ops) => ops.rotateKey(id, CLI_ACTOR, opts.reason ?? null));
      if (opts.json) out(JSON.stringify(rotated));
      else out(`new API key for operator ${rotated.id} (shown once; the old key no longer works): ${rotated.key}`);
    });
}
