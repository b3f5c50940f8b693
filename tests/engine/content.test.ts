/**
 * The message content codec (src/lib/wire/content.ts): round trips, strictness, bounds.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decodeContent, encodeContent, MAX_RECEIPT_IDS, MAX_TEXT_BYTES, type Content } from '../../src/lib/wire/content';
import { concatBytes } from '../../src/lib/codec/bytes';

const id = 'a'.repeat(32);

describe('content codec', () => {
  test('text and receipts round-trip exactly', () => {
    const hexId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
    const content: fc.Arbitrary<Content> = fc.oneof(
      fc.record({ kind: fc.constant('text' as const), id: hexId, sentAt: fc.nat({ max: 2 ** 50 }), text: fc.string({ unit: 'grapheme', maxLength: 200 }) }),
      fc.record({ kind: fc.constant('receipt' as const), receipt: fc.constantFrom('delivered' as const, 'read' as const), ids: fc.array(hexId, { minLength: 1, maxLength: 20 }) })
    );
    fc.assert(
      fc.property(content, (c) => {
        expect(decodeContent(encodeContent(c))).toEqual(c);
      })
    );
  });

  test('hostile text survives byte for byte (it is data, never markup)', () => {
    const text = '<img src=x onerror=alert(1)> \u202e 👩‍👩‍👧 \u0000';
    expect(decodeContent(encodeContent({ kind: 'text', id, sentAt: 1, text }))).toMatchObject({ text });
  });

  test('trailing bytes, truncation, unknown version and unknown kind are refused with codes', () => {
    const good = encodeContent({ kind: 'text', id, sentAt: 5, text: 'hi' });
    expect(() => decodeContent(concatBytes(good, Uint8Array.of(0)))).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    for (let n = 0; n < good.length; n++) {
      expect(() => decodeContent(good.subarray(0, n))).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    }
    const v2 = good.slice();
    v2[0] = 2;
    expect(() => decodeContent(v2)).toThrow(expect.objectContaining({ code: 'UnsupportedVersion' }));
    const k9 = good.slice(); // 0x09 is the group update now: 0x7f is a kind nobody knows
    k9[1] = 0x7f;
    expect(() => decodeContent(k9)).toThrow(expect.objectContaining({ code: 'UnsupportedVersion' }));
  });

  test('invalid UTF-8, bad receipt type and empty receipts are DecodeFailed', () => {
    const text = encodeContent({ kind: 'text', id, sentAt: 5, text: 'ab' });
    text[text.length - 1] = 0xff;
    expect(() => decodeContent(text)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    const receipt = encodeContent({ kind: 'receipt', receipt: 'read', ids: [id] });
    const badType = receipt.slice();
    badType[2] = 7;
    expect(() => decodeContent(badType)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    const empty = receipt.slice(0, 5);
    empty[3] = 0;
    empty[4] = 0;
    expect(() => decodeContent(empty)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
  });

  test('limits: text over MAX_TEXT_BYTES, receipts over MAX_RECEIPT_IDS and malformed ids are refused', () => {
    expect(() => encodeContent({ kind: 'text', id, sentAt: 1, text: 'x'.repeat(MAX_TEXT_BYTES + 1) })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' })
    );
    expect(() => encodeContent({ kind: 'receipt', receipt: 'read', ids: Array(MAX_RECEIPT_IDS + 1).fill(id) })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' })
    );
    expect(() => encodeContent({ kind: 'text', id: 'A'.repeat(32), sentAt: 1, text: '' })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });

  test('P41 P43 a profile key rides on a text or on its own, exactly 32 bytes; anything else after a text is refused', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const text = { kind: 'text', id: 'ab'.repeat(16), sentAt: 5, text: 'hi', profileKey: key } as const;
    expect(decodeContent(encodeContent(text))).toEqual(text);
    expect(decodeContent(encodeContent({ kind: 'profileKey', key }))).toEqual({ kind: 'profileKey', key });
    const plain = encodeContent({ kind: 'text', id: 'ab'.repeat(16), sentAt: 5, text: 'hi' });
    expect(decodeContent(plain)).not.toHaveProperty('profileKey');
    for (const extra of [1, 31, 33]) {
      expect(() => decodeContent(concatBytes(plain, new Uint8Array(extra)))).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    }
    expect(() => decodeContent(encodeContent({ kind: 'profileKey', key }).subarray(0, 20))).toThrow();
  });
});
