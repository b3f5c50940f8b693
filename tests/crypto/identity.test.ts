import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import {
  IDENTITY_PUBLIC_LEN,
  decodeIdentityPublic,
  encodeIdentityPublic,
  writeIdentityPublic,
  generateIdentity,
  identityChanged,
  identityPublic,
  type IdentityPublic
} from '../../src/lib/crypto/identity';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { ByteWriter } from '../../src/lib/codec/bytes';
import { KeyType, encodeKey, writeKey } from '../../src/lib/codec/keys';
import { isProtocolError } from '../../src/lib/codec/errors';

const deps = seededDeps('identity-test');
const bob = generateIdentity(deps);
const bobPublic = identityPublic(bob);
const mallory = identityPublic(generateIdentity(deps));

/** Fresh buffers with the same bytes: equality must not rest on object identity. */
const copyOf = (id: IdentityPublic): IdentityPublic => decodeIdentityPublic(encodeIdentityPublic(id));

describe('P3 incoming identity change never silent', () => {
  test('P3 verification binds key bytes, not ids', () => {
    // Same key bytes in other buffers: unchanged.
    expect(identityChanged(bobPublic, copyOf(bobPublic))).toBe(false);
    // Other signature bytes with the same keys: the same identity (validity is verifyIdentity's job).
    expect(identityChanged(bobPublic, { ...copyOf(bobPublic), dhKeySignature: new Uint8Array(64).fill(7) })).toBe(false);
    // Any key byte differing is a change, whichever of the two keys it is in.
    expect(identityChanged(bobPublic, mallory)).toBe(true);
    expect(identityChanged(bobPublic, { ...copyOf(bobPublic), signingKey: mallory.signingKey })).toBe(true);
    expect(identityChanged(bobPublic, { ...copyOf(bobPublic), dhKey: mallory.dhKey })).toBe(true);
    for (const field of ['signingKey', 'dhKey'] as const) {
      for (const at of [0, 31]) {
        const flipped = copyOf(bobPublic);
        flipped[field][at]! ^= 0x01;
        expect(identityChanged(bobPublic, flipped), `${field}[${at}]`).toBe(true);
      }
    }
    // Mallory keeping Bob's signature but swapping in her keys is a change (the signature is not the id).
    expect(identityChanged(bobPublic, { ...mallory, dhKeySignature: bobPublic.dhKeySignature })).toBe(true);
  });

  test('P3 first contact (nothing stored) is not a change; the inputs are not mutated', () => {
    expect(identityChanged(undefined, bobPublic)).toBe(false);
    const before = encodeIdentityPublic(bobPublic);
    identityChanged(bobPublic, mallory);
    expect(encodeIdentityPublic(bobPublic)).toEqual(before);
  });

  test('a signature by the same signing key over other bytes does not make a different identity valid', () => {
    const bogus = { ...copyOf(bobPublic), dhKeySignature: ed25519Sign(bob.signing.privateKey, new Uint8Array(1)) };
    expect(identityChanged(bobPublic, bogus)).toBe(false);
    expect(() => decodeIdentityPublic(encodeIdentityPublic(bogus))).toThrow(/InvalidSignature/);
  });
});

describe('P6 the public identity encoding', () => {
  test('written into a writer after other bytes it is exactly encodeIdentityPublic, 131 bytes, and decodes back', () => {
    const enc = encodeIdentityPublic(bobPublic);
    expect(enc.length).toBe(IDENTITY_PUBLIC_LEN);
    expect(IDENTITY_PUBLIC_LEN).toBe(131);
    const w = writeIdentityPublic(new ByteWriter(1).u8(0xee), bobPublic).u8(0xdd);
    const out = w.finish();
    expect(Buffer.from(out.subarray(1, 1 + IDENTITY_PUBLIC_LEN)).equals(Buffer.from(enc))).toBe(true);
    expect([out[0], out.at(-1)]).toEqual([0xee, 0xdd]);
    expect(identityChanged(bobPublic, decodeIdentityPublic(enc))).toBe(false);
  });

  test('writeKey writes encodeKey\'s bytes and refuses a key of the wrong length as InvalidKey', () => {
    expect(Buffer.from(writeKey(new ByteWriter(), KeyType.X25519, bobPublic.dhKey).finish()).equals(Buffer.from(encodeKey(KeyType.X25519, bobPublic.dhKey)))).toBe(true);
    let code = '';
    try {
      writeKey(new ByteWriter(), KeyType.Ed25519, new Uint8Array(31));
    } catch (e) {
      code = isProtocolError(e) ? e.code : String(e);
    }
    expect(code).toBe('InvalidKey');
    expect(() => writeIdentityPublic(new ByteWriter(), { ...bobPublic, dhKeySignature: new Uint8Array(63) })).toThrow();
  });
});
