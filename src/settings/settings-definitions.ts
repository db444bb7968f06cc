// Every tunable guard rail and limit, with its default and bounds. The names are part of the contract.
export interface SettingDefinition {
  default: number;
  min: number;
  max: number;
  integer: boolean;
  description: string;
}

export const SETTINGS = {
  approval_threshold: { default: 100, min: 1, max: 100_000_000, integer: true, description: 'Campaigns with more targets than this need a second operator to approve.' },
  expected_count_tolerance: { default: 0.1, min: 0, max: 1, integer: false, description: 'Largest allowed relative difference between the declared and the actual target count.' },
  canary_size: { default: 100, min: 1, max: 1_000_000, integer: true, description: 'Upper bound of the first (canary) wave; it is also at most 1% of the targets.' },
  wave_hold_seconds: { default: 600, min: 0, max: 86_400, integer: true, description: 'How long each wave is watched before the next one starts.' },
  wave_growth: { default: 2, min: 1, max: 100, integer: false, description: 'Factor by which each wave grows over the previous one.' },
  halt_unexpected_rate: { default: 0.02, min: 0, max: 1, integer: false, description: 'Share of a wave\'s notices answered "I didn\'t expect this" that halts the campaign.' },
  wave_max_undelivered_rate: { default: 0.05, min: 0, max: 1, integer: false, description: 'A wave stays on hold while more than this share of its notices have not reached the relay yet (a relay outage); once they have, its hold starts over, so the next wave never starts before the last one could be judged. 1 never waits.' },
  halt_delivery_failure_rate: { default: 0.05, min: 0, max: 1, integer: false, description: 'Share of a wave\'s notices that failed or bounced that halts the campaign.' },
  tripwire_budget_per_hour: { default: 50, min: 0, max: 1_000_000, integer: true, description: 'Forced resets allowed per rolling hour outside approved campaigns before the kill switch engages.' },
  reset_token_ttl_seconds: { default: 3600, min: 60, max: 86_400, integer: true, description: 'Lifetime of a self-service reset link.' },
  forced_reset_token_ttl_seconds: { default: 86_400, min: 300, max: 7 * 86_400, integer: true, description: 'Lifetime of the link in a forced-reset notice.' },
  reset_requests_per_account_per_hour: { default: 3, min: 1, max: 1000, integer: true, description: 'Reset mails sent per account per hour; further requests are accepted but send nothing.' },
  reset_requests_per_ip_per_hour: { default: 20, min: 1, max: 1_000_000, integer: true, description: 'Reset requests accepted per client IP per hour; more get 429.' },
  signups_per_ip_per_hour: { default: 20, min: 1, max: 1_000_000, integer: true, description: 'Sign-ups accepted per client IP per hour (API and page alike); more get 429.' },
  email_mixed_script_refuse: { default: 1, min: 0, max: 1, integer: true, description: '1: a sign-up whose address mixes letters of different scripts before the @ (a Cyrillic "а" among Latin letters: a lookalike of another address) is refused with 400 email_mixed_script; 0: it is accepted and flagged in the log.' },
  // Credential stuffing (src/detection/stuffing/, docs/detection.md).
  stuffing_window_seconds: { default: 600, min: 60, max: 3600, integer: true, description: 'Sliding window of the credential-stuffing rules (counted in one-minute buckets).' },
  stuffing_failures_per_ip: { default: 20, min: 2, max: 1_000_000, integer: true, description: 'Failed sign-ins from one IP address within the window that make it a stuffing source.' },
  stuffing_accounts_per_ip: { default: 10, min: 2, max: 1_000_000, integer: true, description: 'Distinct accounts (or unknown emails) failing from one IP address within the window that make it a stuffing source.' },
  stuffing_failures_per_network: { default: 100, min: 2, max: 10_000_000, integer: true, description: 'Failed sign-ins from one /24 (IPv4) or /64 (IPv6) within the window that make it a stuffing source.' },
  stuffing_source_failure_rate: { default: 0.5, min: 0, max: 1, integer: false, description: 'A source is a stuffing source only if at least this share of its sign-ins in the window failed (keeps busy NATs out).' },
  stuffing_global_failure_rate: { default: 0.5, min: 0.01, max: 1, integer: false, description: 'A global failure spike is reported when at least this share of all sign-ins in the window failed.' },
  stuffing_global_min_attempts: { default: 500, min: 1, max: 1_000_000_000, integer: true, description: 'Sign-ins in the window below which no global failure spike is reported (quiet systems).' },
  stuffing_block_seconds: { default: 900, min: 0, max: 86_400, integer: true, description: 'How long sign-ins from a stuffing source answer 429; 0 detects and records findings without blocking.' },
  new_sign_in_notice: { default: 1, min: 0, max: 1, integer: true, description: '1: a sign-in from a device the account has not used for 90 days mails the holder a new_sign_in notice with a "This wasn\'t me" link; 0: devices are still recorded, nothing is mailed.' },
  // Account lifecycle (src/accounts/signup/, src/accounts/email-change/).
  signup_email_verification: { default: 1, min: 0, max: 1, integer: true, description: '1: POST /v1/accounts answers 202 for every address (new or registered) and an account signs in only after its holder confirms the mailed link; 0: 201 / 409 account_exists, no confirmation.' },
  email_change_undo_days: { default: 14, min: 1, max: 365, integer: true, description: 'How long the old address can undo an email change with the link mailed to it.' },
  force_reset_breached_signin: { default: 0, min: 0, max: 1, integer: true, description: '1: a successful sign-in with a breached password forces a reset of the account through the guard (tripwire applies); 0: only a finding.' },
} as const satisfies Record<string, SettingDefinition>;

export type SettingName = keyof typeof SETTINGS;
export type Settings = { [K in SettingName]: number };

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_NAMES.map((k) => [k, SETTINGS[k].default])) as Settings;
}
