// Row types of the findings tables (merged into the Database interface in src/storage/schema.ts).

/**
 * One piece of evidence that an account's credential is compromised. Detectors write findings; operators
 * read them and target campaigns at them (`targets: {findings: {kind, source, since}}`).
 */
export interface FindingsTable {
  /** Random UUID. */
  id: string;
  /** 'breach_reuse' | 'credential_stuffing' | 'breached_password' (see FINDING_KINDS). */
  kind: string;
  account_id: string;
  /** Where it came from: `breach_dump:<id>`, `stuffing:ip:<addr>`, `stuffing:net:<cidr>`, `signin:pwned`. */
  source: string;
  /** JSON object: counts, windows, ids. Never a password, a hash of one, or a token. */
  evidence: string;
  /** A detector's own key for "the same finding again" (e.g. `breach_reuse:<dump>:<account>`): recorded once. */
  dedupe_key: string;
  created_at: number;
}

/** The findings a campaign was created from: frozen with its targets, so a finding shows what acted on it. */
export interface CampaignFindingsTable {
  campaign_id: string;
  finding_id: string;
}

export interface FindingTables {
  findings: FindingsTable;
  campaign_findings: CampaignFindingsTable;
}
