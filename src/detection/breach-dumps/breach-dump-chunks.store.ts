// Queries for the encrypted spool of uploaded dumps (breach_dump_chunks): appended while an upload streams
// in, read back a few frames at a time by whichever worker takes the dump, deleted when it is finished.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { FINISHED_STATES } from './breach-dumps.store.js';

export interface SpoolChunk {
  seq: number;
  bytes: Buffer;
}

export class BreachDumpChunksStore {
  constructor(private readonly db: Kysely<Database>) {}

  async append(dumpId: string, chunks: SpoolChunk[], now: number): Promise<void> {
    if (chunks.length === 0) return;
    await this.db
      .insertInto('breach_dump_chunks')
      .values(chunks.map((c) => ({ dump_id: dumpId, seq: c.seq, bytes: c.bytes, created_at: now })))
      .execute();
  }

  /** Up to `limit` chunks from `fromSeq` on, in order. */
  async read(dumpId: string, fromSeq: number, limit: number): Promise<SpoolChunk[]> {
    const rows = await this.db
      .selectFrom('breach_dump_chunks')
      .select(['seq', 'bytes'])
      .where('dump_id', '=', dumpId)
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), bytes: Buffer.from(r.bytes) }));
  }

  async remove(dumpId: string): Promise<number> {
    const r = await this.db.deleteFrom('breach_dump_chunks').where('dump_id', '=', dumpId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Dumps whose chunks nobody will read again: finished ones, and uploads with no row whose newest chunk
   * is older than `orphanBefore` (the upload died before it was queued; one still streaming keeps writing).
   */
  async sweepable(orphanBefore: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('breach_dump_chunks as c')
      .leftJoin('breach_dumps as d', 'd.id', 'c.dump_id')
      .select('c.dump_id')
      .where((eb) => eb.or([eb('d.id', 'is', null), eb('d.state', 'in', [...FINISHED_STATES])]))
      .groupBy(['c.dump_id', 'd.id'])
      .having((eb) => eb.or([eb('d.id', 'is not', null), eb(eb.fn.max('c.created_at'), '<', orphanBefore)]))
      .limit(limit)
      .execute();
    return rows.map((r) => r.dump_id);
  }
}
