import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(_db: Kysely<any>, _d: DialectAdapter): Promise<void> {
  // filled in by its capability
}
