// Which kind of address a host names, for refusing outbound requests (webhooks) to anything but the
// public internet. Pure: no DNS, no request. Every notation an attacker can use for 127.0.0.1 or
// 169.254.169.254 — decimal (2130706433), hex (0x7f000001), octal (0177.0.0.1), short (127.1),
// IPv4-mapped IPv6 (::ffff:7f00:1) — is parsed by ipaddr.js (the parser proxy-addr uses) to the same
// address, and only what its range table calls global unicast is "public".
import ipaddr from 'ipaddr.js';

export type AddressRange = 'public' | 'loopback' | 'private' | 'link_local' | 'multicast' | 'unspecified' | 'reserved';

const RANGES: Record<string, AddressRange> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  linkLocal: 'link_local',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

/**
 * The range of an IP address in any notation, or null when `text` is not an IP address. Anything
 * ipaddr.js names but this table does not (broadcast, documentation, benchmarking, 6to4, Teredo,
 * NAT64 — several of which embed an IPv4 address that may be internal) is 'reserved', refused like
 * the rest.
 */
export function classifyAddress(text: string): AddressRange | null {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return null;
  let address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return RANGES[address.range()] ?? 'reserved';
}

/**
 * The range of a URL's host: an IP address in any notation, or a name. `localhost` and `*.localhost`
 * always resolve to loopback (RFC 6761); any other name is null — only DNS can tell, at the time of use.
 */
export function classifyHost(hostname: string): AddressRange | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  return classifyAddress(host);
}
