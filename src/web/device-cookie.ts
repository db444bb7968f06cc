// rg_device: a long-lived random cookie that lets new-device alerts recognise this browser (the API has
// no such cookie and is recognised by network and browser family). It names the browser, not a person
// or a session: it carries no authority, and only an HMAC of it is stored.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../lib/secrets.js';
import { readCookie, setCookie } from './cookies.js';

export const DEVICE_COOKIE = 'rg_device';
/** Browsers cap cookie lifetimes at 400 days; devices are remembered for 90 after their last sign-in. */
const MAX_AGE_S = 400 * 86_400;

export class DeviceCookie {
  constructor(private readonly secure: boolean) {}

  /** This browser's device id, or a new one for a browser that never signed in here. */
  idOf(request: FastifyRequest): string {
    const existing = readCookie(request, DEVICE_COOKIE);
    return existing && existing.length >= 32 ? existing : randomToken();
  }

  /** Set after each successful sign-in: the lifetime runs from the last one. */
  remember(reply: FastifyReply, id: string): void {
    setCookie(reply, DEVICE_COOKIE, id, { maxAge: MAX_AGE_S, secure: this.secure });
  }
}
