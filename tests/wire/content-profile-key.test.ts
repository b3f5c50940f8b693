/**
 * The profile key inside the ratchet (SECURITY.md P43): content kinds 0x07 (the key alone, after a
 * rotation or an accept) and 0x08 (a text that also carries it) round-trip exactly and decode
 * strictly: a key of the wrong length or trailing bytes are refused.
 */
import { describe, expect, test } from 'vitest';
import { decodeContent, encodeContent } from '../../src/lib/wire/content';

const KEY = new Uint8Array(32).map((_, i) => i + 1);
const ID = '0123456789abcdef0123456789abcdef';

describe('P43 profile key content', () => {
  test('P43 a profile key alone and a text carrying one round-trip', () => {
    expect(decodeContent(encodeContent({ kind: 'profileKey', key: KEY }))).toEqual({ kind: 'profileKey', key: KEY });
    const text = { kind: 'text' as const, id: ID, sentAt: 1234, text: 'hi', profileKey: KEY };
    const enc = encodeContent(text);
    expect(enc[1]).toBe(0x08);
    expect(decodeContent(enc)).toEqual(text);
    expect(encodeContent({ kind: 'text', id: ID, sentAt: 1234, text: 'hi' })[1]).toBe(0x01);
  });

  test('P43 a profile key of the wrong length or with trailing bytes is refused', () => {
    expect(() => encodeContent({ kind: 'profileKey', key: KEY.slice(1) })).toThrow(/profile key of 31 bytes/);
    const enc = encodeContent({ kind: 'profileKey', key: KEY });
    expect(() => decodeContent(enc.slice(0, enc.length - 1))).toThrow();
    expect(() => decodeContent(new Uint8Array([...enc, 0]))).toThrow();
  });
});
