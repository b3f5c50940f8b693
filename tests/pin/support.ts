// Test helpers for tests/pin: a cheap PIN stretcher and fixed realm sets.
import { sodium } from '../../src/lib/crypto/sodium';
import { normalizePin } from '../../src/lib/crypto/pin/normalize';
import { pinSalt, splitStretched, type PinStretcher } from '../../src/lib/crypto/pin/stretch';
import type { RealmConfig } from '../../src/lib/crypto/pin/protocol';

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
