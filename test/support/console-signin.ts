// A mini browser (test/support/page-browser.ts) signed in to the operator console with an operator of
// the given role: for inject tests of console pages, their role checks and their CSRF tokens.
import type { Role } from '../../src/operators/roles.js';
import type { TestApp } from './app.js';
import { pageBrowser } from './page-browser.js';

export type ConsoleBrowser = ReturnType<typeof pageBrowser> & { operatorId: string };

export async function consoleBrowser(t: TestApp, role: Role, name = `${role} operator`): Promise<ConsoleBrowser> {
  const op = await t.app.services.operators.create(name, role);
  const b = pageBrowser(t.app.http.inject.bind(t.app.http));
  await b.get('/console/signin');
  const r = await b.post('/console/signin', { key: op.key });
  if (r.statusCode !== 303 || r.headers.location !== '/console') throw new Error(`console sign-in failed: ${r.statusCode}`);
  return Object.assign(b, { operatorId: op.id });
}
