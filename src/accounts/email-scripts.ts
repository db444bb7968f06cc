// Lookalike addresses: "аlice@x.com" with a Cyrillic "а" is a different key from "alice@x.com", and a
// holder (or an operator reading a list) cannot tell them apart. Unicode TR 39 §5.1 calls a string that
// mixes scripts "mixed-script": such a local part is refused at sign-up (or only flagged, with the
// setting email_mixed_script_refuse = 0). A local part written wholly in one script — Latin, Cyrillic,
// Greek, … — is fine, as are the combinations TR 39 allows for one writing system (Japanese: Han +
// Hiragana + Katakana; Korean: Han + Hangul; Chinese: Han + Bopomofo). Digits and punctuation belong
// to no script (Common) and combining marks take their base's (Inherited), so they never mix.
// Fullwidth and other compatibility forms are folded by NFKC in normalizeEmail before this runs. An
// address wholly in one script that looks like another account's ("асе@" in Cyrillic for "ace@") passes
// here and is caught by its confusable skeleton (email-skeleton.ts) as a taken address.

const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali',
  'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
  'Khmer', 'Mongolian', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo',
] as const;
const MATCHERS = SCRIPTS.map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, 'u')] as const);
const LETTER = /^\p{L}$/u;

/** TR 39's single-writing-system sets: a local part whose scripts all fit one of these is not mixed. */
const ALLOWED_TOGETHER: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Han', 'Hiragana', 'Katakana']),
  new Set(['Han', 'Hangul']),
  new Set(['Han', 'Bopomofo']),
];

function scriptOf(ch: string): string {
  for (const [name, re] of MATCHERS) if (re.test(ch)) return name;
  return 'another script';
}

/** The scripts of the letters in `localPart`, in order of first appearance. */
export function scriptsOf(localPart: string): string[] {
  const seen: string[] = [];
  for (const ch of localPart) {
    if (!LETTER.test(ch)) continue;
    const script = scriptOf(ch);
    if (!seen.includes(script)) seen.push(script);
  }
  return seen;
}

/** The scripts an address's local part mixes (for the message), or null when it uses one writing system. */
export function mixedScripts(email: string): string[] | null {
  const scripts = scriptsOf(email.slice(0, email.lastIndexOf('@')));
  if (scripts.length <= 1) return null;
  if (ALLOWED_TOGETHER.some((set) => scripts.every((s) => set.has(s)))) return null;
  return scripts;
}
