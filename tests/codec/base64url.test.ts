/**
 * The codec's base64url (src/lib/codec/base64url.ts): RFC 4648 §5 without padding, byte for byte
 * what Node's own encoder gives for any input, and strict on the way back, so every byte string
 * has exactly one accepted text form (P6: stored and wire fields stay exact; P12: a malformed
 * field is an error, never a guess).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { codeOf } from '../support/code-of';

describe('base64url', () => {
  test('P6 encodes exactly as the reference for every length and byte, and decodes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(Buffer.from(fromBase64Url(text, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 400 }
    );
    // Every byte value in every position of a 3-byte group, and a large field.
    const all = Uint8Array.from({ length: 768 }, (_, i) => i & 0xff);
    for (const cut of [0, 1, 2]) expect(toBase64Url(all.subarray(cut))).toBe(Buffer.from(all.subarray(cut)).toString('base64url'));
    const big = Uint8Array.from({ length: 200_003 }, (_, i) => (i * 7919) & 0xff);
    expect(toBase64Url(big)).toBe(Buffer.from(big).toString('base64url'));
    expect(Buffer.from(fromBase64Url(toBase64Url(big), big.length)).equals(Buffer.from(big))).toBe(true);
  });

  test('P12 refuses padding, the other alphabet, foreign characters anywhere, impossible lengths and non-zero trailing bits', () => {
    expect(codeOf(() => fromBase64Url('QQ==', 10))).toBe('DecodeFailed');
    expect(codeOf(() => fromBase64Url('a+b/', 10))).toBe('DecodeFailed');
    for (const at of [0, 1, 2, 3, 4, 5, 6]) {
      const text = 'QUJDREVG'.slice(0, 7).split('');
      text[at] = '!';
      expect(codeOf(() => fromBase64Url(text.join(''), 10)), `bad character at ${at}`).toBe('DecodeFailed');
    }
    expect(codeOf(() => fromBase64Url('QUJD\u00e9', 10))).toBe('DecodeFailed');
    expect(codeOf(() => fromBase64Url('Q', 10))).toBe('DecodeFailed');
    expect(codeOf(() => fromBase64Url('QUJDR', 10))).toBe('DecodeFailed');
    // One byte leaves 4 spare bits, two bytes leave 2: set, they make a second spelling.
    expect(Array.from(fromBase64Url('QQ', 1))).toEqual([0x41]);
    expect(codeOf(() => fromBase64Url('QR', 1))).toBe('DecodeFailed');
    expect(Array.from(fromBase64Url('QUI', 2))).toEqual([0x41, 0x42]);
    expect(codeOf(() => fromBase64Url('QUJ', 2))).toBe('DecodeFailed');
    expect(codeOf(() => fromBase64Url(42 as unknown as string, 10))).toBe('DecodeFailed');
  });

  test('P12 a field longer than allowed is refused before decoding; the empty field is empty', () => {
    expect(codeOf(() => fromBase64Url('QUJD', 2))).toBe('DecodeFailed');
    expect(Array.from(fromBase64Url('QUJD', 3))).toEqual([0x41, 0x42, 0x43]);
    expect(fromBase64Url('', 0)).toHaveLength(0);
    expect(toBase64Url(new Uint8Array(0))).toBe('');
  });
});
