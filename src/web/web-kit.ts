// What every page plugin needs besides its service: the page session (cookie) and CSRF protection,
// built once in createApp from the same Keyring and SessionsService as the API.
import type { SessionsService } from '../accounts/sessions.service.js';
import type { Clock } from '../lib/clock.js';
import type { Keyring } from '../lib/secrets.js';
import { Csrf } from './csrf.js';
import { DeviceCookie } from './device-cookie.js';
import { PageSessions } from './page-sessions.js';

export interface WebKit {
  csrf: Csrf;
  sessions: PageSessions;
  /** The rg_device cookie new-device alerts recognise this browser by. */
  device: DeviceCookie;
}

export function createWebKit(deps: { keyring: Keyring; sessions: SessionsService; clock: Clock; publicUrl: string }): WebKit {
  const url = new URL(deps.publicUrl);
  // Secure cookies whenever people reach us over https; on plain http a Secure cookie would never return.
  const secure = url.protocol === 'https:';
  return {
    csrf: new Csrf({ keyring: deps.keyring, publicOrigin: url.origin, secure }),
    sessions: new PageSessions({ sessions: deps.sessions, clock: deps.clock, secure }),
    device: new DeviceCookie(secure),
  };
}
