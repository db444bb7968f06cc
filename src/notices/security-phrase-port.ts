// What the notice worker needs from the accounts side to print each holder's security phrase: the
// phrases of a claimed batch's accounts, unsealed, in one call. A port, so notices/ does not depend on
// accounts/; app.ts wires the accounts implementation in.
export interface SecurityPhraseSource {
  /** Account id → phrase, for the accounts that have one. */
  phrasesFor(accountIds: readonly string[]): Promise<Map<string, string>>;
}

/**
 * What a campaign preview prints where a holder's phrase goes: the preview is one mail for many
 * holders, and an operator must never see anyone's phrase.
 */
export const SECURITY_PHRASE_PLACEHOLDER = "[the holder's own security phrase, for holders who set one]";
