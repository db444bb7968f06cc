// The transition table in docs/architecture.md is the code's: one row per named change.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAMPAIGN_TRANSITIONS, minimumRole, TARGET_TRANSITIONS, WAVE_TRANSITIONS } from './transitions.js';

const DOC = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');

function transitionRows(): string[] {
  const tables = { campaign: CAMPAIGN_TRANSITIONS, wave: WAVE_TRANSITIONS, target: TARGET_TRANSITIONS } as const;
  return Object.entries(tables).flatMap(([subject, table]) =>
    Object.entries(table).map(([name, t]) => `| ${subject} ${name} | ${t.from.join(', ')} | ${t.to} | ${t.by.join(', ')} |`),
  );
}

describe('campaign transitions', () => {
  it('are documented in docs/architecture.md as they are in the code', () => {
    for (const row of transitionRows()) expect(DOC).toContain(row);
  });

  it('give each operator action its minimum role', () => {
    expect(minimumRole('approve')).toBe('approver');
    expect(minimumRole('halt')).toBe('operator');
    expect(() => minimumRole('complete')).toThrow(/system/);
  });
});
