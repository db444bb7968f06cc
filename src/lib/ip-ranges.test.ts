// The classifier behind the webhook SSRF rule, over every notation of the addresses an attacker aims at.
// Pure: nothing here resolves a name or sends a request.
import { describe, expect, it } from 'vitest';
import { classifyAddress, classifyHost } from './ip-ranges.js';

/** The host part a URL parser hands over for `http://<host>/`: the notations reach the classifier already normalized. */
const urlHost = (host: string) => new URL(`http://${host}/`).hostname;

describe('classifyAddress / classifyHost', () => {
  it.each([
    // Cloud metadata and link-local, in every IPv4 notation.
    ['169.254.169.254', 'link_local'],
    ['0xa9fea9fe', 'link_local'],
    ['2852039166', 'link_local'],
    ['0251.0376.0251.0376', 'link_local'],
    ['169.254.43518', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    // Loopback.
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    // IPv4-mapped IPv6 takes the class of the IPv4 address inside.
    ['::ffff:127.0.0.1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:10.0.0.1', 'private'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'private'],
    // Private ranges at their edges.
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['012.1.2.3', 'private'],
    ['167772161', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['0xc0a80001', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    // Multicast, unspecified, broadcast and the rest of the special-purpose blocks.
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    // Just outside the private blocks: public.
    ['172.15.255.255', 'public'],
    ['172.32.0.1', 'public'],
    ['192.169.0.1', 'public'],
    ['11.0.0.1', 'public'],
    ['93.184.215.14', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:93.184.215.14', 'public'],
  ] as const)('%s is %s', (address, range) => {
    expect(classifyAddress(address)).toBe(range);
    expect(classifyHost(address)).toBe(range);
  });

  it.each([
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0xa9.0xfe.0xa9.0xfe', 'link_local'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[0::1]', 'loopback'],
    ['[fe80::1]', 'link_local'],
    ['LOCALHOST', 'loopback'],
    ['localhost.', 'loopback'],
    ['api.localhost', 'loopback'],
  ] as const)('the host of http://%s/ is %s', (host, range) => {
    expect(classifyHost(urlHost(host))).toBe(range);
  });

  it('says nothing of a name (only DNS at the time of use can) and refuses nothing that is not an address', () => {
    expect(classifyHost('hooks.example.com')).toBeNull();
    expect(classifyHost('localhost.example.com')).toBeNull();
    expect(classifyAddress('hooks.example.com')).toBeNull();
    expect(classifyAddress('1.2.3.4.5')).toBeNull();
    expect(classifyAddress('')).toBeNull();
  });
});
