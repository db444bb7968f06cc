import { describe, expect, it } from 'vitest';
import { validForwardedHops } from './forwarded-for.js';

describe('validForwardedHops', () => {
  it('keeps the valid hops right of the first invalid one, reading from the right', () => {
    expect(validForwardedHops(undefined)).toBeUndefined();
    expect(validForwardedHops('203.0.113.7')).toBe('203.0.113.7');
    expect(validForwardedHops(' 6.6.6.6 ,203.0.113.9, ::1')).toBe('6.6.6.6, 203.0.113.9, ::1');
    expect(validForwardedHops('visit https://evil.example/login')).toBe('');
    expect(validForwardedHops('1.2.3.4, evil, 203.0.113.9')).toBe('203.0.113.9');
    expect(validForwardedHops('203.0.113.9, ')).toBe('');
    expect(validForwardedHops(['1.2.3.4', '5.6.7.8'])).toBe('1.2.3.4, 5.6.7.8');
    expect(validForwardedHops('0x7f000001')).toBe('');
  });
});
