import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import {
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodeSignedPreKey,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodeSignedPreKey,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  kemPreKeySigMessage,
  signedPreKeyPublic,
  signedPreKeySigMessage,
  verifyKemPreKey,
  verifySignedPreKey
} from '../../src/lib/crypto/prekeys';
import { decodeBundle, encodeBundle, verifyBundle, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import { concatBytes } from '../../src/lib/codec/bytes';
import { bundleOf, expectFailsUnchanged, flipBit, makeUser } from '../support/pqxdh-fixtures';

const deps = seededDeps('prekeys-test');
const id = generateIdentity(deps);
const other = generateIdentity(deps);
const spk = generateSignedPreKey(id, 7, deps);
const kem = generateKemPreKey(id, 8, false, deps);
const lastResort = generateKemPreKey(id, 9, true, deps);

describe('prekey signatures', () => {
  test('fresh prekeys verify under their identity', () => {
    expect(() => verifySignedPreKey(id.signing.publicKey, signedPreKeyPublic(spk))).not.toThrow();
    expect(() => verifyKemPreKey(id.signing.publicKey, kemPreKeyPublic(kem))).not.toThrow();
    expect(() => verifyKemPreKey(id.signing.publicKey, kemPreKeyPublic(lastResort))).not.toThrow();
  });

  test('P1 every flipped bit of a signed-prekey or KEM-prekey signature is refused', () => {
    const s = signedPreKeyPublic(spk);
    const k = kemPreKeyPublic(kem);
    for (let bit = 0; bit < 512; bit++) {
      expect(() => verifySignedPreKey(id.signing.publicKey, { ...s, signature: flipBit(s.signature, bit) })).toThrow(/InvalidSignature/);
      expect(() => verifyKemPreKey(id.signing.publicKey, { ...k, signature: flipBit(k.signature, bit) })).toThrow(/InvalidSignature/);
    }
  });

  test('P1 prekeys signed by another identity are refused', () => {
    const foreignSpk = generateSignedPreKey(other, 7, deps);
    const foreignKem = generateKemPreKey(other, 8, false, deps);
    expect(() => verifySignedPreKey(id.signing.publicKey, signedPreKeyPublic(foreignSpk))).toThrow(/InvalidSignature/);
    expect(() => verifyKemPreKey(id.signing.publicKey, kemPreKeyPublic(foreignKem))).toThrow(/InvalidSignature/);
  });

  test('P8 ids, the last-resort flag and the key itself are covered by the signature', () => {
    const s = signedPreKeyPublic(spk);
    const k = kemPreKeyPublic(kem);
    expect(() => verifySignedPreKey(id.signing.publicKey, { ...s, id: 8 })).toThrow(/InvalidSignature/);
    expect(() => verifyKemPreKey(id.signing.publicKey, { ...k, id: 9 })).toThrow(/InvalidSignature/);
    expect(() => verifyKemPreKey(id.signing.publicKey, { ...k, lastResort: true })).toThrow(/InvalidSignature/);
    // Bob's own last-resort key, presented under the one-time key's id and signature.
    expect(() => verifyKemPreKey(id.signing.publicKey, { ...k, publicKey: lastResort.keyPair.publicKey })).toThrow(/InvalidSignature/);
  });

  test('P7 the signed message starts with label, version and key type, so types cannot be confused', () => {
    const sm = signedPreKeySigMessage(7, spk.keyPair.publicKey);
    const km = kemPreKeySigMessage(8, kem.keyPair.publicKey, false);
    const spkLabel = new TextEncoder().encode('Parley_SignedPreKey');
    expect(sm.subarray(0, spkLabel.length)).toEqual(spkLabel);
    expect(Array.from(sm.subarray(spkLabel.length, spkLabel.length + 6))).toEqual([1, 0x05, 0, 0, 0, 7]);
    const kemLabel = new TextEncoder().encode('Parley_KemPreKey');
    expect(Array.from(km.subarray(kemLabel.length, kemLabel.length + 6))).toEqual([1, 0x0a, 0, 0, 0, 8]);
    expect(km[km.length - 1]).toBe(0);
  });

  test('ids outside u32 are refused', () => {
    expect(() => generateSignedPreKey(id, -1, deps)).toThrow(/InvalidArgument/);
    expect(() => generateSignedPreKey(id, 2 ** 32, deps)).toThrow(/InvalidArgument/);
    expect(() => generateOneTimePreKeys(2 ** 32 - 2, 3, deps)).toThrow(/InvalidArgument/);
  });
});

describe('private prekey encodings', () => {
  test('round-trip', () => {
    expect(decodeSignedPreKey(encodeSignedPreKey(spk))).toEqual(spk);
    const [opk] = generateOneTimePreKeys(5, 1, deps);
    expect(decodeOneTimePreKey(encodeOneTimePreKey(opk!))).toEqual(opk);
    expect(decodeKemPreKey(encodeKemPreKey(lastResort))).toEqual(lastResort);
  });

  test('strict: trailing byte, truncation, wrong kind or version', () => {
    const e = encodeKemPreKey(kem);
    expect(() => decodeKemPreKey(concatBytes(e, Uint8Array.of(0)))).toThrow(/DecodeFailed/);
    expect(() => decodeKemPreKey(e.subarray(0, e.length - 1))).toThrow(/DecodeFailed/);
    expect(() => decodeSignedPreKey(e)).toThrow(/DecodeFailed/);
    const v = e.slice();
    v[0] = 2;
    expect(() => decodeKemPreKey(v)).toThrow(/UnsupportedVersion/);
    const f = e.slice();
    f[6] = 2; // last-resort flag byte
    expect(() => decodeKemPreKey(f)).toThrow(/DecodeFailed/);
  });
});

describe('prekey bundle codec', () => {
  const bob = makeUser('bob', seededDeps('bundle-bob'));
  const full = bundleOf(bob);
  const noOpk = bundleOf(bob, { oneTimeId: null, kemId: 999 });

  test('round-trips with and without a one-time prekey, and verifies', () => {
    for (const b of [full, noOpk]) {
      const decoded = decodeBundle(encodeBundle(b));
      expect(decoded).toEqual(b);
      expect(() => verifyBundle(decoded, 'bob')).not.toThrow();
    }
    expect(decodeBundle(encodeBundle(noOpk)).oneTimePreKey).toBeUndefined();
  });

  test('strict: every truncation and any trailing byte fail', () => {
    const e = encodeBundle(full);
    for (let n = 0; n < e.length; n += 37) expect(() => decodeBundle(e.subarray(0, n))).toThrow(/DecodeFailed|UnsupportedVersion/);
    expect(() => decodeBundle(concatBytes(e, Uint8Array.of(0)))).toThrow(/DecodeFailed/);
  });

  test('P7 a tampered bundle version byte is refused', () => {
    const e = encodeBundle(full);
    for (const v of [0, 2, 0xff]) {
      const t = e.slice();
      t[0] = v;
      expect(() => decodeBundle(t)).toThrow(/UnsupportedVersion/);
    }
    expectFailsUnchanged('UnsupportedVersion', () => verifyBundle({ ...full, version: 2 } as unknown as PreKeyBundle, 'bob'), full);
  });

  test('P7 a bundle stripped of its KEM prekey is a PostQuantumDowngrade, on the wire and in memory', () => {
    const e = encodeBundle(noOpk);
    // Header: version, u8 len + "bob", identity (131), spk (4 + 33 + 64), opk flag; then KEM flag.
    const kemFlagAt = 1 + 1 + 3 + 131 + 4 + 33 + 64 + 1;
    expect(e[kemFlagAt]).toBe(1);
    const stripped = concatBytes(e.subarray(0, kemFlagAt), Uint8Array.of(0));
    expect(() => decodeBundle(stripped)).toThrow(/PostQuantumDowngrade/);
    const { kemPreKey: _dropped, ...rest } = full;
    const strippedObj = rest as unknown as PreKeyBundle;
    expectFailsUnchanged('PostQuantumDowngrade', () => verifyBundle(strippedObj, 'bob'), strippedObj);
    expect(() => encodeBundle(strippedObj)).toThrow(/PostQuantumDowngrade/);
  });

  test('P4 a bundle for another username is refused', () => {
    expectFailsUnchanged('InvalidMessage', () => verifyBundle(full, 'mallory'), full);
  });

  test('malformed usernames are refused on decode', () => {
    const e = encodeBundle(full);
    const t = e.slice();
    t[2] = 'B'.charCodeAt(0); // uppercase is never on the wire
    expect(() => decodeBundle(t)).toThrow(/DecodeFailed/);
  });
});
