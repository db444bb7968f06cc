// What operators see of a campaign (API, console, CLI): one schema, the API's response validation, and
// the type every reader of a view uses, derived from it so the two cannot drift apart.
import { Type, type Static } from 'typebox';
import { Nullable } from '../http/schema.js';
import type { CampaignWavesTable } from './campaigns.schema.js';
import type { CampaignCounts, CampaignRow } from './campaigns.store.js';
import { CAMPAIGN_TRANSITIONS } from './transitions.js';

const Counts = Type.Object({
  applied: Type.Integer(),
  notices_sent: Type.Integer(),
  notices_failed: Type.Integer(),
  user_completed: Type.Integer(),
  reverted: Type.Integer(),
  corrections_sent: Type.Integer(),
  skipped: Type.Integer(),
});

export const CampaignViewSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  state: Type.String(),
  reason: Type.String(),
  created_by: Type.String(),
  approved_by: Nullable(Type.String()),
  target_count: Type.Integer(),
  expected_count: Type.Integer(),
  unknown_count: Type.Integer(),
  notify: Type.Boolean(),
  revoke_sessions: Type.Boolean(),
  guard: Type.Object({ verdict: Type.String(), reasons: Type.Array(Type.String()) }),
  counts: Counts,
  waves: Type.Array(
    Type.Object({
      wave: Type.Integer(),
      first_seq: Type.Integer(),
      last_seq: Type.Integer(),
      size: Type.Integer(),
      state: Type.String(),
      started_at: Nullable(Type.String()),
      hold_until: Nullable(Type.String()),
      completed_at: Nullable(Type.String()),
    }),
  ),
  halt_reason: Nullable(Type.String()),
  created_at: Type.String(),
  approved_at: Nullable(Type.String()),
  started_at: Nullable(Type.String()),
  completed_at: Nullable(Type.String()),
  revert: Type.Union([
    Type.Object({
      requested_by: Type.String(),
      requested_at: Type.String(),
      reason: Type.String(),
      notify: Type.Boolean(),
      awaiting_approval: Type.Boolean(),
      approved_by: Nullable(Type.String()),
    }),
    Type.Null(),
  ]),
});

export type CampaignView = Static<typeof CampaignViewSchema>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function campaignView(c: CampaignRow, counts: CampaignCounts, waves: readonly CampaignWavesTable[]): CampaignView {
  return {
    id: c.id,
    kind: c.kind,
    state: c.state,
    reason: c.reason,
    created_by: c.created_by,
    approved_by: c.approved_by,
    target_count: c.target_count,
    expected_count: c.expected_count,
    unknown_count: c.unknown_count,
    notify: c.notify === 1,
    revoke_sessions: c.revoke_sessions === 1,
    guard: { verdict: c.guard_verdict, reasons: JSON.parse(c.guard_reasons) as string[] },
    counts,
    waves: waves.map((w) => ({
      wave: w.wave,
      first_seq: w.first_seq,
      last_seq: w.last_seq,
      size: w.last_seq - w.first_seq + 1,
      state: w.state,
      started_at: iso(w.started_at),
      hold_until: iso(w.hold_until),
      completed_at: iso(w.completed_at),
    })),
    halt_reason: c.halt_reason,
    created_at: iso(c.created_at)!,
    approved_at: iso(c.approved_at),
    started_at: iso(c.started_at),
    completed_at: iso(c.completed_at),
    revert: c.revert_requested_by === null ? null : revertView(c),
  };
}

function revertView(c: CampaignRow) {
  return {
    requested_by: c.revert_requested_by!,
    requested_at: new Date(c.revert_requested_at ?? 0).toISOString(),
    reason: c.revert_reason ?? '',
    notify: c.revert_notify !== 0,
    awaiting_approval: c.revert_approved_by === null && (CAMPAIGN_TRANSITIONS.approve_revert.from as readonly string[]).includes(c.state),
    approved_by: c.revert_approved_by,
  };
}
