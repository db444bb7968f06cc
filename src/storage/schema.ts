// Row types for Kysely. Times are epoch milliseconds (bigint on PostgreSQL, integer on SQLite) so that
// both databases compare and sort them the same way and no driver converts time zones behind our back.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AuditTables } from '../audit/audit.schema.js';
import type { CampaignTables } from '../campaigns/campaigns.schema.js';
import type { FindingTables } from '../detection/findings/findings.schema.js';
import type { BreachDumpTables } from '../detection/breach-dumps/breach-dumps.schema.js';
import type { StuffingTables } from '../detection/stuffing/stuffing-schema.js';
import type { WebhookTables } from '../webhooks/webhooks.schema.js';
import type { DeskTables } from '../desk/desk.schema.js';
import type { SecondFactorTables } from '../accounts/second-factor/second-factor.schema.js';

export interface AccountsTable {
  id: string;
  email: string;
  created_at: number;
  password_changed_at: number | null;
  /** 0 until the holder proves the address (signup_email_verification); accounts from before are 1. */
  email_verified: ColumnType<number, number | undefined, number>;
  /** Set when the holder deleted the account: the email is then a placeholder and the credential gone. */
  deleted_at: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * The address's TR 39 confusable skeleton (email-skeleton.ts), UNIQUE: a lookalike of another account's
   * address is refused like that address. NULL on deleted accounts, and on the later of two accounts that
   * already shared a skeleton when migration 0022 ran (both keep working).
   */
  email_skeleton: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One credential per account. `state` is 'active' or 'reset_required' (a forced reset, next issue). */
export interface CredentialsTable {
  account_id: string;
  hash: string;
  /** 'argon2id' for our own hashes; the legacy scheme for imported ones until upgraded. */
  scheme: string;
  state: string;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  ip: string | null;
  user_agent: string | null;
  /** The campaign whose forced reset revoked this session (revert restores it). */
  revoked_by_campaign: string | null;
}

export interface ResetTokensTable {
  id: string;
  account_id: string;
  /** HMAC-SHA256 of the token under the first key at issue time; the raw token is never stored. */
  token_hmac: string;
  purpose: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
  campaign_id: string | null;
}

/** The transactional outbox: a notice row commits with the change that causes it. */
export interface NoticesTable {
  /** 128-bit random, base64url: also the unguessable id in "I didn't expect this" links. */
  id: string;
  idempotency_key: string;
  kind: string;
  account_id: string | null;
  campaign_id: string | null;
  recipient: string;
  /** JSON: what the template needs, minus secrets. */
  payload: string;
  /** AES-GCM sealed secrets (a reset token) the worker needs once; wiped when the notice settles. */
  sealed: string | null;
  state: string;
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  locked_by: string | null;
  message_id: string;
  /**
   * Shown in the mail; a holder checks it at /verify. Not a secret: it only confirms we sent it. Notices
   * queued set-wise (a campaign's forced resets) get it when first sent: NULL until then.
   */
  verification_code: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  settled_at: number | null;
}

export interface DevMailTable {
  id: Generated<number>;
  notice_id: string | null;
  message_id: string;
  recipient: string;
  subject: string;
  raw: string;
  created_at: number;
}

/** Requests accepted but not yet handled (see recovery/reset-request-queue.ts): resets, sign-ups, re-sends. */
export interface ResetRequestJobsTable {
  id: Generated<number>;
  /** 'reset' | 'signup' | 'verify_resend' | 'email_change' */
  kind: ColumnType<string, string | undefined, string>;
  email: string;
  ip: string;
  /** JSON the handler needs (a sign-up's password hash, never a password); null for most kinds. */
  payload: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
}

/** Mailed single-use tokens other than reset links (src/accounts/account-tokens.store.ts). */
export interface AccountTokensTable {
  id: string;
  account_id: string;
  /** 'verify_email' | 'email_change' | 'email_change_undo' */
  purpose: string;
  /** HMAC-SHA256 under the first key at issue time; the raw token is never stored. */
  token_hmac: string;
  /** The address the token is about: the one to verify, the new one to confirm, the old one to restore. */
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
}

/** Fixed-window counters for rate limits shared by every process. */
export interface RateCountersTable {
  key: string;
  window_start: number;
  count: number;
}

/** Consecutive sign-in failures per key (account email hash, or IP). */
export interface SigninFailuresTable {
  key: string;
  failures: number;
  last_failure_at: number;
}

export interface OperatorsTable {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  created_at: number;
  disabled_at: number | null;
}

/** Operator console sign-ins (an operator key exchanged for a cookie session). */
export interface OperatorSessionsTable {
  id: string;
  operator_id: string;
  /** SHA-256 of the cookie token; the token itself is never stored. */
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

/** A holder's security phrase, sealed under the keyring (written only by SecurityPhraseStore). */
export interface SecurityPhrasesTable {
  account_id: string;
  sealed: string;
  updated_at: number;
}

export interface SettingsTable {
  key: string;
  /** JSON value. */
  value: string;
  updated_at: number;
  updated_by: string | null;
}

export interface Database extends AuditTables, WebhookTables, CampaignTables, FindingTables, BreachDumpTables, StuffingTables, DeskTables, SecondFactorTables {
  accounts: AccountsTable;
  credentials: CredentialsTable;
  sessions: SessionsTable;
  reset_tokens: ResetTokensTable;
  notices: NoticesTable;
  dev_mail: DevMailTable;
  reset_request_jobs: ResetRequestJobsTable;
  account_tokens: AccountTokensTable;
  rate_counters: RateCountersTable;
  signin_failures: SigninFailuresTable;
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  settings: SettingsTable;
  security_phrases: SecurityPhrasesTable;
}

// Without the skeleton: nothing reads it back, and the sign-in query does not select it.
export type Account = Omit<Selectable<AccountsTable>, 'email_skeleton'>;
export type NewAccount = Insertable<AccountsTable>;
export type AccountToken = Selectable<AccountTokensTable>;
export type Credential = Selectable<CredentialsTable>;
export type Session = Selectable<SessionsTable>;
export type ResetToken = Selectable<ResetTokensTable>;
export type Notice = Selectable<NoticesTable>;
export type NewNotice = Insertable<NoticesTable>;
export type NoticeUpdate = Updateable<NoticesTable>;
export type Operator = Selectable<OperatorsTable>;
