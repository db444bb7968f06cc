// Breached/common-password lookup behind one interface, chosen by RESETGUARD_PWNED. Callers pass the
// NFKC-normalized password (password-policy.ts) and never learn which backend answered.
import { createBuiltinBlocklist } from './pwned-builtin.js';

export interface PasswordBlocklist {
  /** `count` is how often the password was seen in breaches, when the backend knows it. */
  check(password: string): Promise<{ breached: boolean; count?: number }>;
}

/** RESETGUARD_PWNED=off: nothing is ever reported breached. */
export const noBlocklist: PasswordBlocklist = {
  check: async () => ({ breached: false }),
};

export function createBlocklist(setting: string): PasswordBlocklist {
  const value = setting.trim();
  if (value === 'builtin' || value === '') return createBuiltinBlocklist();
  if (value === 'off') return noBlocklist;
  // Refuse rather than silently fall back to the builtin list: an operator who configured a corpus
  // must not believe it is being checked when it is not.
  throw new Error(
    `RESETGUARD_PWNED="${value}": imported corpora and range-API URLs are not supported yet; use "builtin" or "off"`,
  );
}
