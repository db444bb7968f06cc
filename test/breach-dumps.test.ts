// Third-party breach dumps end to end: a 1,000,000-line dump finds exactly the accounts that reuse their
// password, in flat memory; dirty formats; cancel and resume without duplicate findings; the HTTP upload
// through its encrypted spool and the worker on SQLite and PostgreSQL; no dump password in any log.
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { ImportProgress } from '../src/detection/breach-dumps/breach-dump-import.js';
import type { Db } from '../src/storage/database.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { DIALECTS } from './support/databases.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'resetguard-breach-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Victim {
  id: string;
  email: string;
  password: string;
}

/** A cheap legacy hash (PBKDF2-SHA256, 10 rounds) of the NFKC form, as an import would have stored it. */
function pbkdf2Hash(password: string, salt: string): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$pbkdf2-sha256$i=10,l=32$${b64(Buffer.from(salt))}$${b64(pbkdf2Sync(password.normalize('NFKC'), salt, 10, 32, 'sha256'))}`;
}

/** Accounts with their own passwords, hashed cheaply so that 10,000 of them seed in a moment. */
async function seedVictims(db: Db, count: number, prefix: string, password = (i: number) => `${prefix} secret ${i} ✓`): Promise<Victim[]> {
  const now = Date.now();
  const victims = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), email: `${prefix}${i}@victims.example`, password: password(i) }));
  for (let i = 0; i < victims.length; i += 500) {
    const chunk = victims.slice(i, i + 500);
    await db.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values(chunk.map((v) => ({ id: v.id, email: v.email, created_at: now, password_changed_at: now }))).execute();
      await trx
        .insertInto('credentials')
        .values(chunk.map((v) => ({ account_id: v.id, hash: pbkdf2Hash(v.password, v.id.slice(0, 16)), scheme: 'pbkdf2-sha256', state: 'active', updated_at: now })))
        .execute();
    });
  }
  return victims;
}

async function findingsOf(app: App, dumpId: string) {
  return app.db.db.selectFrom('findings').select(['account_id', 'kind', 'evidence', 'dedupe_key']).where('source', '=', `breach_dump:${dumpId}`).execute();
}

const importFile = (app: App, path: string, opts: { label?: string; resumeId?: string; shouldStop?: () => boolean; onProgress?: (p: ImportProgress) => void | Promise<void> } = {}) =>
  app.services.breachDumps.importFile(path, { actor: 'test', workerId: `test:${randomUUID()}`, ...opts });

describe('a 1,000,000-line dump (SQLite)', () => {
  const LINES = 1_000_000;
  const MATCHING = 10_000;
  const REUSING = 1_000;
  const DUPLICATES = 500;
  const GARBAGE = 1_000;
  let t: TestApp;
  let victims: Victim[];
  let file: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'warn' });
    victims = await seedVictims(t.app.db, MATCHING, 'big');
    // Non-matching lines around every matching one; the first REUSING victims leak their real password,
    // the rest an old one. Some emails in other cases (normalized like ours), repeats, and garbage.
    file = join(dir, 'big.txt');
    const fd = openSync(file, 'w');
    const matchEvery = Math.floor((LINES - DUPLICATES - GARBAGE) / MATCHING);
    let written = 0;
    let buf: string[] = [];
    let v = 0;
    const push = (line: string) => {
      buf.push(line);
      written++;
      if (buf.length === 10_000) {
        writeSync(fd, buf.join('\n') + '\n');
        buf = [];
      }
    };
    for (let i = 0; written < LINES - DUPLICATES; i++) {
      if (i % matchEvery === 0 && v < MATCHING) {
        const victim = victims[v]!;
        const email = v % 3 === 0 ? victim.email.toUpperCase() : victim.email;
        push(`${email}:${v < REUSING ? victim.password : `an old password ${v}`}`);
        v++;
      } else if (i % 997 === 0 && written - v < LINES - DUPLICATES - MATCHING && i / 997 < GARBAGE) {
        push(i % 2 ? `garbage without separator ${i}` : `not-an-email-${i}:password`);
      } else {
        push(`someone.${i}@elsewhere${i % 50}.example:password ${i}`);
      }
    }
    for (let d = 0; d < DUPLICATES; d++) push(`${victims[d]!.email}:${victims[d]!.password}`);
    writeSync(fd, buf.join('\n') + (buf.length ? '\n' : ''));
    closeSync(fd);
    expect(v).toBe(MATCHING);
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('records exactly the 1,000 reused passwords, in flat memory', async () => {
    // The verify threads (two, so the bound does not depend on the core count) are started by a one-line
    // import first and kept by the service: what is measured is the run's growth, not thread start-up
    // (which under tsx compiles the worker's modules in each thread).
    const options = t.app.services.breachDumps.options;
    options.poolSize = 2;
    const warmup = join(dir, 'warmup.txt');
    writeFileSync(warmup, `${victims[MATCHING - 1]!.email}:warm-up guess\n`);
    expect((await importFile(t.app, warmup)).view.counts.verified).toBe(1);
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    let samples = 0;
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      samples++;
    };
    const timer = setInterval(sample, 20);
    let result;
    try {
      result = await importFile(t.app, file, { label: 'one million lines', onProgress: sample });
    } finally {
      clearInterval(timer);
      delete options.poolSize;
    }
    expect(result.outcome).toBe('completed');
    const { counts, progress, state } = result.view;
    expect(state).toBe('completed');
    expect(progress.bytes_done).toBe(progress.bytes_total);
    expect(counts.lines).toBe(LINES);
    expect(counts.matched_emails).toBe(MATCHING + DUPLICATES);
    expect(counts.candidate_pairs).toBe(MATCHING);
    expect(counts.verified).toBe(MATCHING);
    expect(counts.confirmed_reuses).toBe(REUSING);
    const findings = await findingsOf(t.app, result.view.id);
    expect(new Set(findings.map((f) => f.account_id))).toEqual(new Set(victims.slice(0, REUSING).map((v) => v.id)));
    expect(findings).toHaveLength(REUSING);
    for (const f of findings) {
      expect(f.kind).toBe('breach_reuse');
      expect(f.dedupe_key).toBe(`breach_reuse:${result.view.id}:${f.account_id}`);
      expect(Object.keys(JSON.parse(f.evidence)).sort()).toEqual(['dump_id', 'line_offset']);
    }
    // Memory: a bound, not a timing. The whole file is ~45 MB and the run touches 1,000,000 lines.
    expect(samples).toBeGreaterThan(10);
    expect(peakHeap - before.heapUsed, 'heap growth').toBeLessThan(150 * 1024 ** 2);
    expect(peakRss - before.rss, 'RSS growth').toBeLessThan(150 * 1024 ** 2);
  }, 60_000);
});

describe('dirty dumps, cancel and resume (SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'warn' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads a BOM, CRLF, quoted CSV, blank and malformed lines', async () => {
    const [a, b, c, d, e] = await seedVictims(t.app.db, 5, 'dirty', (i) => [`pass:with:colons`, `comma, "quotes"`, `plain`, `Ｆｕｌｌｗｉｄｔｈ`, 'never leaked'][i]!);
    const lines = [
      'email,password',
      `${a!.email}:pass:with:colons`,
      '',
      `"${b!.email.toUpperCase()}","comma, ""quotes"""`,
      `${c!.email},plain`,
      '   ',
      'no separator at all',
      'not-an-email:password',
      `${c!.email}:`,
      `${e!.email},"unterminated`,
      `${e!.email},too,many`,
      `${d!.email}:Fullwidth`, // NFKC of the stored password: sign-in would accept it, so is it reuse
      `${e!.email}:wrong guess`,
      `${a!.email}:pass:with:colons`,
    ];
    const path = join(dir, 'dirty.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n'), Buffer.from([0x78, 0x40, 0x79, 0x2e, 0x7a, 0x3a, 0xc3, 0x28, 0x0d, 0x0a])]));
    const { view } = await importFile(t.app, path);
    expect(view.state).toBe('completed');
    // 15 lines in the file: the header and 2 blank ones are not counted; 6 are garbage (the last one is
    // not UTF-8). Of the 6 matched lines, one repeats a pair: 5 verified, 4 reuses (e's guess is wrong).
    expect(view.counts).toEqual({ lines: 12, invalid_lines: 6, matched_emails: 6, candidate_pairs: 5, verified: 5, confirmed_reuses: 4 });
    expect(new Set((await findingsOf(t.app, view.id)).map((f) => f.account_id))).toEqual(new Set([a!.id, b!.id, c!.id, d!.id]));
    expect(view.progress).toEqual({ bytes_total: readFileSync(path).length, bytes_done: readFileSync(path).length, fraction: 1 });
  });

  it('never verifies a force-reset credential', async () => {
    const [v] = await seedVictims(t.app.db, 1, 'forced');
    await t.app.db.db.updateTable('credentials').set({ state: 'reset_required' }).where('account_id', '=', v!.id).execute();
    const path = join(dir, 'forced.txt');
    writeFileSync(path, `${v!.email}:${v!.password}\n`);
    const { view } = await importFile(t.app, path);
    expect(view.counts).toMatchObject({ lines: 1, matched_emails: 0, confirmed_reuses: 0 });
  });

  async function makeDump(prefix: string) {
    const victims = await seedVictims(t.app.db, 2_000, prefix);
    const lines: string[] = [];
    victims.forEach((v, i) => {
      lines.push(`nobody${i}@${prefix}.example:x${i}`, `${v.email}:${i % 4 === 0 ? v.password : 'stale'}`, i % 10 === 0 ? 'junk' : '');
      if (i % 7 === 0) lines.push(`${v.email}:${v.password}`); // repeats, across checkpoints too
    });
    const path = join(dir, `${prefix}.txt`);
    writeFileSync(path, lines.join('\n') + '\n');
    return { victims, path, reusing: new Set(victims.filter((_, i) => i % 4 === 0 || i % 7 === 0).map((v) => v.id)) };
  }

  it('cancels at a checkpoint, resumes from it, and ends with each finding once and the counters of a clean run', async () => {
    const svc = t.app.services.breachDumps;
    const opts = svc.options;
    const saved = { batchLines: opts.batchLines, commitIntervalMs: opts.commitIntervalMs };
    // Small batches and a checkpoint after each one: many places to stop in a small dump.
    Object.assign(opts, { batchLines: 200, commitIntervalMs: 0 });
    try {
      const clean = await makeDump('clean');
      const reference = (await importFile(t.app, clean.path)).view;
      expect(reference.counts.confirmed_reuses).toBe(clean.reusing.size);

      const { path, reusing } = await makeDump('cancel');
      let cancelled = false;
      const first = await importFile(t.app, path, {
        // An operator cancels once the checkpoint has moved; the importer sees it at its next checkpoint.
        onProgress: async (p) => {
          if (p.checkpoint > 0 && !cancelled) {
            cancelled = true;
            await svc.cancel(p.dumpId, { id: 'op', name: 'op', role: 'operator' });
          }
        },
      });
      const id = first.view.id;
      expect(first.outcome).toBe('cancelled');
      expect(first.view.state).toBe('cancelled');
      const stoppedAt = first.view.progress.bytes_done;
      expect(stoppedAt).toBeGreaterThan(0);
      expect(stoppedAt).toBeLessThan(first.view.progress.bytes_total);
      const partial = await findingsOf(t.app, id);
      expect(partial.length).toBe(first.view.counts.confirmed_reuses);
      expect(partial.length).toBeLessThan(reusing.size);

      // Resume the cancelled import with the same file: it continues at the checkpoint.
      const resumed = await importFile(t.app, path, { resumeId: id });
      expect(resumed.outcome).toBe('completed');
      const findings = await findingsOf(t.app, id);
      expect(findings.map((f) => f.account_id).sort()).toEqual([...reusing].sort());
      const { verified: _v, candidate_pairs: _c, ...same } = resumed.view.counts;
      const { verified: _rv, candidate_pairs: _rc, ...want } = reference.counts;
      expect(same).toEqual(want);
      // Pairs seen before the checkpoint may be verified again after it (the dedupe Set is not stored).
      expect(resumed.view.counts.candidate_pairs).toBeGreaterThanOrEqual(reference.counts.candidate_pairs);
      expect(resumed.view.counts.verified).toBe(resumed.view.counts.candidate_pairs);
      expect(resumed.view.counts.confirmed_reuses).toBe(reusing.size);

      const actions = await t.app.db.db.selectFrom('audit_log').select('action').where('subject', '=', `breach_dump:${id}`).orderBy('seq').execute();
      expect(actions.map((a) => a.action)).toEqual(['breach_dump.imported', 'breach_dump.cancel_requested', 'breach_dump.cancelled', 'breach_dump.resumed', 'breach_dump.completed']);
    } finally {
      Object.assign(opts, saved);
    }
  });

  it('stops on shutdown and resumes where it stopped, findings exactly once; a different file is refused', async () => {
    const svc = t.app.services.breachDumps;
    const saved = { batchLines: svc.options.batchLines, commitIntervalMs: svc.options.commitIntervalMs };
    Object.assign(svc.options, { batchLines: 100, commitIntervalMs: 0 });
    try {
      const { path, reusing } = await makeDump('stop');
      let progressCalls = 0;
      const first = await importFile(t.app, path, { onProgress: () => void progressCalls++, shouldStop: () => progressCalls >= 5 });
      expect(first.outcome).toBe('stopped');
      expect(first.view).toMatchObject({ state: 'running', interrupted: true });
      const id = first.view.id;

      writeFileSync(join(dir, 'other.txt'), 'x@y.example:z\n');
      await expect(importFile(t.app, join(dir, 'other.txt'), { resumeId: id })).rejects.toThrow(/not the same file/);

      const second = await importFile(t.app, path, { resumeId: id });
      expect(second.view.state).toBe('completed');
      const findings = await findingsOf(t.app, id);
      expect(findings).toHaveLength(reusing.size);
      expect(new Set(findings.map((f) => f.account_id))).toEqual(reusing);
      expect(second.view.counts.confirmed_reuses).toBe(reusing.size);
      await expect(importFile(t.app, path, { resumeId: id })).rejects.toThrow(/already completed/);
    } finally {
      Object.assign(svc.options, saved);
    }
  });
});

describe.each(DIALECTS)('HTTP upload through the worker on %s', (kind) => {
  let t: TestApp;
  let operator: string;
  let viewer: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'resetguard-breach-data-'));
  const chunks = (id: string) => t.app.db.db.selectFrom('breach_dump_chunks').select('bytes').where('dump_id', '=', id).orderBy('seq').execute();

  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'trace', env: { RESETGUARD_DATA_DIR: dataDir } });
    operator = (await t.app.services.operators.create('uploader', 'operator')).key;
    viewer = (await t.app.services.operators.create('watcher', 'viewer')).key;
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('spools the upload encrypted, answers 202, and the worker finds the reuses, then deletes the spool', async () => {
    const victims = await seedVictims(t.app.db, 300, `http-${kind}-`);
    const reusing = victims.filter((_, i) => i % 5 === 0);
    const canary = 'Upload-Canary-Passphrase';
    const lines = ['email,password'];
    victims.forEach((v, i) => {
      lines.push(`"${v.email}","${i % 5 === 0 ? v.password : `${canary} ${i}`}"`);
      lines.push(`stranger${i}@example.net,${canary}-${i}`);
    });
    const body = lines.join('\r\n');
    // A streamed body (chunked, no Content-Length), as curl --data-binary @file -H 'Transfer-Encoding: chunked' sends it.
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/admin/breach-dumps?label=partner%20leak',
      headers: { ...bearer(operator), 'content-type': 'text/csv; charset=utf-8' },
      payload: Readable.from([body.slice(0, 1000), body.slice(1000)]),
    });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    expect(res.json()).toEqual({ id, state: 'queued', bytes_total: Buffer.byteLength(body) });
    expect(res.headers.location).toBe(`/v1/admin/breach-dumps/${id}`);

    // Stored in the database (any worker can read it), but not in the clear; nothing in the data dir.
    const raw = Buffer.concat((await chunks(id)).map((c) => Buffer.from(c.bytes)));
    expect(raw.length).toBeGreaterThan(Buffer.byteLength(body));
    expect(existsSync(join(dataDir, 'breach-dumps'))).toBe(false);
    expect(raw.includes(Buffer.from(canary))).toBe(false);
    expect(raw.includes(Buffer.from(victims[0]!.password))).toBe(false);
    expect(raw.includes(Buffer.from(victims[0]!.email))).toBe(false);

    const queued = await t.app.http.inject({ method: 'GET', url: `/v1/admin/breach-dumps/${id}`, headers: bearer(viewer) });
    expect(queued.json()).toMatchObject({ id, state: 'queued', label: 'partner leak', origin: 'upload', progress: { bytes_done: 0 } });

    await t.app.breachDumpWorker.drain(30_000);
    const done = (await t.app.http.inject({ method: 'GET', url: `/v1/admin/breach-dumps/${id}`, headers: bearer(viewer) })).json();
    expect(done).toMatchObject({
      state: 'completed',
      interrupted: false,
      progress: { bytes_done: Buffer.byteLength(body), bytes_total: Buffer.byteLength(body), fraction: 1 },
      counts: { lines: 600, invalid_lines: 0, matched_emails: 300, candidate_pairs: 300, verified: 300, confirmed_reuses: reusing.length },
      findings_source: `breach_dump:${id}`,
    });
    expect(await chunks(id)).toEqual([]);

    const listed = await t.app.http.inject({ method: 'GET', url: `/v1/admin/findings?source=breach_dump:${id}&limit=500`, headers: bearer(viewer) });
    expect(listed.json().items.map((f: { account_id: string }) => f.account_id).sort()).toEqual(reusing.map((v) => v.id).sort());

    const audit = await t.app.db.db.selectFrom('audit_log').select(['action', 'actor']).where('subject', '=', `breach_dump:${id}`).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['breach_dump.uploaded', 'breach_dump.completed']);
    expect(audit[0]!.actor).toMatch(/^operator:/);

    // Logged at trace level throughout: no dump password, and no line of the dump, anywhere.
    const logs = t.logs.join('');
    expect(logs).toContain(id);
    expect(logs).not.toContain(canary);
    for (const v of reusing) expect(logs).not.toContain(v.password);
  });

  it('cancels a queued upload at once (spool deleted, the worker leaves it alone)', async () => {
    const res = await t.app.http.inject({ method: 'POST', url: '/v1/admin/breach-dumps', headers: { ...bearer(operator), 'content-type': 'text/plain' }, payload: 'a@example.com:Cancel-Canary-1\n' });
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/admin/breach-dumps/${id}/cancel`, headers: bearer(viewer) })).statusCode).toBe(403);
    const cancelled = await t.app.http.inject({ method: 'POST', url: `/v1/admin/breach-dumps/${id}/cancel`, headers: bearer(operator) });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'cancelled', cancel_requested: true });
    expect(await chunks(id)).toEqual([]);
    await t.app.breachDumpWorker.drain(10_000);
    expect((await t.app.services.breachDumps.view(id)).state).toBe('cancelled');
    // Cancelling again changes nothing; a completed dump cannot be cancelled.
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/admin/breach-dumps/${id}/cancel`, headers: bearer(operator) })).statusCode).toBe(200);
    const audit = await t.app.db.db.selectFrom('audit_log').select('action').where('subject', '=', `breach_dump:${id}`).execute();
    expect(audit.map((a) => a.action)).toEqual(['breach_dump.uploaded', 'breach_dump.cancel_requested']);
  });

  it('leaves an upload another live worker holds alone, and takes it over once that lease runs out', async () => {
    const [v] = await seedVictims(t.app.db, 1, `lease-${kind}-`);
    const res = await t.app.http.inject({ method: 'POST', url: '/v1/admin/breach-dumps', headers: { ...bearer(operator), 'content-type': 'text/plain' }, payload: `${v!.email}:${v!.password}\n` });
    const id = res.json().id as string;
    const db = t.app.db.db;
    // Another process holds it (running, lease valid): this worker must not touch it.
    await db.updateTable('breach_dumps').set({ state: 'running', locked_by: 'other-host:1:abc', locked_until: Date.now() + 60_000 }).where('id', '=', id).execute();
    await t.app.breachDumpWorker.drain(10_000);
    expect(await t.app.services.breachDumps.view(id)).toMatchObject({ state: 'running', interrupted: false, counts: { lines: 0 } });
    // That process died: its lease ran out, so the dump shows as interrupted and a worker resumes it.
    await db.updateTable('breach_dumps').set({ locked_until: Date.now() - 1 }).where('id', '=', id).execute();
    expect((await t.app.services.breachDumps.view(id)).interrupted).toBe(true);
    await t.app.breachDumpWorker.drain(10_000);
    expect(await t.app.services.breachDumps.view(id)).toMatchObject({ state: 'completed', counts: { lines: 1, confirmed_reuses: 1 } });
    expect(await chunks(id)).toEqual([]);
  });

  it('refuses what is not a dump with a clear 4xx', async () => {
    const post = (headers: Record<string, string>, payload?: string | object) =>
      t.app.http.inject({ method: 'POST', url: '/v1/admin/breach-dumps', headers: { ...bearer(operator), ...headers }, ...(payload !== undefined ? { payload } : {}) });
    const json = await post({ 'content-type': 'application/json' }, { lines: ['a@b.c:d'] });
    expect([json.statusCode, json.json().code]).toEqual([415, 'unsupported_media_type']);
    const octets = await post({ 'content-type': 'application/octet-stream' }, 'a@example.com:x');
    expect([octets.statusCode, octets.json().code]).toEqual([415, 'unsupported_media_type']);
    const gzip = await post({ 'content-type': 'text/plain', 'content-encoding': 'gzip' }, 'a@example.com:x');
    expect(gzip.statusCode).toBe(415);
    const latin1 = await post({ 'content-type': 'text/plain; charset=ISO-8859-1' }, 'a@example.com:x');
    expect(latin1.statusCode).toBe(415);
    const empty = await post({ 'content-type': 'text/plain' }, '');
    expect([empty.statusCode, empty.json().code]).toEqual([400, 'invalid_request']);
    const label = await t.app.http.inject({ method: 'POST', url: '/v1/admin/breach-dumps?label=%00bad', headers: { ...bearer(operator), 'content-type': 'text/plain' }, payload: 'a@example.com:x' });
    expect(label.statusCode).toBe(400);
    const huge = await post({ 'content-type': 'text/plain', 'content-length': String(64 * 1024 ** 3) }, 'a@example.com:x');
    expect(huge.statusCode).toBe(413);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/admin/breach-dumps/not-a-dump', headers: bearer(viewer) })).statusCode).toBe(404);
    expect((await t.app.http.inject({ method: 'GET', url: `/v1/admin/breach-dumps/${randomUUID()}`, headers: bearer(viewer) })).statusCode).toBe(404);
    // Nothing of the refused uploads was left behind: the only spool chunks are those of dumps with a row.
    const left = await t.app.db.db.selectFrom('breach_dump_chunks as c').leftJoin('breach_dumps as d', 'd.id', 'c.dump_id').select('c.dump_id').where('d.id', 'is', null).execute();
    expect(left).toEqual([]);
  });
});

describe('resetguard breach import (the CLI)', () => {
  it('imports a file and prints the dump id and final counts', async () => {
    const dbPath = join(dir, 'cli.db');
    const env = { ...process.env, NODE_ENV: 'development', RESETGUARD_LOG_LEVEL: 'warn', RESETGUARD_DATABASE_URL: dbPath, RESETGUARD_SECRET: 'cli-test-secret-0123456789abcdefghijklmnop' };
    const file = join(dir, 'cli-dump.txt');
    writeFileSync(file, 'a@example.com:one\njunk\n\nb@example.com,two\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'breach', 'import', file, '--label', 'cli test'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^breach dump [0-9a-f-]{36} completed\n/);
    expect(r.stdout).toContain('lines:            3\n');
    expect(r.stdout).toContain('invalid:          1\n');
    expect(r.stdout).toContain('matched emails:   0\n');
    expect(r.stdout).toContain('confirmed reuses: 0\n');
    const missing = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'breach', 'import', join(dir, 'nope.txt')], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});
