// Accessibility of every operator console page (the list in test/browser/console-pages, the same pages
// the screenshots show), at desktop and mobile width: axe-core finds no serious or critical violation.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOT_PROVIDERS } from './console-pages/index.js';
import { contextsByRole, startConsoleScene, type ConsoleScene, type ConsoleShot } from './console-pages/scene.js';
import { CHROMIUM, chromiumMissing } from './support/harness.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

describe.skipIf(chromiumMissing)('accessibility of the operator console (axe-core)', () => {
  let scene: ConsoleScene;
  let browser: Browser;
  let shots: ConsoleShot[] = [];
  beforeAll(async () => {
    scene = await startConsoleScene();
    for (const provider of SHOT_PROVIDERS) shots.push(...(await provider(scene)));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await scene?.t.close();
  });

  it('has no serious or critical violations on any console page, at desktop and mobile width', { timeout: 600_000 }, async () => {
    const results: Array<{ page: string; width: number; violations: AxeViolation[] }> = [];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      // axe is injected by an init script, which the console's CSP would refuse: this context alone bypasses CSP.
      const contextFor = contextsByRole(scene, async () => {
        const c = await browser.newContext({ viewport, baseURL: scene.base, bypassCSP: true });
        await c.addInitScript({ content: AXE_SOURCE });
        return c;
      });
      for (const shot of shots) {
        const page = await (await contextFor(shot.as === undefined ? 'operator' : shot.as)).newPage();
        await page.goto(shot.path);
        if (shot.then) await shot.then(page);
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } }).axe;
          return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
        });
        results.push({ page: shot.name, width: viewport.width, violations });
        await page.close();
      }
    }
    const serious = results.flatMap((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ page: r.page, width: r.width, ...v })));
    const minor = results.flatMap((r) => r.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => `${r.page} @${r.width}px: [${v.impact}] ${v.id} — ${v.help} (${v.nodes} node(s))`));
    console.log(`axe (console): ${results.length} page checks, ${serious.length} serious/critical, ${minor.length} minor${minor.length ? `:\n  ${minor.join('\n  ')}` : ''}`);
    expect(serious).toEqual([]);
    expect(results.length).toBe(2 * shots.length);
    expect(shots.length).toBeGreaterThan(0);
  });
});
