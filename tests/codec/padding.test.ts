import { describe, expect, test } from 'vitest';
import { pad, paddedLength, unpad, PADDING_BLOCK } from '../../src/lib/codec/padding';

describe('ISO/IEC 7816-4 padding to 160-byte blocks', () => {
  test.each([0, 1, 158, 159, 160, 161, 319, 320, 1000])('%i bytes round-trip into a multiple of 160', (n) => {
    const data = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0x80 : i % 3 === 1 ? 0 : i & 0xff));
    const p = pad(data);
    expect(p.length % PADDING_BLOCK).toBe(0);
    expect(p.length).toBe(paddedLength(n));
    expect(p.length - n).toBeGreaterThanOrEqual(1);
    expect(p.length - n).toBeLessThanOrEqual(PADDING_BLOCK);
    expect(p[n]).toBe(0x80);
    expect(unpad(p)).toEqual(data);
  });

  test('a plaintext ending in 0x80 or zeros survives', () => {
    for (const tail of [[0x80], [0x80, 0], [0, 0, 0]]) {
      const data = Uint8Array.from([1, 2, ...tail]);
      expect(unpad(pad(data))).toEqual(data);
    }
  });

  test('strict unpad: wrong length, missing marker, junk after marker, over-long padding', () => {
    expect(() => unpad(new Uint8Array(0))).toThrow(/InvalidMessage/);
    expect(() => unpad(new Uint8Array(159))).toThrow(/InvalidMessage/);
    expect(() => unpad(new Uint8Array(160))).toThrow(/InvalidMessage/); // all zero: no marker
    const junk = pad(new Uint8Array(10));
    junk[159] = 1;
    expect(() => unpad(junk)).toThrow(/InvalidMessage/);
    const wrongMarker = pad(new Uint8Array(10));
    wrongMarker[10] = 0x81;
    expect(() => unpad(wrongMarker)).toThrow(/InvalidMessage/);
    const overlong = new Uint8Array(320);
    overlong[100] = 0x80; // 220 bytes of padding: more than one block
    expect(() => unpad(overlong)).toThrow(/InvalidMessage/);
  });
});
