// Sends ONE claimed notice and settles it: sent, retry later, or failed. The rules:
// - a permanent refusal (SMTP 5xx), a secret that no longer unseals, or a payload no template can
//   render fails at once: retrying cannot change the outcome;
// - anything else (connection refused, timeout, 4xx) is retried with capped exponential backoff and
//   full jitter, until the attempt budget is spent.
// Logs carry the notice id, kind, attempt and outcome, never the token, the sealed value or the body.
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import type { Keyring } from '../lib/secrets.js';
import type { Database, Notice } from '../storage/schema.js';
import { StorageError } from '../storage/storage-errors.js';
import { PermanentDeliveryError } from './mail-options.js';
import type { MailTransport } from './mail-transport.js';
import { markFailed, markRetry, markSent, type NoticeKind, type SentMarker } from './outbox.store.js';
import { formatVerificationCode } from './verification-code.js';
import { render, TemplateError } from './templates/index.js';

export interface DeliveryPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** The claim lease; bounds how long a settle write is retried while the database is away. */
  leaseMs?: number;
}

export interface DeliverDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  transport: MailTransport;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  workerId: string;
  mailFrom: string;
  publicUrl: string;
  /** RESETGUARD_REPLY_TO: the Reply-To of every notice, and the correction then invites a reply. */
  replyTo?: string | null;
  policy: DeliveryPolicy;
  random?: () => number;
  /** Settles sends in small groups (the worker passes one); without it each send is marked alone. */
  sentMarker?: SentMarker;
}

export type DeliveryOutcome = 'sent' | 'retry' | 'failed' | 'lost_lease';

/**
 * delay = random(0.5..1) × min(cap, base × 2^(attempts−1)). Exponential so a long outage is not
 * hammered; capped so recovery is noticed within `cap`; jittered so notices that failed together
 * (an outage) do not all come back in the same instant.
 */
export function backoffDelay(attempts: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 52)));
  return Math.round(exp * (0.5 + 0.5 * random()));
}

/**
 * Runs a settle write, retrying it while the database is unreachable (a restart, a failover), for at most
 * half the claim lease. Once the relay has accepted a message, giving up on its "sent" mark means the
 * lease runs out and the notice goes out a second time (same Message-ID); a restart of a few seconds
 * should not cost a duplicate. The writes are conditional on our lease, so a retry that lands after the
 * lease moved on changes nothing and reports lost_lease.
 */
async function settleRetrying<T>(deps: DeliverDeps, log: Logger, write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (deps.policy.leaseMs ?? 0) / 2;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof StorageError) || err.failure !== 'database_unavailable' || Date.now() + delay > deadline) throw err;
      log.warn({ retry_in_ms: delay, code: err.code }, 'database unavailable while settling a notice; retrying the write');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

// Errors can quote server replies; keep them short and on one line in the database.
function describe(err: unknown): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return message.replace(/\s+/g, ' ').slice(0, 500);
}

/** `securityPhrase`: the holder's phrase, looked up for the whole claimed batch (SecurityPhraseSource). */
export async function deliverNotice(deps: DeliverDeps, notice: Notice, securityPhrase?: string): Promise<DeliveryOutcome> {
  const kind = notice.kind as NoticeKind;
  const log = deps.logger.child({ notice_id: notice.id, kind, attempt: notice.attempts });
  const fail = async (reason: string): Promise<DeliveryOutcome> => {
    const won = await settleRetrying(deps, log, () => markFailed(deps.db, notice.id, deps.workerId, reason, deps.clock.now()));
    if (!won) return lostLease(deps, log);
    deps.metrics?.noticeTransitions.inc({ kind, state: 'failed' });
    log.warn({ outcome: 'failed', last_error: reason }, 'notice failed');
    return 'failed';
  };

  let secret: string | undefined;
  if (notice.sealed !== null) {
    try {
      secret = deps.keyring.unseal(notice.sealed);
    } catch {
      return fail('sealed secret cannot be unsealed (was its key removed from RESETGUARD_SECRET?)');
    }
  }

  // Set-wise queued notices get their code when first claimed (NoticeWorkerDeps.prepare); one without is
  // a wiring fault, and sending it would give the holder a mail nothing can verify.
  if (notice.verification_code === null) return fail('notice has no verification code yet');
  const verificationCode = notice.verification_code;
  let mail;
  try {
    const payload = JSON.parse(notice.payload) as Record<string, unknown>;
    mail = render(kind, payload, {
      publicUrl: deps.publicUrl,
      recipient: notice.recipient,
      noticeId: notice.id,
      verificationCode: formatVerificationCode(verificationCode),
      ...(secret !== undefined ? { secret } : {}),
      ...(securityPhrase ? { securityPhrase } : {}),
      repliesWelcome: Boolean(deps.replyTo),
    });
  } catch (err) {
    if (err instanceof TemplateError || err instanceof SyntaxError) return fail(`cannot render notice: ${describe(err)}`);
    throw err;
  }

  // RFC 3834: an automatic message; Exchange/Outlook's own suppression header too. Out-of-office and
  // other auto-replies then stay quiet instead of answering a notice (or a whole campaign) at once.
  const headers: Record<string, string> = { 'X-Resetguard-Notice': kind, 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };
  if (notice.campaign_id) headers['X-Resetguard-Campaign'] = notice.campaign_id;
  try {
    await deps.transport.send({
      from: deps.mailFrom,
      to: notice.recipient,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: notice.message_id,
      headers,
      ...(deps.replyTo ? { replyTo: deps.replyTo } : {}),
      noticeId: notice.id,
    });
  } catch (err) {
    if (err instanceof PermanentDeliveryError) return fail(`permanent delivery error: ${describe(err)}`);
    const lastError = `attempt ${notice.attempts}: ${describe(err)}`;
    if (notice.attempts >= deps.policy.maxAttempts) return fail(`gave up after ${notice.attempts} attempts; ${lastError}`);
    const delay = backoffDelay(notice.attempts, deps.policy.backoffBaseMs, deps.policy.backoffCapMs, deps.random);
    const won = await settleRetrying(deps, log, () => markRetry(deps.db, notice.id, deps.workerId, deps.clock.now() + delay, lastError));
    if (!won) return lostLease(deps, log);
    deps.metrics?.noticeTransitions.inc({ kind, state: 'retry' });
    log.info({ outcome: 'retry', retry_in_ms: delay, error: describe(err) }, 'notice delivery failed, will retry');
    return 'retry';
  }

  const won = await settleRetrying(deps, log, () => (deps.sentMarker ? deps.sentMarker.mark(notice.id) : markSent(deps.db, notice.id, deps.workerId, deps.clock.now())));
  if (!won) return lostLease(deps, log);
  deps.metrics?.noticeTransitions.inc({ kind, state: 'sent' });
  log.info({ outcome: 'sent' }, 'notice sent');
  return 'sent';
}

// Our lease ran out and another worker (or a cancel) took the notice over; its write stands.
function lostLease(_deps: DeliverDeps, log: Logger): DeliveryOutcome {
  log.warn({ outcome: 'lost_lease' }, 'notice lease expired before it settled; leaving it to its new holder');
  return 'lost_lease';
}
