import { describe, expect, test } from 'vitest';
import { checkPinStrength, normalizePin } from '../../src/lib/crypto/pin/normalize';

describe('P25 PIN normalisation', () => {
  test.each([
    ['  1357  ', '1357', 'leading and trailing spaces'],
    ['\t1357\n', '1357', 'tabs and newlines at the ends'],
    ['\u00a01357\u3000', '1357', 'NBSP and ideographic space at the ends'],
    ['13 57', '1357', 'digit grouping inside a numeric PIN'],
    ['１３５７', '1357', 'fullwidth digits (NFKD)'],
    ['١٣٥٧', '1357', 'Arabic-Indic digits'],
    ['۱۳۵۷', '1357', 'Persian (extended Arabic-Indic) digits'],
    ['१३५७', '1357', 'Devanagari digits'],
    ['๑๓๕๗', '1357', 'Thai digits'],
    ['1٣５7', '1357', 'mixed scripts'],
    ['my  secret\u00a0pin', 'my secret pin', 'internal whitespace runs in a passphrase collapse to one space'],
    ['Ｐｉｎ2024', 'Pin2024', 'fullwidth letters (NFKD), case kept'],
    ['caf\u00e9z', 'cafe\u0301z', 'precomposed é decomposes (NFKD)'],
    ['cafe\u0301z', 'cafe\u0301z', 'decomposed é stays decomposed']
  ])('%j -> %j (%s)', (input, expected) => {
    expect(normalizePin(input)).toBe(expected);
  });

  test('normalisation is idempotent', () => {
    for (const p of ['  ١٣ ٥٧ ', 'my  secret\u00a0pin', 'Ｐｉｎ2024', 'cafe\u0301z']) {
      expect(normalizePin(normalizePin(p))).toBe(normalizePin(p));
    }
  });

  test('case is significant for alphanumeric PINs', () => {
    expect(normalizePin('Tiger42')).not.toBe(normalizePin('tiger42'));
  });

  test.each([
    ['', 'empty'],
    ['   ', 'only whitespace'],
    ['12\u200b34', 'zero-width space'],
    ['12\u202e34', 'bidi override'],
    ['12\u000034', 'NUL'],
    ['x'.repeat(129), 'too long']
  ])('refuses %j (%s) with InvalidArgument', (input) => {
    expect(() => normalizePin(input)).toThrow(/InvalidArgument/);
  });

  test('refuses a decimal digit of a script outside the table instead of keeping it', () => {
    // U+1D7CE MATHEMATICAL BOLD DIGIT ZERO is mapped by NFKD; U+11066 BRAHMI DIGIT ZERO is not.
    expect(normalizePin('\u{1d7cf}357')).toBe('1357');
    expect(() => normalizePin('\u{11066}357')).toThrow(/InvalidArgument: PIN contains a decimal digit U\+11066/);
  });
});

describe('PIN strength', () => {
  test.each(['1357', '8264', '90210x', 'Tiger42', 'my secret pin', '٢٨٦٤'])('accepts %j', (pin) => {
    expect(checkPinStrength(pin)).toEqual({ ok: true });
  });

  test.each([
    ['123', /at least 4/],
    ['0000', /repeats/],
    ['7777777', /repeats/],
    ['1212', /common|repeats/],
    ['123123', /common|repeats/],
    ['1234', /sequence/],
    ['0123', /sequence/],
    ['4321', /sequence/],
    ['98765', /sequence/],
    ['abcd', /sequence/],
    ['１２３４', /sequence/],
    ['١٢٣٤', /sequence/],
    ['2580', /common/],
    ['Password', /common/],
    ['', /empty/]
  ])('refuses %j', (pin, reason) => {
    const r = checkPinStrength(pin);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});
