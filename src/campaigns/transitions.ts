// Every state change of a campaign, its waves and its targets, and who may make it. The stores apply a
// change only from the states named here (one conditional UPDATE: the row count says whether it
// happened), and the API's action routes take their minimum role from this table, so what the code
// allows and what docs/architecture.md shows are one list (transitions.test.ts checks the doc).
import type { Role } from '../operators/roles.js';

/** Who may make a change: an operator of at least this role, or the system itself (runner, guard, revert). */
export type Actor = Role | 'system';

export interface Transition<S extends string> {
  from: readonly S[];
  to: S;
  by: readonly Actor[];
}

export type CampaignState = 'draft' | 'awaiting_approval' | 'ready' | 'running' | 'halted' | 'completed' | 'cancelled' | 'reverting' | 'reverted';

export const CAMPAIGN_TRANSITIONS = {
  /** An approver other than the campaign's creator (campaigns.service checks the person). */
  approve: { from: ['awaiting_approval'], to: 'ready', by: ['approver'] },
  start: { from: ['ready'], to: 'running', by: ['operator'] },
  /** Operators at once; the system on bad wave health, the kill switch and the tripwire. */
  halt: { from: ['running'], to: 'halted', by: ['operator', 'system'] },
  resume: { from: ['halted'], to: 'running', by: ['operator'] },
  cancel: { from: ['draft', 'awaiting_approval', 'ready'], to: 'cancelled', by: ['operator'] },
  complete: { from: ['running'], to: 'completed', by: ['system'] },
  /** At or under approval_threshold targets; over it, an operator's request waits for approve_revert. */
  begin_revert: { from: ['running', 'halted', 'completed'], to: 'reverting', by: ['operator'] },
  /** A requested revert, by an approver other than the one who asked (campaigns.service checks the person). */
  approve_revert: { from: ['running', 'halted', 'completed'], to: 'reverting', by: ['approver'] },
  finish_revert: { from: ['reverting'], to: 'reverted', by: ['system'] },
} as const satisfies Record<string, Transition<CampaignState>>;
export type CampaignTransition = keyof typeof CAMPAIGN_TRANSITIONS;

export type WaveState = 'applying' | 'holding' | 'done' | 'stopped';

/** Waves are the runner's (system) alone; a revert stops the waves of the campaign it reverts. */
export const WAVE_TRANSITIONS = {
  hold: { from: ['applying'], to: 'holding', by: ['system'] },
  extend_hold: { from: ['holding'], to: 'holding', by: ['system'] },
  finish: { from: ['holding'], to: 'done', by: ['system'] },
  stop: { from: ['applying', 'holding'], to: 'stopped', by: ['system'] },
} as const satisfies Record<string, Transition<WaveState>>;

export type TargetState = 'pending' | 'applied' | 'skipped' | 'reverted';

/** Targets change only inside the guard's batch (apply, skip) and a revert's batch. */
export const TARGET_TRANSITIONS = {
  skip: { from: ['pending'], to: 'skipped', by: ['system'] },
  apply: { from: ['pending'], to: 'applied', by: ['system'] },
  revert: { from: ['applied'], to: 'reverted', by: ['system'] },
} as const satisfies Record<string, Transition<TargetState>>;

/** The lowest role that may make `name` (for the API's role check). */
export function minimumRole(name: CampaignTransition): Role {
  const by: readonly Actor[] = CAMPAIGN_TRANSITIONS[name].by;
  const role = by.find((a): a is Role => a !== 'system');
  if (!role) throw new Error(`campaign transition ${name} is the system's alone`);
  return role;
}
