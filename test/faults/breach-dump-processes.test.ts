// A breach dump uploaded to one API process (`serve --no-worker`) is imported by a `worker` process with a
// different data directory, as in the Kubernetes example where every pod has its own emptyDir: the
// encrypted spool lives in the database (breach_dump_chunks), not on the disk of the process that
// received the upload. Real processes on PostgreSQL; every request goes to 127.0.0.1.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { SEED_PASSWORD, seedAccounts } from '../support/seed.js';
import { cliEnv, killAll, spawnCli, startServe, startWorker, type CliProcess } from './support/processes.js';

describe('breach-dump upload across processes (PostgreSQL)', () => {
  let database: TestDatabase;
  const procs: CliProcess[] = [];
  const cleanups: Array<() => void> = [];
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await killAll(procs);
    for (const c of cleanups) c();
    await database.drop();
  });

  const chunkCount = async (id: string) =>
    Number((await database.db.db.selectFrom('breach_dump_chunks').select((eb) => eb.fn.countAll().as('n')).where('dump_id', '=', id).executeTakeFirstOrThrow()).n);

  it('an upload received by the API is matched by a worker in another process with another data dir', async () => {
    const [reused, other] = await seedAccounts(database.db, 2, 'spool-proc');
    const api = cliEnv({ databaseUrl: database.url });
    const work = cliEnv({ databaseUrl: database.url });
    cleanups.push(api.cleanup, work.cleanup);
    const apiDir = api.env.RESETGUARD_DATA_DIR!;
    const workerDir = work.env.RESETGUARD_DATA_DIR!;
    expect(apiDir).not.toBe(workerDir);

    const create = spawnCli('operator', ['operator', 'create', '--name', 'uploader', '--role', 'operator', '--json'], api.env);
    procs.push(create);
    expect((await create.exited).code, create.stderr()).toBe(0);
    const key = (JSON.parse(create.stdout()) as { key: string }).key;

    const server = await startServe('api', api.env, { worker: false });
    procs.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const dump = `${reused!.email}:${SEED_PASSWORD}\n${other!.email}:not the password\nstranger@example.net:whatever\n`;
    const res = await fetch(`${server.url}/v1/admin/breach-dumps?label=cross-process`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: dump,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };

    // Stored encrypted in the database; nothing in the API process's data dir, and no worker has it yet.
    expect(await chunkCount(id)).toBeGreaterThanOrEqual(2);
    expect(readdirSync(apiDir)).toEqual([]);
    const view = async () => (await (await fetch(`${server.url}/v1/admin/breach-dumps/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { state: string; counts: Record<string, number> };
    expect((await view()).state).toBe('queued');

    procs.push(await startWorker('worker', work.env));
    const deadline = Date.now() + 60_000;
    let v = await view();
    while (v.state !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      v = await view();
    }
    expect(v).toMatchObject({ state: 'completed', counts: { lines: 3, matched_emails: 2, verified: 2, confirmed_reuses: 1 } });
    const findings = (await (await fetch(`${server.url}/v1/admin/findings?source=breach_dump:${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { items: Array<{ account_id: string }> };
    expect(findings.items.map((f) => f.account_id)).toEqual([reused!.id]);
    // The spool is deleted once the dump is finished; the worker wrote nothing to its own disk either.
    expect(await chunkCount(id)).toBe(0);
    expect(readdirSync(workerDir)).toEqual([]);
  }, 150_000);
});
