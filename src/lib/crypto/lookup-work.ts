/**
 * Proof of work for an anonymous lookup past the per-address limit (README "Design: private
 * discovery", P40/P49). Lookups carry no account, so the host can only count them per client
 * address; behind a carrier-grade NAT thousands of people share one, and the 31st lookup of the
 * minute would refuse them all. Past the limit the host answers 429 with a challenge (difficulty
 * `bits` and its current minute `slot`); a client that spends the work retries once with a proof
 * that admits exactly that lookup:
 *
 *   digest = BLAKE2b-256(L || hash (32) || slot (u64 BE) || nonce (8))
 *   valid  <=> digest starts with `bits` zero bits
 *
 * bound to the lookup hash (no proof serves another name) and to the minute (the host takes the
 * current and the previous one, and each proof once). At 20 bits that is about a million
 * BLAKE2b calls (~0.5–1 s of one core in wasm) per lookup, which a person waits out once and an
 * enumerator pays per guess on top of the 16 MiB Argon2id of the name itself; checking costs the
 * host one call. Pure: no clock (the slot is the host's), no storage.
 */
import { fail } from '../codec/errors';
import { USERNAME_HASH_LEN } from './username-hash';
import { Labels, labelBytes } from './labels';
import { sodium } from './sodium';

export const LOOKUP_WORK_NONCE_LEN = 8;
/** One slot per minute of the host's clock. */
export const LOOKUP_WORK_SLOT_MS = 60_000;
/** A client refuses a harder challenge than this (a host must not make it burn minutes of CPU). */
export const MAX_LOOKUP_WORK_BITS = 22;

export function lookupWorkSlot(nowMs: number): number {
  return Math.floor(nowMs / LOOKUP_WORK_SLOT_MS);
}

/** The input with room for the nonce at its end; `nonceAt` is where it goes. */
function workInput(hash: Uint8Array, slot: number): { input: Uint8Array; nonceAt: number } {
  if (hash.length !== USERNAME_HASH_LEN) fail('InvalidArgument', `lookup hash of ${hash.length} bytes`);
  if (!Number.isSafeInteger(slot) || slot < 0) fail('InvalidArgument', `work slot ${slot}`);
  const label = labelBytes(Labels.lookupWork);
  const input = new Uint8Array(label.length + USERNAME_HASH_LEN + 8 + LOOKUP_WORK_NONCE_LEN);
  input.set(label, 0);
  input.set(hash, label.length);
  new DataView(input.buffer).setBigUint64(label.length + USERNAME_HASH_LEN, BigInt(slot));
  return { input, nonceAt: input.length - LOOKUP_WORK_NONCE_LEN };
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) fail('InvalidArgument', `work of ${bits} bits`);
}

/** True if `digest` starts with `bits` zero bits. */
export function hasLeadingZeroBits(digest: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false;
  const rest = bits & 7;
  return rest === 0 || digest[whole]! >>> (8 - rest) === 0;
}

export function checkLookupWork(hash: Uint8Array, slot: number, nonce: Uint8Array, bits: number): boolean {
  checkBits(bits);
  if (nonce.length !== LOOKUP_WORK_NONCE_LEN) return false;
  const { input, nonceAt } = workInput(hash, slot);
  input.set(nonce, nonceAt);
  return hasLeadingZeroBits(sodium().crypto_generichash(32, input, null), bits);
}

/**
 * Tries `tries` nonces from `start` (a counter in the nonce's last 4 bytes, `first` in its first
 * 4, so callers can give each run its own range). Returns the first that works, or undefined, so
 * a caller can run the search in slices and let other work through between them.
 */
export function searchLookupWork(hash: Uint8Array, slot: number, bits: number, first: number, start: number, tries: number): Uint8Array | undefined {
  checkBits(bits);
  const s = sodium();
  const { input, nonceAt } = workInput(hash, slot);
  const view = new DataView(input.buffer);
  view.setUint32(nonceAt, first >>> 0);
  for (let i = 0; i < tries; i++) {
    view.setUint32(nonceAt + 4, (start + i) >>> 0);
    if (hasLeadingZeroBits(s.crypto_generichash(32, input, null), bits)) return input.slice(nonceAt);
  }
  return undefined;
}
