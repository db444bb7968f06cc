import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email.js';
import { mixedScripts } from './email-scripts.js';

describe('lookalike addresses', () => {
  it('folds fullwidth and other compatibility forms with NFKC: one account, not two', () => {
    expect(normalizeEmail('ａｌｉｃｅ@example.com')).toBe('alice@example.com');
    expect(normalizeEmail('Ａlice@example.com')).toBe('alice@example.com');
    expect(normalizeEmail('ﬁona@example.com')).toBe('fiona@example.com');
    expect(normalizeEmail('alice@ｅｘａｍｐｌｅ.com')).toBe('alice@example.com');
  });

  it.each([
    ['аlice@example.com', ['Cyrillic', 'Latin']], // Cyrillic а
    ['alicе@example.com', ['Latin', 'Cyrillic']], // Cyrillic е
    ['pαypal@example.com', ['Latin', 'Greek']],
    ['ꭺlice@example.com', ['Cherokee', 'Latin']],
  ])('finds %s mixing %j', (email, scripts) => {
    expect(mixedScripts(normalizeEmail(email))).toEqual(scripts);
  });

  it.each(['alice@example.com', 'alice.b-2024+tag@example.com', 'алиса@example.com', 'αλίκη@example.com', 'josé@example.com', '山田たろう@example.jp', 'ヤマダ太郎@example.jp', '김철수@example.kr', 'मनीष@example.in', '1234@example.com'])(
    'accepts %s (one writing system)',
    (email) => {
      expect(mixedScripts(normalizeEmail(email))).toBeNull();
    },
  );
});
