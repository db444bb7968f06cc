import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email.js';
import { mixedScripts } from './email-scripts.js';
import { emailSkeleton, skeleton } from './email-skeleton.js';

describe('TR 39 confusable skeleton', () => {
  it.each([
    ['асе', 'ace'], // all Cyrillic а с е
    ['рау', 'pay'], // all Cyrillic р а у
    ['αυρα', 'aupa'], // all Greek α υ ρ α
    ['paypa1', 'paypal'], // digit 1 → l
    ['ⅰ', 'i'], // small roman numeral one
    ['amie', 'arnie'], // the table maps m → rn
    ['ɑlice', 'alice'], // Latin alpha
  ])('%s and %s share a skeleton', (lookalike, plain) => {
    expect(skeleton(lookalike)).toBe(skeleton(plain));
  });

  it('maps what the table maps, and only that', () => {
    expect(skeleton('1')).toBe('l');
    expect(skeleton('I')).toBe('l');
    // 0 → capital O: in lowercased addresses "g00gle" and "google" stay apart.
    expect(skeleton('0')).toBe('O');
    expect(skeleton('g00gle')).not.toBe(skeleton('google'));
    expect(skeleton('alice')).toBe('alice');
    // An accent is not a lookalike: NFD keeps the combining mark.
    expect(skeleton('josé')).toBe('jose\u0301');
    expect(skeleton('josé')).not.toBe(skeleton('jose'));
    expect(skeleton('jose\u0301')).toBe(skeleton('jos\u00e9'));
  });

  it('is idempotent (prototypes map to themselves)', () => {
    for (const s of ['асе', 'αυρα', 'paypa1', 'ｐａｙｐａｌ', 'amie', '山田たろう', 'алиса']) expect(skeleton(skeleton(s))).toBe(skeleton(s));
  });

  it('sees fullwidth forms as their letters, which NFKC already folded in normalizeEmail', () => {
    expect(skeleton('ｐａｙｐａｌ')).toBe('paypal');
    expect(normalizeEmail('ｐａｙｐａｌ@example.com')).toBe('paypal@example.com');
  });

  it('gives whole-script lookalike addresses (not mixed, so the script rule passes them) the skeleton of the original', () => {
    const lookalike = normalizeEmail('асе@example.com');
    expect(mixedScripts(lookalike)).toBeNull();
    expect(lookalike).not.toBe('ace@example.com');
    expect(emailSkeleton(lookalike)).toBe(emailSkeleton('ace@example.com'));
    expect(emailSkeleton(normalizeEmail('paypa1@example.com'))).toBe(emailSkeleton('paypal@example.com'));
    expect(emailSkeleton('bob@example.com')).not.toBe(emailSkeleton('ace@example.com'));
  });

  it('takes the skeleton of an IDN domain in its Unicode form, not its punycode', () => {
    const cyrillicDomain = normalizeEmail('alice@ехample.com'); // Cyrillic е, х
    expect(cyrillicDomain).toMatch(/@xn--/);
    expect(emailSkeleton(cyrillicDomain)).toBe(emailSkeleton('alice@example.com'));
  });
});
