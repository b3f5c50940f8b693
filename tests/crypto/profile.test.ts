import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import {
  MAX_PROFILE_BLOB_LEN,
  PROFILE_BUCKETS,
  PROFILE_LIMITS,
  decodeProfile,
  encodeProfile,
  generateProfileKey,
  mayWriteProfile,
  openProfile,
  profileAddress,
  profileWriteToken,
  profileWriteVerifier,
  sealProfile,
  type Profile
} from '../../src/lib/crypto/profile';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes, toHex } from '../../src/lib/codec/bytes';
import { flipBit } from '../support/pqxdh-fixtures';

const deps = seededDeps('profile');
const te = new TextEncoder();
const key = generateProfileKey(deps);
const profile: Profile = { displayName: 'Alice Liddell', about: 'down the\nrabbit hole', avatar: deps.rng(20_000) };

function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

function containsBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('P43 private profiles: what the host stores reveals nothing', () => {
  const sealed = sealProfile({ profile, profileKey: key, username: 'alice' }, deps);

  test('whoever holds the profile key and the username finds and reads the profile', () => {
    expect(sealed.address).toEqual(profileAddress(key, 'alice'));
    expect(openProfile({ blob: sealed.blob, profileKey: key, username: 'alice' })).toEqual(profile);
    const noAvatar = sealProfile({ profile: { displayName: '', about: '', avatar: null }, profileKey: key, username: 'alice' }, deps);
    expect(openProfile({ blob: noAvatar.blob, profileKey: key, username: 'alice' })).toEqual({ displayName: '', about: '', avatar: null });
  });

  test('the blob and address hold no display name, about, avatar, username or key', () => {
    for (const secret of [te.encode('Alice Liddell'), te.encode('rabbit'), profile.avatar!.subarray(0, 16), te.encode('alice'), key.subarray(0, 8)]) {
      expect(containsBytes(sealed.blob, secret)).toBe(false);
      expect(containsBytes(sealed.address, secret)).toBe(false);
    }
  });

  test('the address depends on the key and the username: a rotated key gives an unrelated address', () => {
    const rotated = generateProfileKey(deps);
    expect(profileAddress(rotated, 'alice')).not.toEqual(sealed.address);
    expect(profileAddress(key, 'bob')).not.toEqual(sealed.address);
    // The delivery token from the same key is another value (its own label).
    expect(toHex(profileAddress(key, 'alice'))).not.toBe(toHex(deliveryToken(key, 'alice')));
  });

  test('sizes come in three buckets only: text alone, a small avatar, a large one', () => {
    const size = (avatar: Uint8Array | null) => sealProfile({ profile: { ...profile, avatar }, profileKey: key, username: 'alice' }, deps).blob.length;
    const overhead = 1 + 24 + 16;
    expect(size(null)).toBe(PROFILE_BUCKETS[0] + overhead);
    expect(sealProfile({ profile: { displayName: 'x'.repeat(256), about: 'y'.repeat(512), avatar: null }, profileKey: key, username: 'alice' }, deps).blob.length).toBe(
      PROFILE_BUCKETS[0] + overhead
    );
    expect(size(new Uint8Array(1))).toBe(PROFILE_BUCKETS[0] + overhead);
    expect(size(new Uint8Array(5_000))).toBe(PROFILE_BUCKETS[1] + overhead);
    expect(size(new Uint8Array(31_000))).toBe(PROFILE_BUCKETS[1] + overhead);
    expect(size(new Uint8Array(40_000))).toBe(PROFILE_BUCKETS[2] + overhead);
    expect(size(new Uint8Array(PROFILE_LIMITS.avatar))).toBe(MAX_PROFILE_BLOB_LEN);
  });
});

describe('P43 a profile blob opens only as itself', () => {
  const sealed = sealProfile({ profile: { displayName: 'Al', about: '', avatar: null }, profileKey: key, username: 'alice' }, deps);

  test('another key, another username, or a blob from another address: InvalidMac', () => {
    expect(codeOf(() => openProfile({ blob: sealed.blob, profileKey: generateProfileKey(deps), username: 'alice' }))).toBe('InvalidMac');
    expect(codeOf(() => openProfile({ blob: sealed.blob, profileKey: key, username: 'alicf' }))).toBe('InvalidMac');
  });

  test('every bit flip fails with a typed error (version, nonce, box)', () => {
    const codes = new Set<string>();
    for (let bit = 0; bit < (1 + 24) * 8; bit++) codes.add(codeOf(() => openProfile({ blob: flipBit(sealed.blob, bit), profileKey: key, username: 'alice' })));
    expect([...codes].sort()).toEqual(['InvalidMac', 'UnsupportedVersion']);
    fc.assert(
      fc.property(fc.integer({ min: 25 * 8, max: sealed.blob.length * 8 - 1 }), (bit) => {
        expect(codeOf(() => openProfile({ blob: flipBit(sealed.blob, bit), profileKey: key, username: 'alice' }))).toBe('InvalidMac');
      }),
      { numRuns: 300, seed: 43 }
    );
  });

  test('truncated, extended and oversized blobs are DecodeFailed', () => {
    for (const n of [0, 1, 25, 26, sealed.blob.length - 1]) expect(codeOf(() => openProfile({ blob: sealed.blob.subarray(0, n), profileKey: key, username: 'alice' }))).toBe('DecodeFailed');
    expect(codeOf(() => openProfile({ blob: concatBytes(sealed.blob, Uint8Array.of(0)), profileKey: key, username: 'alice' }))).toBe('DecodeFailed');
    expect(codeOf(() => openProfile({ blob: new Uint8Array(MAX_PROFILE_BLOB_LEN + 1), profileKey: key, username: 'alice' }))).toBe('DecodeFailed');
  });
});

describe('P43 profile fields are bounded and clean', () => {
  test.each([
    ['a display name over 256 bytes', { displayName: 'é'.repeat(129) }],
    ['a display name with a newline', { displayName: 'a\nb' }],
    ['a display name with a C1 control', { displayName: 'a\u0085b' }],
    ['an about over 512 bytes', { about: 'x'.repeat(513) }],
    ['an about with a NUL', { about: 'a\u0000' }],
    ['a lone surrogate', { displayName: 'a\ud800' }],
    ['an empty avatar (use null)', { avatar: new Uint8Array(0) }],
    ['an avatar over the limit', { avatar: new Uint8Array(PROFILE_LIMITS.avatar + 1) }]
  ] as const)('%s is refused: InvalidArgument', (_w, edit) => {
    expect(codeOf(() => encodeProfile({ ...profile, ...edit }))).toBe('InvalidArgument');
  });

  test('decoding is strict: version, UTF-8, controls, bounds, trailing bytes', () => {
    const good = encodeProfile({ displayName: 'ab', about: 'c', avatar: null });
    expect(decodeProfile(good)).toEqual({ displayName: 'ab', about: 'c', avatar: null });
    const v = good.slice();
    v[0] = 2;
    expect(codeOf(() => decodeProfile(v))).toBe('UnsupportedVersion');
    const badUtf8 = good.slice();
    badUtf8[3] = 0xff;
    expect(codeOf(() => decodeProfile(badUtf8))).toBe('DecodeFailed');
    const control = good.slice();
    control[3] = 0x07;
    expect(codeOf(() => decodeProfile(control))).toBe('DecodeFailed');
    expect(codeOf(() => decodeProfile(concatBytes(good, Uint8Array.of(0))))).toBe('DecodeFailed');
    expect(codeOf(() => decodeProfile(good.subarray(0, good.length - 1)))).toBe('DecodeFailed');
  });
});

describe('P43 only the owner can write its profile blob', () => {
  const owner = generateIdentity(deps);
  const address = profileAddress(key, 'alice');
  const token = profileWriteToken(owner, address);
  const verifier = profileWriteVerifier(token);

  test('the host admits the owner token and nothing else, and stores no token', () => {
    expect(mayWriteProfile(verifier, token)).toBe(true);
    expect(mayWriteProfile(verifier, undefined)).toBe(false);
    expect(mayWriteProfile(verifier, token.subarray(1))).toBe(false);
    expect(mayWriteProfile(verifier, flipBit(token, 0))).toBe(false);
    expect(verifier).not.toEqual(token);
    // Someone holding the profile key cannot derive it: the token needs the owner's identity.
    expect(mayWriteProfile(verifier, profileWriteToken(generateIdentity(deps), address))).toBe(false);
  });

  test('each address has its own token, so a rotation leaves nothing linking old and new blobs', () => {
    const rotated = profileAddress(generateProfileKey(deps), 'alice');
    expect(profileWriteToken(owner, rotated)).not.toEqual(token);
    expect(profileWriteVerifier(profileWriteToken(owner, rotated))).not.toEqual(verifier);
  });
});
