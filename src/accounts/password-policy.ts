// Password rules after NIST SP 800-63B: a minimum length, a generous maximum, no composition rules, and a
// check against known-breached and common passwords. Passwords are NFKC-normalized first (800-63B
// §3.1.1.2) so the same passphrase typed on different keyboards or input methods hashes the same.
import { AppError } from '../lib/errors.js';
import type { PasswordBlocklist } from '../detection/pwned/pwned.js';

export const DEFAULT_MAX_PASSWORD_LENGTH = 1024;

export function normalizePassword(raw: string): string {
  return raw.normalize('NFKC');
}

export interface PasswordPolicyOptions {
  minLength: number;
  /** In code points; 1024 by default (long passphrases are welcome, megabyte bodies are not). */
  maxLength?: number;
  /** The account's normalized email, when known. */
  email?: string;
  blocklist: PasswordBlocklist;
}

/** Returns the normalized password, or throws an AppError with the policy code that failed. */
export async function checkPasswordPolicy(raw: string, opts: PasswordPolicyOptions): Promise<string> {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_PASSWORD_LENGTH;
  if (typeof raw !== 'string') throw new AppError('invalid_request', 'The password must be a string.');
  // NFKC composes at most a handful of code points into one (a base and its marks, Hangul jamo), and a
  // code point is at most two UTF-16 units, so a string this long cannot come back under the maximum:
  // refuse it before spending time normalizing it.
  if (raw.length > maxLength * 16) throw tooLong(maxLength);
  const password = normalizePassword(raw);
  // Code points, not UTF-16 units: an emoji is one character to the person typing it.
  const length = [...password].length;
  if (length < opts.minLength) {
    throw new AppError('password_too_short', `Use at least ${opts.minLength} characters; a passphrase of several words is easiest to remember.`, {
      min_length: opts.minLength,
    });
  }
  if (length > maxLength) throw tooLong(maxLength);
  if (opts.email && containsEmail(password, opts.email)) {
    throw new AppError('password_contains_email', 'The password must not contain your email address or its name part.');
  }
  const result = await opts.blocklist.check(password);
  if (result.breached) throw breached(result.count, result.countIsLowerBound === true);
  return password;
}

/**
 * With a count (the pwned corpus or range API), the detail says how often the password was seen and what
 * to do; `breach_count` carries the number for clients (and `breach_count_is_lower_bound` when the store
 * only knows "at least"). The builtin list knows no counts: then the detail is the general one.
 */
function breached(count: number | undefined, lowerBound: boolean): AppError {
  if (count === undefined) {
    return new AppError(
      'password_breached',
      'This password is known to attackers from data breaches or lists of common passwords. Choose a longer passphrase that you do not use on any other site.',
    );
  }
  const times = count === 1 ? 'once' : `${lowerBound ? 'at least ' : ''}${count.toLocaleString('en-US')} times`;
  return new AppError(
    'password_breached',
    `This password has been seen ${times} in data breaches, where attackers find it; choose a password you have never used elsewhere. A longer passphrase of unrelated words is easiest to remember.`,
    { breach_count: count, ...(lowerBound ? { breach_count_is_lower_bound: true } : {}) },
  );
}

function tooLong(maxLength: number): AppError {
  return new AppError('password_too_long', `Use at most ${maxLength} characters.`, { max_length: maxLength });
}

/** The whole address always counts; the local part only from 4 characters on ("bob" is too common). */
export function containsEmail(password: string, email: string): boolean {
  const lower = password.toLowerCase();
  const address = email.normalize('NFKC').toLowerCase();
  if (address && lower.includes(address)) return true;
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : '';
  return [...local].length >= 4 && lower.includes(local);
}
