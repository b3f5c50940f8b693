/**
 * The anonymous lookup API (README "Design: private discovery"): `GET /api/v1/discovery/<hash>`,
 * the username lookup hash (src/lib/crypto/username-hash.ts) in canonical base64url, answers
 * `{ "exists": false }` or `{ "exists": true, "identity": "<base64url>" }` (the account's encoded
 * public identity, src/lib/crypto/identity.ts), and nothing else: no bundle, no prekey spent, no
 * near matches. No account, no bearer token. An entry the host has not yet filled answers
 * `{ "exists": true }` alone.
 *
 * Past the per-address limit the 429 carries a work challenge (src/lib/crypto/lookup-work.ts),
 * `X-Parley-Work-Challenge: <bits> <slot>`, and a retry with `X-Parley-Work: <slot>.<nonce>`
 * (nonce in base64url) is admitted once. Knows nothing of HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { USERNAME_HASH_LEN } from '../crypto/username-hash';
import { LOOKUP_WORK_NONCE_LEN } from '../crypto/lookup-work';

export const DISCOVERY_PATH = '/api/v1/discovery/';
/** Bound on an answered identity (the encoding is 131 bytes; room for a later version). */
const MAX_IDENTITY_BYTES = 512;

export const WORK_CHALLENGE_HEADER = 'X-Parley-Work-Challenge';
export const WORK_PROOF_HEADER = 'X-Parley-Work';

export interface WorkChallenge {
  bits: number;
  slot: number;
}

export interface WorkProof {
  slot: number;
  nonce: Uint8Array;
}

const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

export function encodeWorkChallenge(c: WorkChallenge): string {
  return `${c.bits} ${c.slot}`;
}

/** Strict: two decimals, bits at most 32. */
export function parseWorkChallenge(text: string): WorkChallenge {
  const [bits, slot, extra] = text.split(' ');
  if (extra !== undefined || !bits || !slot || !DECIMAL.test(bits) || !DECIMAL.test(slot) || Number(bits) > 32) fail('DecodeFailed', 'work challenge');
  return { bits: Number(bits), slot: Number(slot) };
}

export function encodeWorkProof(p: WorkProof): string {
  return `${p.slot}.${toBase64Url(p.nonce)}`;
}

export function parseWorkProof(text: string): WorkProof {
  const [slot, nonce, extra] = text.split('.');
  if (extra !== undefined || !slot || !nonce || !DECIMAL.test(slot)) fail('DecodeFailed', 'work proof');
  const n = fromBase64Url(nonce, LOOKUP_WORK_NONCE_LEN);
  if (n.length !== LOOKUP_WORK_NONCE_LEN) fail('DecodeFailed', 'work proof nonce');
  return { slot: Number(slot), nonce: n };
}

export type LookupAnswer = { exists: false } | { exists: true; identity?: Uint8Array };

export function lookupHashText(hash: Uint8Array): string {
  if (hash.length !== USERNAME_HASH_LEN) fail('InvalidArgument', `lookup hash of ${hash.length} bytes`);
  return toBase64Url(hash);
}

export function parseLookupHash(text: string): Uint8Array {
  const h = fromBase64Url(text, USERNAME_HASH_LEN);
  if (h.length !== USERNAME_HASH_LEN) fail('DecodeFailed', `lookup hash of ${h.length} bytes, expected ${USERNAME_HASH_LEN}`);
  return h;
}

export function encodeLookupAnswer(a: LookupAnswer): Record<string, unknown> {
  if (!a.exists) return { exists: false };
  return a.identity ? { exists: true, identity: toBase64Url(a.identity) } : { exists: true };
}

/** Strict: exactly these keys, an identity only beside `exists: true`. */
export function decodeLookupAnswer(v: unknown): LookupAnswer {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', 'lookup answer');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join();
  if (keys === 'exists' && typeof o.exists === 'boolean') return o.exists ? { exists: true } : { exists: false };
  if (keys === 'exists,identity' && o.exists === true && typeof o.identity === 'string') {
    const identity = fromBase64Url(o.identity, MAX_IDENTITY_BYTES);
    if (identity.length === 0) fail('DecodeFailed', 'lookup answer: empty identity');
    return { exists: true, identity };
  }
  return fail('DecodeFailed', 'lookup answer');
}
