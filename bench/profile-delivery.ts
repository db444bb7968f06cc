// Where notice delivery spends its main-thread time: sends N rendered reset_request mails through raw
// pooled nodemailer, then N queued notices through the notice worker, both with TCP_NODELAY, to the
// counting sink, and writes one V8 CPU profile per phase. A diagnostic beside the delivery bench, not
// part of `npm run bench`:
//   node --import tsx bench/profile-delivery.ts postgres|sqlite [N=3000] [outDir=/tmp/profile-delivery]
import { mkdirSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { Metrics } from '../src/lib/metrics.js';
import { Keyring, randomId, randomToken } from '../src/lib/secrets.js';
import { createMailTransport, toMailOptions } from '../src/notices/mail-transport.js';
import { createNoticeWorker } from '../src/notices/notice-worker.js';
import { NoticeOutbox, messageIdDomainFor } from '../src/notices/outbox.store.js';
import { render } from '../src/notices/templates/index.js';
import { formatVerificationCode, generateVerificationCode } from '../src/notices/verification-code.js';
import { createTestDatabase } from '../test/support/databases.js';
import { benchConfig, resetguardEnv } from './support/bench-app.js';
import { startCountingSink } from './support/counting-smtp-sink.js';
import { discardLogs, runBounded, sleep } from './support/harness.js';
import { forceNoDelay } from './support/no-delay.js';
import { perItem, profiled } from './support/profiler.js';

const kind = (process.argv[2] ?? 'postgres') as 'postgres' | 'sqlite';
const N = Number(process.argv[3] ?? 3000);
const outDir = process.argv[4] ?? '/tmp/profile-delivery';
mkdirSync(outDir, { recursive: true });

forceNoDelay();

async function phase(name: string, fn: () => Promise<void>): Promise<void> {
  const { ms, cpu } = await profiled(`${outDir}/${kind}-${name}.cpuprofile`, fn);
  console.log(`${name}: ${((N / ms) * 1000).toFixed(0)} msgs/s; per message main thread ${perItem(cpu.main, N)}, whole process ${perItem(cpu.process, N)}, PostgreSQL ${perItem(cpu.postgres, N)}`);
}

const database = await createTestDatabase(kind);
const sink = await startCountingSink();
const config = benchConfig(database, { ...resetguardEnv(), RESETGUARD_SMTP_URL: sink.url });
const keyring = new Keyring(config.secrets);
const metrics = new Metrics();
const logger = createLogger('info', discardLogs());
const messageIdDomain = messageIdDomainFor(config);
const outbox = new NoticeOutbox({ keyring, clock: systemClock, messageIdDomain, dialect: database.db.dialect, metrics });
const transport = createMailTransport(config, database.db);
const poolSize = config.delivery.smtpPoolSize;
const baseline = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: poolSize, logger: false, debug: false });
const now = Date.now();
const payload = { requested_at: now, expires_at: now + 3_600_000, ip: '203.0.113.7' };
const sample = render('reset_request', payload, { publicUrl: config.publicUrl, recipient: 'holder@bench.example', noticeId: randomId(), verificationCode: formatVerificationCode(generateVerificationCode()), secret: randomToken() });

const sent = async () => (await metrics.noticeTransitions.get()).values.filter((v) => v.labels.state === 'sent').reduce((n, v) => n + v.value, 0);
async function enqueue(count: number, tag: string): Promise<void> {
  for (let done = 0; done < count; done += 200) {
    await database.db.db.transaction().execute(async (trx) => {
      for (let i = done; i < Math.min(count, done + 200); i++) {
        await outbox.enqueue(trx, { kind: 'reset_request', accountId: null, recipient: `holder-${tag}${i}@bench.example`, payload, secret: randomToken(), idempotencyKey: `prof:${tag}:${i}` });
      }
    });
  }
}
async function workerRun(count: number): Promise<void> {
  const target = (await sent()) + count;
  const worker = createNoticeWorker({ db: database.db, config, keyring, transport, clock: systemClock, logger, metrics });
  worker.start();
  while ((await sent()) < target) await sleep(2);
  await worker.stop();
}
const baselineRun = async (count: number) => {
  const mails = Array.from({ length: count }, (_, i) => toMailOptions({ from: config.mailFrom, to: `holder-${i}@bench.example`, subject: sample.subject, text: sample.text, html: sample.html, messageId: `<${randomId()}@${messageIdDomain}>`, headers: { 'X-Resetguard-Notice': 'reset_request' } }));
  await runBounded(count, poolSize, async (i) => void (await baseline.sendMail(mails[i]!)));
};

try {
  await baselineRun(200);
  await enqueue(200, 'warm');
  await workerRun(200);
  await phase('baseline', () => baselineRun(N));
  await enqueue(N, 'run');
  await phase('worker', () => workerRun(N));
} finally {
  baseline.close();
  await transport.close();
  await sink.stop();
  await database.drop();
}
