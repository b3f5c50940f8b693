import { describe, expect, test } from 'vitest';
import { hkdf, hkdfExpand, hkdfExtract } from '../../src/lib/crypto/hkdf';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import vectors from '../vectors/rfc5869-hkdf-sha256.json';

describe('P6 KDFs are exact: HKDF-SHA256 against RFC 5869 Appendix A', () => {
  test.each(vectors.cases)('$name', (c) => {
    const salt = c.salt === '' ? undefined : fromHex(c.salt);
    const prk = hkdfExtract(salt, fromHex(c.ikm));
    expect(toHex(prk)).toBe(c.prk);
    expect(toHex(hkdfExpand(prk, fromHex(c.info), c.length))).toBe(c.okm);
    expect(toHex(hkdf(salt, fromHex(c.ikm), fromHex(c.info), c.length))).toBe(c.okm);
  });

  test('rejects lengths beyond 255 * HashLen and short PRKs', () => {
    expect(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(/InvalidArgument/);
    expect(() => hkdfExpand(new Uint8Array(31), new Uint8Array(0), 32)).toThrow(/InvalidArgument/);
  });
});
