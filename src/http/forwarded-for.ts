// X-Forwarded-For is only believed from a configured proxy (RESETGUARD_TRUSTED_PROXIES), and even then
// each hop is text a client may have written. A hop that is not an IP address (say "visit
// https://evil.example/login") would otherwise become "the client's address" printed in a reset mail
// and used as a per-IP limit key. So the chain is cut at the first hop, from the right (the side our
// proxies appended), that is not a valid IPv4 or IPv6 address: what is left is only hops proxies could
// have written, and when nothing is left the proxy's own address is the client's.
import { isIP } from 'node:net';

/** The valid right-hand part of an X-Forwarded-For value (possibly ''); `undefined` when there was none. */
export function validForwardedHops(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((h) => h.trim());
  const kept: string[] = [];
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    kept.unshift(hop);
  }
  return kept.join(', ');
}
