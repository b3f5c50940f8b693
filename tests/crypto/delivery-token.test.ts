import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import {
  DELIVERY_TOKEN_LEN,
  SEALED_ACCESS_LEN,
  decodeSealedAccess,
  deliveryToken,
  deliveryVerifier,
  encodeSealedAccess,
  mayDeliverSealed,
  sealedAccessFor
} from '../../src/lib/crypto/delivery-token';
import { generateProfileKey, profileAddress } from '../../src/lib/crypto/profile';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { flipBit } from '../support/pqxdh-fixtures';

const deps = seededDeps('delivery-token');
const key = generateProfileKey(deps);

function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

describe('P41 a sealed send without the recipient delivery token is refused', () => {
  const access = sealedAccessFor(key, 'bob', false);
  const token = deliveryToken(key, 'bob');

  test('someone bob gave his profile key to derives the token and the host admits it', () => {
    expect(token.length).toBe(DELIVERY_TOKEN_LEN);
    expect(mayDeliverSealed(access, deliveryToken(key.slice(), 'bob'))).toBe(true);
  });

  test('no token, a wrong token, a token for another username or of another length: refused', () => {
    expect(mayDeliverSealed(access, undefined)).toBe(false);
    expect(mayDeliverSealed(access, deps.rng(32))).toBe(false);
    expect(mayDeliverSealed(access, flipBit(token, 255))).toBe(false);
    expect(mayDeliverSealed(access, deliveryToken(key, 'bobby'))).toBe(false);
    expect(mayDeliverSealed(access, token.subarray(0, 16))).toBe(false);
    expect(mayDeliverSealed(access, concatBytes(token, Uint8Array.of(0)))).toBe(false);
  });

  test('P43 blocking rotates the profile key: the old token stops working, the new one works', () => {
    const rotated = generateProfileKey(deps);
    const after = sealedAccessFor(rotated, 'bob', false);
    expect(mayDeliverSealed(after, token)).toBe(false);
    expect(mayDeliverSealed(after, deliveryToken(rotated, 'bob'))).toBe(true);
  });

  test('the host stores only a verifier: neither the token nor the profile key, nor the profile address', () => {
    const stored = encodeSealedAccess(access);
    expect(stored.length).toBe(SEALED_ACCESS_LEN);
    const hex = Buffer.from(stored).toString('hex');
    for (const secret of [token, key, profileAddress(key, 'bob')]) expect(hex.includes(Buffer.from(secret.subarray(0, 8)).toString('hex'))).toBe(false);
    // A dump of the host's table is no delivery token: presenting the verifier itself fails.
    expect(mayDeliverSealed(access, access.verifier)).toBe(false);
    expect(access.verifier).toEqual(deliveryVerifier(token));
  });

  test('"sealed from anyone" admits any token or none, and is bob\'s choice', () => {
    const open = sealedAccessFor(key, 'bob', true);
    expect(mayDeliverSealed(open, undefined)).toBe(true);
    expect(mayDeliverSealed(open, deps.rng(32))).toBe(true);
    expect(mayDeliverSealed(open, token)).toBe(true);
  });

  test('the stored access round-trips and decodes strictly', () => {
    for (const a of [access, sealedAccessFor(key, 'bob', true)]) expect(decodeSealedAccess(encodeSealedAccess(a))).toEqual(a);
    const bytes = encodeSealedAccess(access);
    const v = bytes.slice();
    v[0] = 2;
    expect(codeOf(() => decodeSealedAccess(v))).toBe('UnsupportedVersion');
    const flags = bytes.slice();
    flags[1] = 2;
    expect(codeOf(() => decodeSealedAccess(flags))).toBe('DecodeFailed');
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeSealedAccess(bytes.subarray(0, n)))).toBe('DecodeFailed');
    expect(codeOf(() => decodeSealedAccess(concatBytes(bytes, Uint8Array.of(0))))).toBe('DecodeFailed');
  });

  test('bad inputs are typed errors: a short profile key, a non-canonical username, a short token', () => {
    expect(codeOf(() => deliveryToken(key.subarray(1), 'bob'))).toBe('InvalidArgument');
    expect(codeOf(() => deliveryToken(key, 'Bob'))).toBe('InvalidArgument');
    expect(codeOf(() => deliveryVerifier(token.subarray(1)))).toBe('InvalidArgument');
  });
});
