// What `campaign watch` says a campaign waits for: a hold names its end (clock time and how long) and
// what happens then, so a watch through a ten-minute hold does not look stuck.
import { describe, expect, it } from 'vitest';
import type { CampaignView } from '../campaigns/campaign-view.js';
import { nextStep } from './campaign.js';

const NOW = Date.parse('2026-01-05T12:25:00.000Z');

function view(over: Partial<CampaignView>): CampaignView {
  return {
    id: 'c1', kind: 'bulk', state: 'running', reason: 'r', created_by: 'o', approved_by: null, target_count: 10, expected_count: 10, unknown_count: 0,
    notify: true, revoke_sessions: true, guard: { verdict: 'ok', reasons: [] }, halt_reason: null, created_at: '', approved_at: null, started_at: null, completed_at: null,
    counts: { applied: 0, notices_sent: 0, notices_failed: 0, user_completed: 0, reverted: 0, corrections_sent: 0, skipped: 0 },
    waves: [],
    ...over,
  } as CampaignView;
}
const wave = (n: number, first: number, last: number, state: string, holdUntil: string | null) => ({
  wave: n, first_seq: first, last_seq: last, size: last - first + 1, state, started_at: null, hold_until: holdUntil, completed_at: null,
});

describe('campaign watch: the next step', () => {
  it('a holding wave says until when, how long, and that the next wave starts then', () => {
    const v = view({ waves: [wave(1, 1, 2, 'holding', '2026-01-05T12:34:56.000Z')] });
    expect(nextStep(v, NOW)).toBe('wave 1 holding until 12:34:56 UTC (10 min): wave 2 starts then, unless its health check halts it');
  });

  it('the last wave says the campaign completes then; under a minute is said so', () => {
    const v = view({ target_count: 2, waves: [wave(1, 1, 2, 'holding', '2026-01-05T12:25:20.000Z')] });
    expect(nextStep(v, NOW)).toBe('wave 1 holding until 12:25:20 UTC (under a minute): the campaign completes then, unless its health check halts it');
  });

  it('other states say what they wait for', () => {
    expect(nextStep(view({ state: 'ready' }), NOW)).toMatch(/^ready: waiting for an operator to start it/);
    expect(nextStep(view({ state: 'awaiting_approval' }), NOW)).toBe('waiting for a second operator to approve');
    expect(nextStep(view({}), NOW)).toBe('waiting for a worker to open wave 1');
    expect(nextStep(view({ counts: { ...view({}).counts, applied: 3 }, waves: [wave(1, 1, 5, 'applying', null)] }), NOW)).toBe('wave 1 applying (3/5)');
    expect(nextStep(view({ waves: [wave(1, 1, 2, 'done', null)] }), NOW)).toBe('waiting for a worker to open wave 2');
    expect(nextStep(view({ state: 'completed' }), NOW)).toBeNull();
  });
});
