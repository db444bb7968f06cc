// One migration set for both databases. Kysely's Migrator takes the dialect's migration lock: on
// PostgreSQL a session advisory lock (two processes starting at once cannot race); on SQLite a no-op,
// because the database's own write lock already serializes the migration transaction.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import type { DialectAdapter } from './dialect.js';
import * as m0001 from './migrations/0001-foundation.js';
import * as m0002 from './migrations/0002-audit.js';
import * as m0003 from './migrations/0003-webhooks.js';
import * as m0004 from './migrations/0004-campaigns.js';
import * as m0005 from './migrations/0005-findings.js';
import * as m0006 from './migrations/0006-breach-dumps.js';
import * as m0007 from './migrations/0007-stuffing.js';
import * as m0008 from './migrations/0008-tripwire-index.js';
import * as m0009 from './migrations/0009-notice-bounces.js';
import * as m0010 from './migrations/0010-operator-sessions.js';
import * as m0011 from './migrations/0011-notice-campaign-index.js';
import * as m0012 from './migrations/0012-notice-secrets-at-send.js';
import * as m0014 from './migrations/0014-account-lifecycle.js';
import * as m0015 from './migrations/0015-second-factor-devices.js';
import * as m0016 from './migrations/0016-security-phrases.js';
import * as m0017 from './migrations/0017-operator-desk.js';
import * as m0018 from './migrations/0018-keyed-audit.js';
import * as m0020 from './migrations/0020-breach-dump-chunks.js';
import * as m0021 from './migrations/0021-revert-requests.js';
import * as m0022 from './migrations/0022-email-skeleton.js';
import * as m0023 from './migrations/0023-account-clustered-rows.js';

const steps = { '0001-foundation': m0001, '0002-audit': m0002, '0003-webhooks': m0003, '0004-campaigns': m0004, '0005-findings': m0005, '0006-breach-dumps': m0006, '0007-stuffing': m0007, '0008-tripwire-index': m0008, '0009-notice-bounces': m0009, '0010-operator-sessions': m0010, '0011-notice-campaign-index': m0011, '0012-notice-secrets-at-send': m0012, '0014-account-lifecycle': m0014, '0015-second-factor-devices': m0015, '0016-security-phrases': m0016, '0017-operator-desk': m0017, '0018-keyed-audit': m0018, '0020-breach-dump-chunks': m0020, '0021-revert-requests': m0021, '0022-email-skeleton': m0022, '0023-account-clustered-rows': m0023 } as const satisfies Record<string, Step>;

/** What a step may need besides the database: the secrets, to re-key what they sign (0018). */
export interface MigrationContext {
  secrets?: Buffer[];
}
interface Step {
  up(db: Kysely<any>, d: DialectAdapter, ctx: MigrationContext): Promise<void>;
}

class StaticProvider implements MigrationProvider {
  constructor(
    private readonly db: Db,
    private readonly ctx: MigrationContext,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, step] of Object.entries(steps as Record<string, Step>)) {
      out[name] = { up: (kdb) => step.up(kdb, this.db.dialect, this.ctx) };
    }
    return out;
  }
}

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Db, ctx: MigrationContext = {}): Promise<MigrationReport> {
  const schema = await db.dialect.migrationSchema(db.db);
  // Unordered: numbers are handed out ahead of landing, so a database may have run 0021 before 0018
  // existed; pending steps still run in name order.
  const migrator = new Migrator({ db: db.db, provider: new StaticProvider(db, ctx), allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message ?? String(error)}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
