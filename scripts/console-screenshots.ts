// Screenshots of every operator console page at desktop (1280×800) and mobile (390×844) width into
// docs/screenshots/console-<page>-<desktop|mobile>.png, in Debian's Chromium through playwright-core.
// The pages and their data come from test/browser/console-pages (the same list the console
// accessibility test checks). Prints the README table rows at the end.
// Run: npm run screenshots (both scripts) or node --import tsx scripts/console-screenshots.ts
// SHOTS_ONLY=account,operators photographs only the shots whose names start with one of these words
// (the scene is still built whole, so the pages show the same data as in a full run).
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { SHOT_PROVIDERS } from '../test/browser/console-pages/index.js';
import { contextsByRole, startConsoleScene, type ConsoleShot } from '../test/browser/console-pages/scene.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const scene = await startConsoleScene();
  const shots: ConsoleShot[] = [];
  for (const provider of SHOT_PROVIDERS) shots.push(...(await provider(scene)));
  const only = process.env.SHOTS_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) shots.splice(0, shots.length, ...shots.filter((s) => only.some((o) => s.name.startsWith(o))));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      const contextFor = contextsByRole(scene, () => browser.newContext({ viewport, baseURL: scene.base }));
      for (const shot of shots) {
        const context = await contextFor(shot.as === undefined ? 'operator' : shot.as);
        const page = await context.newPage();
        await page.goto(shot.path);
        if (shot.then) await shot.then(page);
        await page.screenshot({ path: `${OUT}console-${shot.name}-${width}.png`, fullPage: true });
        await page.close();
        process.stdout.write(`console-${shot.name}-${width}.png\n`);
      }
    }
  } finally {
    await browser.close();
    await scene.t.close();
  }
  process.stdout.write('\nREADME rows:\n');
  for (const s of shots) {
    const f = (w: string) => `docs/screenshots/console-${s.name}-${w}.png`;
    process.stdout.write(`| ![${s.name}](${f('desktop')}) | ${s.caption} | [desktop](${f('desktop')}) · [mobile](${f('mobile')}) |\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
