// What the accounts capability asks of the guard when a HOLDER says their account is not theirs ("This
// wasn't me", undoing an email change): force a password reset of that one account, mailed to the
// holder. createApp wires it to the guard's single-account path; accounts never imports the guard.
export interface HolderResetPort {
  resetByHolder(accountId: string, reason: string): Promise<void>;
}
