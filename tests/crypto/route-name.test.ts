/**
 * SECURITY.md P46: chat addresses that name nobody (src/lib/crypto/route-name.ts). A route is the
 * username sealed with a synthetic IV under a vault key: one length for every name, the same route
 * for the same name and key, nothing readable without the key, and a route the key did not make
 * (edited, another vault's, a non-canonical name) opens to no one.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { concatBytes } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { hkdf, hmacSha256 } from '../../src/lib/crypto/hkdf';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';
import { ROUTE_NAME_LEN, routeNamer } from '../../src/lib/crypto/route-name';
import type { Username } from '../../src/lib/codec/username';
import { initSodium, sodium } from '../../src/lib/crypto/sodium';

const key = (fill: number) => new Uint8Array(32).fill(fill);
/** One seal or open under a fresh namer, its subkeys wiped after. */
function once<T>(k: Uint8Array, f: (n: ReturnType<typeof routeNamer>) => T): T {
  const n = routeNamer(k);
  try {
    return f(n);
  } finally {
    n.forget();
  }
}
const sealRouteName = (k: Uint8Array, u: Username) => once(k, (n) => n.seal(u));
const openRouteName = (k: Uint8Array, s: string) => once(k, (n) => n.open(s));

beforeAll(async () => {
  await initSodium();
});

describe('P46 chat routes', () => {
  test('P46 every name seals to one 64-character base64url route that holds no trace of the name, and opens back', () => {
    const names = ['bob', 'a.b_c', 'x'.repeat(32)].map((n) => asUsername(n));
    const routes = names.map((n) => sealRouteName(key(1), n));
    for (const [i, r] of routes.entries()) {
      expect(r).toHaveLength(ROUTE_NAME_LEN);
      expect(ROUTE_NAME_LEN).toBe(64);
      expect(r).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(r.toLowerCase()).not.toContain(names[i]!.slice(0, 3));
      expect(openRouteName(key(1), r)).toBe(names[i]);
    }
  });

  test('P46 deterministic per key (one address per chat), different under another key, and another key opens nothing', () => {
    const bob = asUsername('bob');
    expect(sealRouteName(key(1), bob)).toBe(sealRouteName(key(1), bob));
    expect(sealRouteName(key(2), bob)).not.toBe(sealRouteName(key(1), bob));
    expect(sealRouteName(key(1), asUsername('bob2'))).not.toBe(sealRouteName(key(1), bob));
    expect(openRouteName(key(2), sealRouteName(key(1), bob))).toBeUndefined();
  });

  test('P46 a route with any byte changed opens to no one', () => {
    const route = sealRouteName(key(1), asUsername('carol'));
    const bytes = fromBase64Url(route, 48);
    for (let i = 0; i < bytes.length; i++) {
      const edited = bytes.slice();
      edited[i]! ^= 0x01;
      expect(openRouteName(key(1), toBase64Url(edited)), `byte ${i}`).toBeUndefined();
    }
  });

  test('P46 segments that are no route (a plain username, wrong length, not base64url, empty) open to no one', () => {
    const namer = routeNamer(key(1));
    for (const s of ['bob', '', 'A'.repeat(63), 'A'.repeat(65), '!'.repeat(64), '%2F'.repeat(21) + 'A']) expect(namer.open(s), s).toBeUndefined();
    namer.forget();
  });

  test('P46 a correctly sealed but non-canonical name (upper case, or not a username at all) opens to no one', () => {
    // The construction of route-name.ts written out, so the test can seal what the module never would.
    const sealRaw = (k: Uint8Array, name: string): string => {
      const padded = new Uint8Array(32);
      padded.set(new TextEncoder().encode(name));
      const kIv = hkdf(undefined, k, labelBytes(Labels.routeNameIv), 32);
      const kEnc = hkdf(undefined, k, labelBytes(Labels.routeNameEnc), 32);
      const siv = hmacSha256(kIv, padded).subarray(0, 16);
      return toBase64Url(concatBytes(siv, sodium().crypto_stream_xchacha20_xor(padded, concatBytes(siv, new Uint8Array(8)), kEnc)));
    };
    // Control: the written-out construction matches the module for a real name.
    expect(sealRaw(key(1), 'dave')).toBe(sealRouteName(key(1), asUsername('dave')));
    expect(openRouteName(key(1), sealRaw(key(1), 'Dave'))).toBeUndefined();
    expect(openRouteName(key(1), sealRaw(key(1), 'no spaces'))).toBeUndefined();
    expect(openRouteName(key(1), sealRaw(key(1), ''))).toBeUndefined();
  });

  test('a key of the wrong length is a programming error', () => {
    expect(() => routeNamer(new Uint8Array(16))).toThrow(RangeError);
  });
});
