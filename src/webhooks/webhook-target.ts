// Where a webhook may be sent. A subscription names a URL an operator typed; without this, resetguard
// would POST signed requests to whatever that URL reaches from inside the deployment — the cloud
// metadata service (169.254.169.254), the database (localhost:5432), an admin panel on 10.x — and the
// delivery errors would tell the operator what answered. So loopback, private, link-local, multicast,
// unspecified and reserved addresses are refused:
// - at creation, for a host written as an address in any notation, or `localhost`;
// - at delivery, for every address its name resolves to, in the lookup the connection itself uses, so a
//   name that resolves to a public address when checked and to 127.0.0.1 when connecting (DNS
//   rebinding) cannot slip through: the socket connects to exactly the address that was checked.
// RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1 lifts the rule, for development against a receiver on this machine.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { classifyAddress, classifyHost, type AddressRange } from '../lib/ip-ranges.js';

export const ALLOW_PRIVATE_HINT = 'set RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1 to allow it in development';

/** Why a URL's host may not be called, or null when it may (names are decided at delivery). */
export function refusedHost(hostname: string, allowPrivate: boolean): AddressRange | null {
  if (allowPrivate) return null;
  const range = classifyHost(hostname);
  return range !== null && range !== 'public' ? range : null;
}

export class WebhookTargetRefused extends Error {
  override name = 'WebhookTargetRefused';
  constructor(readonly range: AddressRange) {
    // Names the kind of address only: not which address, nor what (if anything) listens there.
    super(`the target resolves to a ${range.replace('_', '-')} address, which webhooks may not call (${ALLOW_PRIVATE_HINT})`);
  }
}

/** dns.lookup, refusing the whole name when any of its addresses is not public. */
export function checkedLookup(allowPrivate: boolean, lookup: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = allowPrivate ? undefined : addresses.map((a) => classifyAddress(a.address)).find((r) => r !== 'public');
      if (refused) return callback(Object.assign(new WebhookTargetRefused(refused ?? 'reserved'), { code: 'EWEBHOOKTARGET' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

export interface WebhookPostInit {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** POSTs one delivery and answers the status; the reply body is never read. */
export type WebhookPost = (url: string, init: WebhookPostInit) => Promise<number>;

/**
 * The delivery transport: node's http(s) with the checked lookup. Redirects are not followed (a 3xx is
 * just a status), so a signed request never lands on a host the operator did not name.
 */
export function guardedPost(allowPrivate: boolean, resolve: typeof dnsLookup = dnsLookup): WebhookPost {
  const lookup = checkedLookup(allowPrivate, resolve);
  return (url, init) =>
    new Promise<number>((settle, reject) => {
      const target = new URL(url);
      // An address literal never goes through lookup: check it here.
      const literal = refusedHost(target.hostname, allowPrivate);
      if (literal) return reject(new WebhookTargetRefused(literal));
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(target, { method: 'POST', headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) }, lookup, signal: init.signal }, (res: IncomingMessage) => {
        settle(res.statusCode ?? 0);
        res.destroy();
      });
      req.on('error', reject);
      req.end(init.body);
    });
}
