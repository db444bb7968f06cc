// One scene for every console page a person can see: an app on 127.0.0.1 with the dev mailbox (no
// SMTP), four operators (one per role), and the data each page needs, added by the shot providers.
// The screenshot script (scripts/console-screenshots.ts) and the accessibility test
// (test/browser/console-a11y.test.ts) walk the same list of pages, so every page that is photographed
// is also checked by axe.
import type { BrowserContext, Page } from 'playwright-core';
import type { App } from '../../../src/app.js';
import type { Role } from '../../../src/operators/roles.js';
import { startTestApp, type TestApp } from '../../support/app.js';

export interface SceneOperator {
  id: string;
  name: string;
  key: string;
}

export interface ConsoleScene {
  t: TestApp;
  app: App;
  /** Where the app listens, e.g. http://127.0.0.1:41234 */
  base: string;
  operators: Record<Role, SceneOperator>;
}

export interface ConsoleShot {
  /** File stem: docs/screenshots/console-<name>-<desktop|mobile>.png */
  name: string;
  /** Path to open (after signing in as `as`), e.g. /console/campaigns/abc */
  path: string;
  /** One line for the README table. */
  caption: string;
  /** Who is signed in; null for the sign-in page itself. Default: operator. */
  as?: Role | null;
  /** Runs after the page loaded (fill a form, click, wait for live data); the shot is taken after it. */
  then?: (page: Page) => Promise<void>;
}

/** A provider adds its data to the scene and returns its pages, in the order the README lists them. */
export type ShotProvider = (scene: ConsoleScene) => Promise<ConsoleShot[]>;

export async function startConsoleScene(): Promise<ConsoleScene> {
  const t = await startTestApp('sqlite', { logLevel: 'warn', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
  t.app.startBackground();
  const base = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  const make = async (name: string, role: Role) => {
    const op = await t.app.services.operators.create(name, role);
    return { id: op.id, name, key: op.key };
  };
  const operators = {
    admin: await make('Ada Admin', 'admin'),
    approver: await make('Priya Approver', 'approver'),
    operator: await make('Oskar Operator', 'operator'),
    viewer: await make('Vic Viewer', 'viewer'),
  };
  return { t, app: t.app, base, operators };
}

/** Signs a browser context in through the console's own form. */
export async function signInToConsole(page: Page, key: string): Promise<void> {
  await page.goto('/console/signin');
  await page.fill('#key', key);
  await Promise.all([page.waitForURL((url) => url.pathname === '/console'), page.click('main button[type=submit]')]);
}

/** One signed-in context per role, made on first use. */
export function contextsByRole(scene: ConsoleScene, make: () => Promise<BrowserContext>) {
  const cache = new Map<Role | 'none', Promise<BrowserContext>>();
  return (role: Role | null): Promise<BrowserContext> => {
    const key = role ?? 'none';
    let c = cache.get(key);
    if (!c) {
      c = (async () => {
        const context = await make();
        if (role) {
          const page = await context.newPage();
          await signInToConsole(page, scene.operators[role].key);
          await page.close();
        }
        return context;
      })();
      cache.set(key, c);
    }
    return c;
  };
}
