// docs/grafana-dashboard.json cannot drift from the code: it must be a dashboard Grafana imports
// (schemaVersion ≥ 38, a Prometheus datasource variable every panel uses, unique ids, panels inside the
// 24-column grid and not overlapping), and every metric its queries name must be one the app declares
// at /metrics (a histogram's _bucket/_count/_sum series included).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { appMetricFamilies, balancedPromQL } from './support/prometheus-text.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>;
}

const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');

describe('docs/grafana-dashboard.json', () => {
  let families: Map<string, string>;
  beforeAll(async () => {
    families = await appMetricFamilies();
  });

  it('is a Grafana dashboard with a Prometheus datasource variable that every panel uses', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    expect(queryPanels.length).toBeGreaterThanOrEqual(15);
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const target of p.targets!) expect(target.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays panels out inside the grid without overlaps', () => {
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24, p.title).toBe(true);
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const key = `${row}:${col}`;
          expect(cells.get(key), `${p.title} overlaps ${cells.get(key)}`).toBeUndefined();
          cells.set(key, p.title);
        }
      }
    }
  });

  it('queries only metrics the app declares', () => {
    const used = new Set<string>();
    for (const p of queryPanels) for (const target of p.targets!) for (const m of target.expr.matchAll(/\bresetguard_[a-z0-9_]+/g)) used.add(m[0]);
    const missing = [...used].filter((name) => {
      if (families.has(name)) return false;
      const base = name.replace(/_(bucket|count|sum)$/, '');
      return families.get(base) !== 'histogram';
    });
    expect(missing).toEqual([]);
    // The panels the runbook points at are there.
    for (const name of ['resetguard_kill_switch_engaged', 'resetguard_tripwire_used', 'resetguard_outbox_oldest_age_seconds', 'resetguard_campaign_wave_failure_ratio', 'resetguard_requests_shed_total', 'resetguard_http_request_duration_seconds_bucket']) {
      expect(used, name).toContain(name);
    }
  });

  it('balances the parentheses, braces and brackets of every query', () => {
    for (const p of queryPanels) for (const { expr } of p.targets!) expect(balancedPromQL(expr), expr).toBe(true);
  });
});
