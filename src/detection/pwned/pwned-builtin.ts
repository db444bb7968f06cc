// The bundled blocklist: zxcvbn-ts's 49,233 most common passwords (from breach corpora, ordered by
// popularity). It knows no breach counts, so it answers `breached` only. The list is loaded on the first
// check, not at import: the CLI and tests that never check a password do not pay for it.
import type { PasswordBlocklist } from './pwned.js';

let cached: Promise<Set<string>> | undefined;

function load(): Promise<Set<string>> {
  cached ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set((dictionary['passwords-common'] as string[]).map(canonical)),
    (err: unknown) => {
      cached = undefined; // a failed load is retried next time rather than remembered
      throw err;
    },
  );
  return cached;
}

/** Case-insensitive: "Password1" is as guessable as "password1" (attackers try case variants first). */
function canonical(password: string): string {
  return password.normalize('NFKC').toLowerCase();
}

export function createBuiltinBlocklist(): PasswordBlocklist {
  return {
    async check(password: string) {
      const list = await load();
      return { breached: list.has(canonical(password)) };
    },
  };
}
