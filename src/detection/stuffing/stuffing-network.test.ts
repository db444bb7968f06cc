import { describe, expect, it } from 'vitest';
import { findingSource, parseIp, sourceOf } from './stuffing-network.js';

describe('stuffing sources', () => {
  it('puts an IPv4 address in its /24', () => {
    expect(sourceOf('203.0.113.77')).toEqual({ ip: 'ip:203.0.113.77', net: 'net:203.0.113.0/24' });
    expect(sourceOf(' 10.1.2.3 ')).toEqual({ ip: 'ip:10.1.2.3', net: 'net:10.1.2.0/24' });
    expect(findingSource(sourceOf('203.0.113.77').net!)).toBe('stuffing:net:203.0.113.0/24');
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 client it is', () => {
    expect(sourceOf('::ffff:203.0.113.9')).toEqual({ ip: 'ip:203.0.113.9', net: 'net:203.0.113.0/24' });
    expect(sourceOf('::FFFF:cb00:7109')).toEqual({ ip: 'ip:203.0.113.9', net: 'net:203.0.113.0/24' });
  });

  it('spells every IPv6 address one way (RFC 5952) and puts it in its /64', () => {
    const spellings = ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000::0001', '2001:db8:0::0:1'];
    for (const s of spellings) expect(sourceOf(s)).toEqual({ ip: 'ip:2001:db8::1', net: 'net:2001:db8::/64' });
    expect(sourceOf('2001:db8:aa:bb:1:2:3:4')).toEqual({ ip: 'ip:2001:db8:aa:bb:1:2:3:4', net: 'net:2001:db8:aa:bb::/64' });
    // Two addresses in one /64 share the network; the next /64 does not.
    expect(sourceOf('2001:db8:0:1::a').net).toBe(sourceOf('2001:db8:0:1:ffff::b').net);
    expect(sourceOf('2001:db8:0:1::a').net).not.toBe(sourceOf('2001:db8:0:2::a').net);
    // Only runs of two or more zero groups become ::, the first longest one.
    expect(sourceOf('2001:db8:0:1:1:1:1:1').ip).toBe('ip:2001:db8:0:1:1:1:1:1');
    expect(sourceOf('2001:0:0:1:0:0:0:1').ip).toBe('ip:2001:0:0:1::1');
    expect(sourceOf('1:0:0:2:0:0:3:4').ip).toBe('ip:1::2:0:0:3:4');
    expect(sourceOf('::1')).toEqual({ ip: 'ip:::1', net: 'net:::/64' });
    expect(sourceOf('fe80::1%eth0').ip).toBe('ip:fe80::1');
    expect(sourceOf('64:ff9b::198.51.100.1').ip).toBe('ip:64:ff9b::c633:6401');
  });

  it('keeps a non-address as a bounded key with no network', () => {
    expect(sourceOf('not-an-ip')).toEqual({ ip: 'ip:not-an-ip', net: null });
    expect(sourceOf('x'.repeat(500)).ip).toHaveLength(3 + 64);
    expect(parseIp('1.2.3')).toBeNull();
    expect(parseIp('1::2::3')).toBeNull();
  });
});
