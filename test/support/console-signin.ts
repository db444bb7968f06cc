// A mini browser (test/support/page-browser.ts) signed in to the operator console with an operator of
// the given role: for inject tests of console pages, their role checks and their CSRF tokens.
import type { Role } from '../../src/operators/roles.js';
import type { TestApp } from './app.js';
import { pageBrowser } from './page-browser.js';

export type ConsoleBrowser = ReturnType<typeof pageBrowser> & { operatorId: string };

export async function consoleBrowser(t: TestApp, role: Role, name = `${role} operator`): Promise<ConsoleBrowser> {
  const op = await t.app.services.operators.create(name, role);
  return Object.assign(await consoleBrowserForKey(t, op.key), { operatorId: op.id });
}

/** A mini browser signed in to the console with an existing operator's key, through the sign-in form. */
export async function consoleBrowserForKey(t: TestApp, key: string): Promise<ReturnType<typeof pageBrowser>> {
  const b = pageBrowser(t.app.http.inject.bind(t.app.http));
  await b.get('/console/signin');
  const r = await b.post('/console/signin', { key });
  if (r.statusCode !== 303 || r.headers.location !== '/console') throw new Error(`console sign-in failed: ${r.statusCode} ${t.logs.slice(-3).join('')}`);
  return b;
}

/**
 * Environment for console page tests: no event-loop-delay shedding. These tests share two busy cores;
 * a slow second while modules load would otherwise answer 503 `overloaded` to a page under test
 * (shedding has its own tests).
 */
export const CONSOLE_TEST_ENV = { RESETGUARD_MAX_EVENT_LOOP_DELAY_MS: '0' };
