// Test fixtures for PQXDH and sessions: users with prekeys, bundles, an in-memory prekey store,
// and a helper that asserts a failing call threw the expected code and mutated none of its inputs.
import { expect } from 'vitest';
import type { Deps } from '../../src/lib/crypto/deps';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic,
  type KemPreKey,
  type OneTimePreKey,
  type SignedPreKey
} from '../../src/lib/crypto/prekeys';
import type { ConsumedPreKeys, PreKeyLookup } from '../../src/lib/crypto/pqxdh';
import type { PreKeyBundle } from '../../src/lib/crypto/bundle';

export interface TestUser {
  username: string;
  identity: IdentityKeyPair;
  signedPreKey: SignedPreKey;
  oneTimePreKeys: Map<number, OneTimePreKey>;
  kemPreKeys: Map<number, KemPreKey>;
}

/** A user with signed prekey 1, one-time prekeys 100..102, KEM one-time 200 and last-resort 999. */
export function makeUser(username: string, deps: Deps): TestUser {
  const identity = generateIdentity(deps);
  const signedPreKey = generateSignedPreKey(identity, 1, deps);
  const oneTimePreKeys = new Map(generateOneTimePreKeys(100, 3, deps).map((k) => [k.id, k]));
  const kemOneTime = generateKemPreKey(identity, 200, false, deps);
  const kemLastResort = generateKemPreKey(identity, 999, true, deps);
  const kemPreKeys = new Map([
    [kemOneTime.id, kemOneTime],
    [kemLastResort.id, kemLastResort]
  ]);
  return { username, identity, signedPreKey, oneTimePreKeys, kemPreKeys };
}

export function bundleOf(user: TestUser, opts: { oneTimeId?: number | null; kemId?: number } = {}): PreKeyBundle {
  const oneTimeId = opts.oneTimeId === undefined ? 100 : opts.oneTimeId;
  const kem = user.kemPreKeys.get(opts.kemId ?? 200);
  if (!kem) throw new Error('fixture: no such KEM prekey');
  const bundle: PreKeyBundle = {
    version: 1,
    username: user.username,
    identity: identityPublic(user.identity),
    signedPreKey: signedPreKeyPublic(user.signedPreKey),
    kemPreKey: kemPreKeyPublic(kem)
  };
  if (oneTimeId !== null) {
    const opk = user.oneTimePreKeys.get(oneTimeId);
    if (!opk) throw new Error('fixture: no such one-time prekey');
    bundle.oneTimePreKey = oneTimePreKeyPublic(opk);
  }
  return bundle;
}

export function lookupOf(user: TestUser): PreKeyLookup {
  return {
    signedPreKey: (id) => (id === user.signedPreKey.id ? user.signedPreKey : undefined),
    oneTimePreKey: (id) => user.oneTimePreKeys.get(id),
    kemPreKey: (id) => user.kemPreKeys.get(id)
  };
}

/** What the store does after committing a session: delete consumed one-time keys. */
export function consume(user: TestUser, consumed: ConsumedPreKeys): void {
  if (consumed.oneTimePreKeyId !== undefined) user.oneTimePreKeys.delete(consumed.oneTimePreKeyId);
  if (!consumed.kemLastResort) user.kemPreKeys.delete(consumed.kemPreKeyId);
}

/** Asserts `fn` throws a ProtocolError with `code`, returns nothing, and leaves `inputs` deep-equal. */
export function expectFailsUnchanged(code: ProtocolErrorCode, fn: () => unknown, ...inputs: unknown[]): void {
  const before = inputs.map((x) => structuredClone(x));
  let result: unknown;
  let error: unknown;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  expect(result).toBeUndefined();
  expect(isProtocolError(error), `expected ProtocolError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  inputs.forEach((x, i) => expect(x).toEqual(before[i]));
}

/** Flips bit `bit` of a copy of `b`. */
export function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
}
