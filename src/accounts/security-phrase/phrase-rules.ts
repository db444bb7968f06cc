// What a security phrase may be. It is printed near the top of every notice, in text and HTML, so it
// must be something a holder recognises and a phisher cannot turn into a lure: short, plain words, no
// links, nothing that reorders or hides text (bidi overrides, control characters), and not a secret the
// holder uses elsewhere (their password) or something anyone knows (their address).
import { AppError } from '../../lib/errors.js';
import { containsEmail, normalizePassword } from '../password-policy.js';

export const PHRASE_MIN = 3;
export const PHRASE_MAX = 40;

export type PhraseProblem = 'characters' | 'email' | 'link' | 'length' | 'password';

// C0/C1 controls, bidi embeddings/overrides/isolates, zero-width and other format characters.
const HIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
// Letters (with their combining marks), digits, the space, and punctuation that cannot build markup or a URL.
const ALLOWED = /^[\p{L}\p{M}\p{Nd} .,!?'"&()#*+:;-]+$/u;
// "http://", "www.", or a dotted name ending in letters ("example.com", "paypal.co").
const LINK = /:\/\/|\bwww\.|[\p{L}\p{Nd}-]\.\p{L}{2,}/iu;

const DETAIL: Record<PhraseProblem, string> = {
  characters: 'Use letters, digits, spaces and simple punctuation (. , ! ? \' " & ( ) # * + : ; -) only.',
  email: 'The phrase must not contain your email address.',
  link: 'The phrase must not contain a link or anything that looks like a web address.',
  length: `Use ${PHRASE_MIN} to ${PHRASE_MAX} characters.`,
  password: 'The phrase must not contain your password: it is shown in every email we send you.',
};

function problem(reason: PhraseProblem): AppError {
  return new AppError('invalid_security_phrase', DETAIL[reason], { reason });
}

/** Returns the phrase as it will be stored (NFC, trimmed, single spaces), or throws invalid_security_phrase. */
export function checkSecurityPhrase(raw: unknown, holder: { email: string; password: string }): string {
  if (typeof raw !== 'string') throw problem('characters');
  // Refuse long input before doing any work on it; the length rule below gives the clear answer.
  if (raw.length > PHRASE_MAX * 8) throw problem('length');
  if (HIDDEN.test(raw)) throw problem('characters');
  const phrase = raw.normalize('NFC').trim().replace(/ {2,}/g, ' ');
  if (containsEmail(phrase, holder.email)) throw problem('email');
  if (LINK.test(phrase)) throw problem('link');
  const length = [...phrase].length;
  if (length < PHRASE_MIN || length > PHRASE_MAX) throw problem('length');
  if (!ALLOWED.test(phrase)) throw problem('characters');
  if (overlapsPassword(phrase, holder.password)) throw problem('password');
  return phrase;
}

// Either one inside the other: a phrase holding the password, or a phrase that is a piece of it (from 4
// characters on: a 3-letter word inside a long passphrase gives nothing away).
function overlapsPassword(phrase: string, rawPassword: string): boolean {
  const password = normalizePassword(rawPassword).toLowerCase();
  const text = normalizePassword(phrase).toLowerCase();
  if (!password) return false;
  return text.includes(password) || ([...text].length >= 4 && password.includes(text));
}
