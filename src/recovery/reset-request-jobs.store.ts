// reset_request_jobs: the queue behind reset requests, sign-ups, verification re-sends and email changes
// (reset-request-queue.ts says why they are queued). A job is claimed by deleting it.
import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';

export interface RequestJob {
  kind: string;
  email: string;
  ip: string;
  payload: string | null;
}

export async function insertRequestJob(db: Kysely<Database>, job: RequestJob, now: number): Promise<void> {
  await db.insertInto('reset_request_jobs').values({ ...job, created_at: now }).execute();
}

/** Takes the `limit` oldest jobs by deleting them (DELETE … RETURNING, SKIP LOCKED where the dialect has it). */
export async function claimRequestJobs(db: Kysely<Database>, dialect: DialectAdapter, limit: number): Promise<RequestJob[]> {
  return db
    .deleteFrom('reset_request_jobs')
    .where('id', 'in', (qb) => dialect.lockForClaim(qb.selectFrom('reset_request_jobs').select('id').orderBy('id').limit(limit)))
    .returning(['kind', 'email', 'ip', 'payload'])
    .execute();
}
