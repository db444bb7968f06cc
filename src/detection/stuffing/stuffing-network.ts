// Where a sign-in came from, as the stuffing detector counts it: the client address in one canonical
// spelling, and the network it belongs to (/24 for IPv4, /64 for IPv6).
//
// Canonical, because the same IPv6 address has many spellings (`2001:DB8:0:0::1`, `2001:db8::1`) and an
// IPv4 client reaching a dual-stack listener shows up as `::ffff:203.0.113.7`: counting spellings
// separately would split one attacker into several small ones. IPv6 is written as RFC 5952 says
// (lowercase, no leading zeros, the longest run of two or more zero groups as `::`).
//
// Why /24 and /64: an IPv4 /24 is the smallest block routinely announced and rented as a unit (a VPS
// range, a proxy pool's subnet); an IPv6 /64 is what one customer or host gets, and an attacker holding
// one can use 2^64 addresses, so counting single IPv6 addresses alone would count nothing.
import { isIPv4, isIPv6 } from 'node:net';

export interface SourceOf {
  /** Counter key of the address: `ip:<canonical address>`. */
  ip: string;
  /** Counter key of its network, `net:<cidr>`; null when the address could not be parsed. */
  net: string | null;
}

/** Longest text kept for an address that is not one (a misconfigured proxy header): bounded keys. */
const MAX_RAW = 64;

export function sourceOf(rawIp: string): SourceOf {
  const parsed = parseIp(rawIp.trim());
  if (!parsed) return { ip: `ip:${rawIp.trim().slice(0, MAX_RAW).toLowerCase()}`, net: null };
  if (parsed.v === 4) {
    const o = parsed.octets;
    return { ip: `ip:${o.join('.')}`, net: `net:${o[0]}.${o[1]}.${o[2]}.0/24` };
  }
  const groups = parsed.groups;
  return { ip: `ip:${formatIpv6(groups)}`, net: `net:${formatIpv6([...groups.slice(0, 4), 0, 0, 0, 0])}/64` };
}

/** The address part of a source key, as findings name it (`stuffing:ip:<addr>`, `stuffing:net:<cidr>`). */
export function findingSource(key: string): string {
  return `stuffing:${key}`;
}

type Parsed = { v: 4; octets: number[] } | { v: 6; groups: number[] };

export function parseIp(text: string): Parsed | null {
  if (isIPv4(text)) return { v: 4, octets: text.split('.').map(Number) };
  // A zone index (`fe80::1%eth0`) names an interface of this host, not part of the address.
  const bare = text.replace(/%.*$/, '');
  if (!isIPv6(bare)) return null;
  const groups = expandIpv6(bare);
  if (!groups) return null;
  // IPv4-mapped (::ffff:a.b.c.d): an IPv4 client seen through an IPv6 socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { v: 4, octets: [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff] };
  }
  return { v: 6, groups };
}

/** Eight 16-bit groups of a valid IPv6 address (node:net has already validated the syntax). */
function expandIpv6(text: string): number[] | null {
  let head = text;
  let tail: number[] = [];
  // An embedded dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is the last two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (quad) {
    const o = quad[1]!.split('.').map(Number);
    tail = [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!];
    head = head.slice(0, -quad[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = parse(head.slice(0, gap));
    const right = [...parse(head.slice(gap + 2)), ...tail];
    const missing = 8 - left.length - right.length;
    if (missing < 0) return null;
    groups = [...left, ...Array<number>(missing).fill(0), ...right];
  } else {
    groups = [...parse(head), ...tail];
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** RFC 5952 §4: lowercase hex, no leading zeros, the first longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}
