import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { KEYED_HMAC_MAX_INPUT, withKeyedHmac } from '../../src/lib/crypto/keyed-hmac';
import { sodium } from '../../src/lib/crypto/sodium';
import { toHex } from '../../src/lib/codec/bytes';

const nodeHmac = (key: Uint8Array, data: Uint8Array) => toHex(new Uint8Array(createHmac('sha256', key).update(data).digest()));
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

test('P6 keyed HMAC states (init, copy, zero key) give exactly HMAC-SHA256, interleaved with other libsodium work', () => {
  fc.assert(
    fc.property(bytes(KEYED_HMAC_MAX_INPUT), bytes(KEYED_HMAC_MAX_INPUT), bytes(KEYED_HMAC_MAX_INPUT), (key, m1, m2) => {
      const [a, b, z] = withKeyedHmac((h) => {
        h.init(0, key);
        h.copy(1, 0);
        const a = h.mac(0, m1);
        sodium().crypto_hash_sha256(new Uint8Array(4096)); // other wasm work in between
        const b = h.mac(1, m2);
        h.initZeroKey(0);
        return [a, b, h.mac(0, m1)];
      });
      expect(toHex(a)).toBe(nodeHmac(key, m1));
      expect(toHex(b)).toBe(nodeHmac(key, m2));
      expect(toHex(z)).toBe(nodeHmac(new Uint8Array(32), m1));
    }),
    { numRuns: 200 }
  );
});

test('keyed HMAC refuses oversized input and re-entry, and stays usable after a throw', () => {
  expect(() => withKeyedHmac((h) => h.mac(0, new Uint8Array(KEYED_HMAC_MAX_INPUT + 1)))).toThrow(/exceeds/);
  expect(() => withKeyedHmac(() => withKeyedHmac(() => 0))).toThrow(/re-entered/);
  const key = new Uint8Array(32).fill(9);
  const m = Uint8Array.of(1);
  expect(toHex(withKeyedHmac((h) => (h.init(0, key), h.mac(0, m))))).toBe(nodeHmac(key, m));
});
