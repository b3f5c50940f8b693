/**
 * The host's account-record endpoint (DESIGN.md §7, SECURITY.md P26), shared by host and client:
 *
 *   PUT    /api/v1/account-record/<username>           bearer (the account holder) + access key + takeover key;
 *          body = sealed record. The takeover key is fixed when the record is created (P37)
 *   GET    /api/v1/account-record/<username>           access key only (a new browser has no identity yet)
 *   DELETE /api/v1/account-record/<username>           bearer + access key
 *   POST   /api/v1/account-record/<username>/takeover  JSON {login, prekeys, proof}: a restored browser proves
 *          the identity by signature AND the master secret by the takeover key's signature over
 *          the same challenge (takeover-key.ts), replaces every prekey, and signs the old browser
 *          out. Its login carries a fresh device secret; from then on a login without it (the old
 *          browser still holds the identity key) is refused with SignedOut
 *   POST   /api/v1/account-record/<username>/realm-tokens  bearer; JSON {realms: [id]} -> {tokens: [token]}:
 *          registration tokens for the pinned realms (realm-token.ts, P38)
 *
 * The access key (32 bytes, from the master secret) and the takeover public key travel in headers,
 * base64url; the host keeps only the access key's SHA-256. Bodies are sealed records
 * (account-record.ts): 1 + 24 + bucket + 16 bytes, bucket a power of two in [1 KiB, MAX_HOST_BUCKET].
 * Knows nothing of HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { TAKEOVER_PROOF_LEN } from '../crypto/pin/takeover-key';
import { REALM_ID_LEN } from '../crypto/pin/stretch';
import { decodeLoginRequest, decodePreKeyUpload, encodeLoginRequest, encodePreKeyUpload, type LoginRequest, type PreKeyUpload } from './host-api';

export const ACCOUNT_RECORD_PATH = '/api/v1/account-record/';
export const RECORD_KEY_HEADER = 'x-parley-record-key';
export const RECORD_ACCESS_KEY_LEN = 32;
/** PUT header carrying the takeover public key (Ed25519, base64url). */
export const TAKEOVER_KEY_HEADER = 'x-parley-takeover-key';
/** The most realms one token request may name (the pinned list allows 16). */
export const MAX_TOKEN_REALMS = 16;
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
  /** The takeover key's signature over the login's challenge (takeover-key.ts). */
  proof: Uint8Array;
}

export function encodeTakeoverRequest(r: TakeoverRequest): Record<string, unknown> {
  return { login: encodeLoginRequest(r.login), prekeys: encodePreKeyUpload(r.prekeys), proof: toBase64Url(r.proof) };
}

/** Strict: a fresh signed prekey and a last-resort KEM prekey are required (the old ones are gone). */
export function decodeTakeoverRequest(v: unknown): TakeoverRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', 'takeover: expected an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'login' && k !== 'prekeys' && k !== 'proof') fail('DecodeFailed', `takeover: unexpected field "${k.slice(0, 32)}"`);
  if (typeof o.proof !== 'string') fail('DecodeFailed', 'takeover: a proof of the master secret is required');
  const proof = fromBase64Url(o.proof, TAKEOVER_PROOF_LEN);
  if (proof.length !== TAKEOVER_PROOF_LEN) fail('DecodeFailed', `takeover: proof of ${proof.length} bytes, need ${TAKEOVER_PROOF_LEN}`);
  const login = decodeLoginRequest(o.login);
  if (!login.device) fail('DecodeFailed', 'takeover: a device secret is required');
  const prekeys = decodePreKeyUpload(o.prekeys);
  if (!prekeys.signedPreKey) fail('DecodeFailed', 'takeover: a fresh signed prekey is required');
  if (prekeys.kemPreKeys.filter((k) => k.lastResort).length !== 1) fail('DecodeFailed', 'takeover: exactly one last-resort KEM prekey is required');
  return { login, prekeys, proof };
}

export function encodeRealmTokenRequest(realmIds: readonly Uint8Array[]): Record<string, unknown> {
  return { realms: realmIds.map((id) => toBase64Url(id)) };
}

/** Strict: 1..MAX_TOKEN_REALMS distinct 16-byte realm ids. */
export function decodeRealmTokenRequest(v: unknown): Uint8Array[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', 'realm tokens: expected an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'realms') fail('DecodeFailed', `realm tokens: unexpected field "${k.slice(0, 32)}"`);
  if (!Array.isArray(o.realms) || o.realms.length < 1 || o.realms.length > MAX_TOKEN_REALMS) fail('DecodeFailed', `realm tokens: 1..${MAX_TOKEN_REALMS} realm ids`);
  const ids = o.realms.map((x: unknown) => {
    if (typeof x !== 'string') fail('DecodeFailed', 'realm tokens: a realm id is not a string');
    const id = fromBase64Url(x, REALM_ID_LEN);
    if (id.length !== REALM_ID_LEN) fail('DecodeFailed', `realm tokens: realm id of ${id.length} bytes`);
    return id;
  });
  if (new Set(ids.map((id) => toBase64Url(id))).size !== ids.length) fail('DecodeFailed', 'realm tokens: duplicate realm id');
  return ids;
}

export function encodeRealmTokenResponse(tokens: readonly Uint8Array[]): Record<string, unknown> {
  return { tokens: tokens.map((t) => toBase64Url(t)) };
}

export function decodeRealmTokenResponse(v: unknown, count: number, tokenLen: number): Uint8Array[] {
  const list = (v as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list) || list.length !== count) fail('DecodeFailed', `realm tokens: expected ${count}`);
  return list.map((x: unknown) => {
    if (typeof x !== 'string') fail('DecodeFailed', 'realm tokens: a token is not a string');
    const t = fromBase64Url(x, tokenLen);
    if (t.length !== tokenLen) fail('DecodeFailed', `realm token of ${t.length} bytes`);
    return t;
  });
}
