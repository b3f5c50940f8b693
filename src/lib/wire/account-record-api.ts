/**
 * The host's account-record endpoint (DESIGN.md §7, SECURITY.md P26), shared by host and client:
 *
 *   PUT    /api/v1/account-record/<username>           bearer (the account holder) + access key; body = sealed record
 *   GET    /api/v1/account-record/<username>           access key only (a new browser has no identity yet)
 *   DELETE /api/v1/account-record/<username>           bearer + access key
 *   POST   /api/v1/account-record/<username>/takeover  JSON {login, prekeys}: a restored browser proves the
 *          identity by signature, replaces every prekey, and signs the old browser out. Its login
 *          carries a fresh device secret; from then on a login without it (the old browser still
 *          holds the identity key) is refused with SignedOut
 *
 * The access key (32 bytes, from the master secret) travels in a header, base64url; the host keeps
 * only its SHA-256. Bodies are sealed records (account-record.ts): 1 + 24 + bucket + 16 bytes,
 * bucket a power of two in [1 KiB, MAX_HOST_BUCKET]. Knows nothing of HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { decodeLoginRequest, decodePreKeyUpload, encodeLoginRequest, encodePreKeyUpload, type LoginRequest, type PreKeyUpload } from './host-api';

export const ACCOUNT_RECORD_PATH = '/api/v1/account-record/';
export const RECORD_KEY_HEADER = 'x-parley-record-key';
export const RECORD_ACCESS_KEY_LEN = 32;
/** The host stores records up to a 2 MiB bucket (about 10 000 contacts). */
export const MAX_HOST_BUCKET = 2 * 1024 * 1024;
const OVERHEAD = 1 + 24 + 16;
export const MAX_SEALED_RECORD_BYTES = OVERHEAD + MAX_HOST_BUCKET;
/** WebSocket close code the host uses when another browser took the account over. */
export const SIGNED_OUT_CLOSE_CODE = 4409;

/** True if n is the length of a sealed record in an allowed bucket (P26: only bucket sizes exist). */
export function isSealedRecordLength(n: number): boolean {
  const bucket = n - OVERHEAD;
  return bucket >= 1024 && bucket <= MAX_HOST_BUCKET && (bucket & (bucket - 1)) === 0;
}

export interface TakeoverRequest {
  login: LoginRequest;
  prekeys: PreKeyUpload;
}

export function encodeTakeoverRequest(r: TakeoverRequest): Record<string, unknown> {
  return { login: encodeLoginRequest(r.login), prekeys: encodePreKeyUpload(r.prekeys) };
}

/** Strict: a fresh signed prekey and a last-resort KEM prekey are required (the old ones are gone). */
export function decodeTakeoverRequest(v: unknown): TakeoverRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', 'takeover: expected an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'login' && k !== 'prekeys') fail('DecodeFailed', `takeover: unexpected field "${k.slice(0, 32)}"`);
  const login = decodeLoginRequest(o.login);
  if (!login.device) fail('DecodeFailed', 'takeover: a device secret is required');
  const prekeys = decodePreKeyUpload(o.prekeys);
  if (!prekeys.signedPreKey) fail('DecodeFailed', 'takeover: a fresh signed prekey is required');
  if (prekeys.kemPreKeys.filter((k) => k.lastResort).length !== 1) fail('DecodeFailed', 'takeover: exactly one last-resort KEM prekey is required');
  return { login, prekeys };
}
