// The two kinds of code a holder types, normalised the way people type them: spaces (and, for recovery
// codes, dashes) anywhere, any letter case. A code of the wrong shape is a clear 400 before anything is
// looked up, so a typo never costs an attempt against the sign-in throttle.
import { randomBytes } from 'node:crypto';
import { AppError } from '../../lib/errors.js';
import { TOTP_DIGITS } from './totp.js';

export const RECOVERY_CODE_COUNT = 10;
/** Base32 without look-alikes' trouble: lowercase a-z and 2-7, 10 characters = 50 bits each. */
const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const RECOVERY_LENGTH = 10;

export type SecondFactorCode = { kind: 'totp'; code: string } | { kind: 'recovery'; code: string };

export function parseTotpCode(raw: string): string {
  const code = raw.replace(/\s+/g, '');
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) {
    throw new AppError('invalid_code_format', `The code from your authenticator app is ${TOTP_DIGITS} digits.`);
  }
  return code;
}

export function parseRecoveryCode(raw: string): string {
  const code = raw.replace(/[\s-]+/g, '').toLowerCase();
  if (code.length !== RECOVERY_LENGTH || ![...code].every((c) => RECOVERY_ALPHABET.includes(c))) {
    throw new AppError('invalid_code_format', `A recovery code is ${RECOVERY_LENGTH} letters and digits, like abcde-23456.`);
  }
  return code;
}

/** What a sign-in carries: at most one of the two; none is fine (a holder without a factor). */
export function parseSignInCode(input: { totp_code?: string | undefined; recovery_code?: string | undefined }): SecondFactorCode | null {
  if (input.totp_code !== undefined && input.recovery_code !== undefined) {
    throw new AppError('invalid_code_format', 'Send either totp_code or recovery_code, not both.');
  }
  if (input.totp_code !== undefined) return { kind: 'totp', code: parseTotpCode(input.totp_code) };
  if (input.recovery_code !== undefined) return { kind: 'recovery', code: parseRecoveryCode(input.recovery_code) };
  return null;
}

/** A field that may hold either (turning the factor off, the sign-in page's one box). */
export function parseAnyCode(raw: string): SecondFactorCode {
  const compact = raw.replace(/[\s-]+/g, '');
  return /^\d+$/.test(compact) ? { kind: 'totp', code: parseTotpCode(compact) } : { kind: 'recovery', code: parseRecoveryCode(compact) };
}

/** Fresh recovery codes, as shown to the holder once: `abcde-fghij`. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(RECOVERY_LENGTH);
    const code = [...bytes].map((b) => RECOVERY_ALPHABET[b & 31]).join('');
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}
