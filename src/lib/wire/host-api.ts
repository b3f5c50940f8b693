/**
 * The host's HTTP API (DESIGN.md §4, §5): routes, limits, JSON request/response shapes and their
 * strict codecs, shared by the browser client and the host. Binary fields travel as unpadded
 * base64url; every decoder checks the exact key set, integer ranges and exact byte lengths, and
 * throws ProtocolError(DecodeFailed) on anything else. Decoders check shape only: signature and
 * identity checks that need the account happen in the host. The WebSocket frames are in
 * host-frames.ts. Knows nothing of HTTP servers, sockets or storage.
 */
import { ProtocolError, fail } from '../codec/errors';
import { decodeIdentityPublic, encodeIdentityPublic, type IdentityPublic } from '../crypto/identity';
import { Labels, labelBytes } from '../crypto/labels';
import { MAX_PREKEY_ID, type KemPreKeyPublic, type OneTimePreKeyPublic, type SignedPreKeyPublic } from '../crypto/prekeys';
import { MLKEM_PUBLIC_LEN, SIGNATURE_LEN, X25519_LEN } from '../crypto/primitives';
import { concatBytes } from '../codec/bytes';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { isUsername } from '../codec/username';

export const API = {
  health: '/healthz',
  /** GET /api/v1/usernames/<name> -> UsernameStatus (name canonicalised by the host). */
  usernames: '/api/v1/usernames/',
  /** GET -> ChallengeResponse. */
  challenge: '/api/v1/auth/challenge',
  /** POST LoginRequest -> TokenResponse. */
  login: '/api/v1/auth/login',
  /** POST RegisterRequest -> TokenResponse (409 UsernameTaken). */
  accounts: '/api/v1/accounts',
  /** GET /api/v1/bundles/<name> (bearer) -> BundleResponse. */
  bundles: '/api/v1/bundles/',
  /** GET (bearer) -> PreKeyCounts; POST PreKeyUploadRequest (bearer) -> PreKeyCounts. */
  prekeys: '/api/v1/prekeys',
  /** POST /api/v1/messages/<recipient> (bearer, binary body) -> StoredResponse. */
  messages: '/api/v1/messages/',
  /** POST AckRequest (bearer) -> AckResponse. */
  acks: '/api/v1/acks',
  /** WebSocket; the first frame must be Auth (host-frames.ts). */
  ws: '/api/v1/ws'
} as const;

/** Limits both sides agree on; the host enforces them with 4xx answers. */
export const HostLimits = {
  challengeLen: 32,
  tokenLen: 32,
  /** One envelope: a 256 KiB padded message plus the PQXDH prekey-message overhead. */
  maxEnvelopeBytes: 256 * 1024 + 4096,
  maxOneTimePerUpload: 200,
  maxKemPerUpload: 100,
  maxAcksPerRequest: 1024,
  /** Largest JSON body the host reads (a full KEM upload is ~170 KiB of base64). */
  maxJsonBytes: 512 * 1024
} as const;

/** Error codes in `{error:{code,message}}` answers; the HTTP status is a hint, the code is the answer. */
export const HostErrorCode = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  /** The account was restored on another browser (DESIGN.md §7); this device's logins are refused. */
  SignedOut: 'SignedOut',
  NoSuchUser: 'NoSuchUser',
  UsernameTaken: 'UsernameTaken',
  NotFound: 'NotFound',
  RateLimited: 'RateLimited',
  TooLarge: 'TooLarge',
  QuotaExceeded: 'QuotaExceeded',
  Unavailable: 'Unavailable',
  Internal: 'Internal'
} as const;
export type HostErrorCode = (typeof HostErrorCode)[keyof typeof HostErrorCode];

export interface HostErrorBody {
  error: { code: HostErrorCode; message: string };
}

/** What the client signs with its identity key to prove it holds it: label || challenge || username. */
export function hostAuthMessage(challenge: Uint8Array, username: string): Uint8Array {
  if (challenge.length !== HostLimits.challengeLen) fail('InvalidArgument', `challenge of ${challenge.length} bytes`);
  if (!isUsername(username)) fail('InvalidArgument', 'username is not canonical');
  return concatBytes(labelBytes(Labels.hostAuth), challenge, new TextEncoder().encode(username));
}

// ---- shapes ----

export interface UsernameStatus { username: string; available: boolean }
export interface ChallengeResponse { challenge: Uint8Array; expiresAt: number }
export interface LoginRequest {
  username: string;
  challenge: Uint8Array;
  signature: Uint8Array;
  /** DESIGN.md §7: the device secret a restored browser registered at takeover (32 bytes). */
  device?: Uint8Array;
}
export const DEVICE_SECRET_LEN = 32;
export interface TokenResponse { token: Uint8Array; expiresAt: number }
export interface PreKeyUpload {
  signedPreKey?: SignedPreKeyPublic;
  oneTimePreKeys: OneTimePreKeyPublic[];
  kemPreKeys: KemPreKeyPublic[];
}
export interface RegisterRequest extends LoginRequest, PreKeyUpload {
  identity: IdentityPublic;
  signedPreKey: SignedPreKeyPublic;
}
export interface PreKeyCounts { oneTime: number; kem: number }
export interface StoredResponse { serverId: number; receivedAt: number }
export interface AckRequest { ids: number[] }
export interface AckResponse { acked: number }

// ---- strict JSON helpers ----

type Json = Record<string, unknown>;

function bad(what: string): never {
  return fail('DecodeFailed', what);
}

function obj(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what}: expected an object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) bad(`${what}: unexpected field "${k.slice(0, 32)}"`);
  for (const k of required) if (!(k in o)) bad(`${what}: missing field "${k}"`);
  return o;
}

function int(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) bad(`${what}: expected an integer 0..${max}`);
  return v;
}

function b64(v: unknown, what: string, len: number): Uint8Array {
  if (typeof v !== 'string') bad(`${what}: expected base64url`);
  const b = fromBase64Url(v, len);
  if (b.length !== len) bad(`${what}: expected ${len} bytes, got ${b.length}`);
  return b;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(`${what}: expected a boolean`);
  return v;
}

function name(v: unknown, what: string): string {
  if (!isUsername(v)) bad(`${what}: not a canonical username`);
  return v;
}

function list<T>(v: unknown, what: string, max: number, item: (x: unknown, w: string) => T): T[] {
  if (!Array.isArray(v)) bad(`${what}: expected an array`);
  if (v.length > max) bad(`${what}: ${v.length} items exceed ${max}`);
  return v.map((x, i) => item(x, `${what}[${i}]`));
}

// ---- prekeys ----

function signedPreKeyToJson(k: SignedPreKeyPublic): Json {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), signature: toBase64Url(k.signature) };
}
function signedPreKeyFromJson(v: unknown, w: string): SignedPreKeyPublic {
  const o = obj(v, w, ['id', 'publicKey', 'signature']);
  return { id: int(o.id, `${w}.id`, MAX_PREKEY_ID), publicKey: b64(o.publicKey, `${w}.publicKey`, X25519_LEN), signature: b64(o.signature, `${w}.signature`, SIGNATURE_LEN) };
}
function oneTimeToJson(k: OneTimePreKeyPublic): Json {
  return { id: k.id, publicKey: toBase64Url(k.publicKey) };
}
function oneTimeFromJson(v: unknown, w: string): OneTimePreKeyPublic {
  const o = obj(v, w, ['id', 'publicKey']);
  return { id: int(o.id, `${w}.id`, MAX_PREKEY_ID), publicKey: b64(o.publicKey, `${w}.publicKey`, X25519_LEN) };
}
function kemToJson(k: KemPreKeyPublic): Json {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), lastResort: k.lastResort, signature: toBase64Url(k.signature) };
}
function kemFromJson(v: unknown, w: string): KemPreKeyPublic {
  const o = obj(v, w, ['id', 'publicKey', 'lastResort', 'signature']);
  return {
    id: int(o.id, `${w}.id`, MAX_PREKEY_ID),
    publicKey: b64(o.publicKey, `${w}.publicKey`, MLKEM_PUBLIC_LEN),
    lastResort: bool(o.lastResort, `${w}.lastResort`),
    signature: b64(o.signature, `${w}.signature`, SIGNATURE_LEN)
  };
}

function uploadFields(o: Json, w: string): PreKeyUpload {
  const out: PreKeyUpload = {
    oneTimePreKeys: list(o.oneTimePreKeys, `${w}.oneTimePreKeys`, HostLimits.maxOneTimePerUpload, oneTimeFromJson),
    kemPreKeys: list(o.kemPreKeys, `${w}.kemPreKeys`, HostLimits.maxKemPerUpload, kemFromJson)
  };
  if (o.signedPreKey !== undefined) out.signedPreKey = signedPreKeyFromJson(o.signedPreKey, `${w}.signedPreKey`);
  return out;
}

function uploadToJson(u: PreKeyUpload): Json {
  const out: Json = { oneTimePreKeys: u.oneTimePreKeys.map(oneTimeToJson), kemPreKeys: u.kemPreKeys.map(kemToJson) };
  if (u.signedPreKey) out.signedPreKey = signedPreKeyToJson(u.signedPreKey);
  return out;
}

// ---- requests (client encodes, host decodes) ----

export function encodeLoginRequest(r: LoginRequest): Json {
  const out: Json = { username: r.username, challenge: toBase64Url(r.challenge), signature: toBase64Url(r.signature) };
  if (r.device) out.device = toBase64Url(r.device);
  return out;
}
export function decodeLoginRequest(v: unknown): LoginRequest {
  const o = obj(v, 'login', ['username', 'challenge', 'signature'], ['device']);
  const r: LoginRequest = { username: name(o.username, 'login.username'), challenge: b64(o.challenge, 'login.challenge', HostLimits.challengeLen), signature: b64(o.signature, 'login.signature', SIGNATURE_LEN) };
  if (o.device !== undefined) r.device = b64(o.device, 'login.device', DEVICE_SECRET_LEN);
  return r;
}

export function encodeRegisterRequest(r: RegisterRequest): Json {
  return { ...encodeLoginRequest(r), identity: toBase64Url(encodeIdentityPublic(r.identity)), ...uploadToJson(r) };
}
/** Strict decode; the identity's own signature is verified here, prekey signatures by the host. */
export function decodeRegisterRequest(v: unknown): RegisterRequest {
  const o = obj(v, 'register', ['username', 'challenge', 'signature', 'identity', 'signedPreKey', 'oneTimePreKeys', 'kemPreKeys']);
  const login = decodeLoginRequest({ username: o.username, challenge: o.challenge, signature: o.signature });
  if (typeof o.identity !== 'string') bad('register.identity: expected base64url');
  let identity: IdentityPublic;
  try {
    identity = decodeIdentityPublic(fromBase64Url(o.identity, 256));
  } catch (e) {
    throw e instanceof ProtocolError ? e : new ProtocolError('DecodeFailed', 'register.identity malformed');
  }
  const upload = uploadFields(o, 'register');
  return { ...login, ...upload, identity, signedPreKey: upload.signedPreKey! };
}

export function encodePreKeyUpload(u: PreKeyUpload): Json {
  return uploadToJson(u);
}
export function decodePreKeyUpload(v: unknown): PreKeyUpload {
  return uploadFields(obj(v, 'prekeys', ['oneTimePreKeys', 'kemPreKeys'], ['signedPreKey']), 'prekeys');
}

export function decodeAckRequest(v: unknown): AckRequest {
  const o = obj(v, 'ack', ['ids']);
  return { ids: list(o.ids, 'ack.ids', HostLimits.maxAcksPerRequest, (x, w) => int(x, w, Number.MAX_SAFE_INTEGER)) };
}

// ---- responses (host encodes, client decodes) ----

export function encodeChallengeResponse(r: ChallengeResponse): Json {
  return { challenge: toBase64Url(r.challenge), expiresAt: r.expiresAt };
}
export function decodeChallengeResponse(v: unknown): ChallengeResponse {
  const o = obj(v, 'challenge', ['challenge', 'expiresAt']);
  return { challenge: b64(o.challenge, 'challenge', HostLimits.challengeLen), expiresAt: int(o.expiresAt, 'expiresAt', Number.MAX_SAFE_INTEGER) };
}
export function encodeTokenResponse(r: TokenResponse): Json {
  return { token: toBase64Url(r.token), expiresAt: r.expiresAt };
}
export function decodeTokenResponse(v: unknown): TokenResponse {
  const o = obj(v, 'token', ['token', 'expiresAt']);
  return { token: b64(o.token, 'token', HostLimits.tokenLen), expiresAt: int(o.expiresAt, 'expiresAt', Number.MAX_SAFE_INTEGER) };
}
export function decodeUsernameStatus(v: unknown): UsernameStatus {
  const o = obj(v, 'username status', ['username', 'available']);
  return { username: name(o.username, 'username'), available: bool(o.available, 'available') };
}
/** The bundle itself is the binary PreKeyBundle (bundle.ts), base64url in `{bundle}`. */
export function decodeBundleResponse(v: unknown): Uint8Array {
  const o = obj(v, 'bundle response', ['bundle']);
  if (typeof o.bundle !== 'string') bad('bundle: expected base64url');
  return fromBase64Url(o.bundle, 8192);
}
export function decodePreKeyCounts(v: unknown): PreKeyCounts {
  const o = obj(v, 'prekey counts', ['oneTime', 'kem']);
  return { oneTime: int(o.oneTime, 'oneTime', 1e6), kem: int(o.kem, 'kem', 1e6) };
}
export function decodeStoredResponse(v: unknown): StoredResponse {
  const o = obj(v, 'stored', ['serverId', 'receivedAt']);
  return { serverId: int(o.serverId, 'serverId', Number.MAX_SAFE_INTEGER), receivedAt: int(o.receivedAt, 'receivedAt', Number.MAX_SAFE_INTEGER) };
}
export function decodeHostError(v: unknown): { code: HostErrorCode | 'Unknown'; message: string } {
  try {
    const e = obj(obj(v, 'error body', ['error']).error, 'error', ['code', 'message']);
    const code = Object.values(HostErrorCode).find((c) => c === e.code) ?? 'Unknown';
    return { code, message: typeof e.message === 'string' ? e.message.slice(0, 500) : '' };
  } catch {
    return { code: 'Unknown', message: 'unreadable error from host' };
  }
}
