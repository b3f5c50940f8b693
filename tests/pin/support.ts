// Test helpers for tests/pin: a cheap PIN stretcher and fixed realm sets.
import { sodium } from '../../src/lib/crypto/sodium';
import { normalizePin } from '../../src/lib/crypto/pin/normalize';
import { pinSalt, splitStretched, type PinStretcher } from '../../src/lib/crypto/pin/stretch';
import type { RealmConfig } from '../../src/lib/crypto/pin/protocol';
import { realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { issueRealmToken } from '../../src/lib/crypto/pin/realm-token';

/**
 * Same salt, normalisation and output split as `stretchPin`, but Argon2id at libsodium's minimum
 * cost, so protocol tests run in milliseconds. Only the few tests that name the pinned parameters
 * use the real stretcher.
 */
export const fastStretch: PinStretcher = (pin, username, setId) => {
  const s = sodium();
  const out = s.crypto_pwhash(64, new TextEncoder().encode(normalizePin(pin)), pinSalt(username, setId), 1, 8192, s.crypto_pwhash_ALG_ARGON2ID13);
  return splitStretched(out);
};

export function realms(n: number): RealmConfig[] {
  return Array.from({ length: n }, (_, i) => ({ id: new Uint8Array(16).fill(0xa0 + i) }));
}

/** A registration-token issuer for realms under test (the app host plays this role in production, P38). */
export const TEST_ISSUER = (() => {
  const kp = sodium().crypto_sign_seed_keypair(new Uint8Array(32).fill(0x15));
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
})();

/** Tokens for a first registration of `username` on each realm; they expire in 2106. */
export function testTokens(username: string, endpoints: readonly { id: Uint8Array }[], expiresAt = 0xfffffff0): Uint8Array[] {
  const userId = realmUserId(username);
  return endpoints.map((e) => issueRealmToken(TEST_ISSUER.privateKey, { realmId: e.id, userId, expiresAt }));
}

/** A realm clock that jumps 13 hours at every reading: past any guess delay (P38), for tests of P23 alone. */
export function leapingClock(start = Date.now()): () => number {
  let t = start;
  return () => (t += 13 * 60 * 60 * 1000);
}
