// Row types of the campaign and guard tables (merged into the Database interface in src/storage/schema.ts).

export interface CampaignsTable {
  id: string;
  /** 'single' (one account, from the API), 'campaign' (an operator's list), 'detector' (automatic), 'holder' (the holder's own report). */
  kind: string;
  state: string;
  reason: string;
  created_by: string;
  approved_by: string | null;
  target_count: number;
  expected_count: number;
  /** How many requested ids/emails matched no account (frozen with the targets). */
  unknown_count: number;
  notify: number;
  revoke_sessions: number;
  guard_verdict: string;
  guard_reasons: string;
  /** Resets this campaign has applied: its spent budget, never above target_count. */
  applied_count: number;
  halt_reason: string | null;
  current_wave: number;
  /** The runner's lease, so one process at a time advances a campaign. */
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  approved_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  /** A revert asked for and waiting for a second person (over approval_threshold targets), or approved. */
  revert_requested_by: string | null;
  revert_requested_at: number | null;
  revert_reason: string | null;
  revert_notify: number | null;
  revert_approved_by: string | null;
}

/** The frozen target set: what was previewed is exactly what runs. */
export interface CampaignTargetsTable {
  campaign_id: string;
  seq: number;
  account_id: string;
  /** 'pending' | 'applied' | 'skipped' | 'reverted' */
  state: string;
  wave: number | null;
  applied_at: number | null;
  notice_id: string | null;
  skip_reason: string | null;
  /** 'not_changed' | 'already_reset' once reverted. */
  revert_variant: string | null;
}

export interface CampaignWavesTable {
  campaign_id: string;
  wave: number;
  first_seq: number;
  last_seq: number;
  /** 'applying' | 'holding' | 'done' */
  state: string;
  started_at: number;
  hold_until: number | null;
  completed_at: number | null;
}

/** The credential an account had before a campaign reset it, kept for revert. */
export interface PreviousCredentialsTable {
  campaign_id: string;
  account_id: string;
  hash: string;
  scheme: string;
  state: string;
  updated_at: number;
}

/** "I didn't expect this" answers to forced-reset notices. */
export interface NoticeFeedbackTable {
  notice_id: string;
  kind: string;
  created_at: number;
}

/** Bounces reported after a relay accepted a notice; 'hard' ones count as delivery failures. */
export interface NoticeBouncesTable {
  notice_id: string;
  /** 'hard' | 'soft' */
  type: string;
  /** The relay's diagnostic, trimmed (no message content). */
  diagnostic: string | null;
  created_at: number;
}

/** One row per guard switch: the kill switch, and the tripwire window's reset marker. */
export interface GuardStateTable {
  key: string;
  engaged: number;
  reason: string | null;
  changed_at: number;
  changed_by: string | null;
}

export interface CampaignTables {
  campaigns: CampaignsTable;
  campaign_targets: CampaignTargetsTable;
  campaign_waves: CampaignWavesTable;
  previous_credentials: PreviousCredentialsTable;
  notice_feedback: NoticeFeedbackTable;
  notice_bounces: NoticeBouncesTable;
  guard_state: GuardStateTable;
}
