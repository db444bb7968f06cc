// The audit.checkpoint webhook end to end, on both databases: the app's checkpointer signs the head,
// the webhook worker delivers it to a receiver on 127.0.0.1 (loopback only, allowed by
// RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1), the delivery's Standard Webhooks signature checks with the
// reference `standardwebhooks` package, the checkpoint's own signature checks under the chain key, and
// cutting the newest entries off afterwards makes GET /v1/admin/audit/verify say not ok.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSignature } from '../src/audit/audit-hash.js';
import { bearer, startTestApp, TEST_AUDIT_KEYS, type TestApp } from './support/app.js';
import { DIALECTS } from './support/databases.js';

describe.each(DIALECTS)('audit.checkpoint webhook on %s', (kind) => {
  let t: TestApp;
  let server: Server;
  const received: Array<{ headers: Record<string, string>; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t = await startTestApp(kind, { logLevel: 'info', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers a signed checkpoint of the head, logs it, and verify then catches a cut-off tail', async () => {
    const { port } = server.address() as AddressInfo;
    const { secret } = await t.app.services.webhooks.create(`http://127.0.0.1:${port}/audit`, ['audit.checkpoint'], 'test');
    const admin = await t.app.services.operators.create('admin person', 'admin');
    const checkpoint = await t.app.auditCheckpoints.runOnce();
    const head = await t.app.db.db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(checkpoint).toMatchObject({ seq: Number(head.seq), head_hash: head.hash, key_id: TEST_AUDIT_KEYS.signing.id });
    await t.app.webhookWorker.drain(10_000);

    expect(received).toHaveLength(1);
    const delivered = new Webhook(secret.slice('whsec_'.length)).verify(received[0]!.body, received[0]!.headers) as { type: string; data: { seq: number; head_hash: string; at: string; key_id: string; signature: string } };
    expect(delivered.type).toBe('audit.checkpoint');
    expect(delivered.data).toEqual(checkpoint);
    expect(delivered.data.signature).toBe(checkpointSignature(TEST_AUDIT_KEYS.signing.key, delivered.data));
    expect(t.logs.join('')).toContain(`"audit_checkpoint":{"seq":${checkpoint!.seq}`);

    const verify = async () => (await t.app.http.inject({ method: 'GET', url: '/v1/admin/audit/verify', headers: bearer(admin.key) })).json();
    expect(await verify()).toMatchObject({ ok: true });
    await t.app.db.db.deleteFrom('audit_log').where('seq', '=', head.seq).execute();
    expect(await verify()).toMatchObject({ ok: false, first_bad_seq: Number(head.seq) });
  });
});
