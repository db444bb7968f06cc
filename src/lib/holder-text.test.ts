import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { checkHolderText, quoteHolderText } from './holder-text.js';

const refusal = (value: string) => {
  try {
    checkHolderText('reason', value);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('holder_text_unsafe');
    return (err as AppError).message;
  }
  return null;
};

describe('checkHolderText', () => {
  it.each([
    'Your password appeared in a data breach at another website.',
    'Reused passwords from the Example dump',
    'Credential stuffing: 14 sign-ins from one address between 10:30 and 10:45 UTC',
    'Precaution after the 2024 incident (see your e-mail from support, ref 12.4)',
    'Mot de passe trouvé dans une fuite de données — par précaution.',
    'Passwort in einem Datenleck gefunden, e.g. bei einem anderen Dienst',
  ])('accepts plain words: %s', (value) => {
    expect(checkHolderText('reason', `  ${value} `)).toBe(value);
  });

  it.each([
    ['Breach\r\nReset here', /line breaks, control .* U\+000D/],
    ['Breach\u0000', /U\+0000/],
    ['Breach\ttab', /U\+0009/],
    ['Breach \u202eexe.txt', /text-direction .* U\+202E/],
    ['Breach \u2066isolate\u2069', /U\+2066/],
    ['zero\u200bwidth', /U\+200B/],
    ['line\u2028separator', /U\+2028/],
    ['Reset here: https://evil.example/reset?token=abc', /no links/],
    ['Reset here: HTTP://evil', /no links/],
    ['go to //evil.example', /no links/],
    ['visit www.evil', /no links/],
    ['visit evil.example now', /"evil.example"/],
    ['visit evil.co.uk now', /no links/],
    ['visit xn--80ak6aa92e.com now', /no links/],
    ['visit пример.рф now', /no links/],
    ['visit evil。example now', /no links/],
    ['visit ｅｖｉｌ．ｅｘａｍｐｌｅ now', /no links/],
    ['ｈｔｔｐｓ：／／evil', /no links/],
    ['mail security@evil.example', /no links/],
    ['javascript:alert(1)', /no links/],
    ['call tel:+15550100', /no links/],
    ['see 203.0.113.9', /no links/],
    ['x'.repeat(501), /at most 500 characters \(this one has 501\)/],
  ])('refuses %j', (value, message) => {
    const m = refusal(value);
    expect(m).toMatch(/^reason is shown to account holders in their notice, so it must be plain text: /);
    expect(m).toMatch(message);
  });

  it('quotes text as one plain line, replacing what the check would refuse', () => {
    expect(quoteHolderText('Breach at another site')).toBe('“Breach at another site”');
    expect(quoteHolderText('Breach\r\nReset \u202eme\u0000')).toBe('“Breach Reset me”');
  });
});
