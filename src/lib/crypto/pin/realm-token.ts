/**
 * Registration tokens (SECURITY.md P38 "no slot squatting"): a realm accepts the FIRST registration
 * for a user id only with a token the app's host issued to the signed-in account holder.
 *
 *   token = version u8 (1) | realmId[16] | userId[32] | expiresAt u32 (Unix seconds) | sig[64]
 *   sig   = Ed25519(issuer key, L_realmToken || realmId || userId || expiresAt)
 *
 * The host is the authority on who owns a username, so its issuer key is the only one a realm
 * needs (configured at the realm, never taken from a request). The token names one realm, so a
 * realm that sees it cannot replay it to another to squat there; it names the opaque user id, so
 * realms still never learn the username. Later registrations are authorised by the auth key of the
 * current master secret (realm-auth.ts) instead. Pure: time comes from the caller.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter } from '../../codec/bytes';
import { ed25519Sign, ed25519Verify } from '../primitives';
import { Labels, labelBytes } from '../labels';
import { REALM_ID_LEN } from './stretch';
import { constantTimeEqual } from './group';

export const REALM_TOKEN_VERSION = 1;
export const REALM_TOKEN_LEN = 1 + 16 + 32 + 4 + 64;
/** Long enough for a slow PIN setup, short enough that a leaked token is soon worthless. */
export const REALM_TOKEN_TTL_S = 10 * 60;

export interface RealmToken {
  realmId: Uint8Array;
  userId: Uint8Array;
  /** Unix seconds. */
  expiresAt: number;
}

function signedPart(t: RealmToken): Uint8Array {
  return new ByteWriter().bytes16(labelBytes(Labels.realmToken)).fixed(t.realmId, REALM_ID_LEN).fixed(t.userId, 32).u32(t.expiresAt).finish();
}

export function issueRealmToken(issuerPrivateKey: Uint8Array, t: RealmToken): Uint8Array {
  if (!Number.isInteger(t.expiresAt) || t.expiresAt < 0 || t.expiresAt > 0xffffffff) fail('InvalidArgument', `token expiry ${t.expiresAt} outside u32`);
  return new ByteWriter()
    .u8(REALM_TOKEN_VERSION)
    .fixed(t.realmId, REALM_ID_LEN)
    .fixed(t.userId, 32)
    .u32(t.expiresAt)
    .raw(ed25519Sign(issuerPrivateKey, signedPart(t)))
    .finish();
}

export function decodeRealmToken(bytes: Uint8Array): RealmToken & { signature: Uint8Array } {
  const r = new ByteReader(bytes, 'realm token');
  const v = r.u8();
  if (v !== REALM_TOKEN_VERSION) fail('UnsupportedVersion', `realm token version ${v}, expected ${REALM_TOKEN_VERSION}`);
  const out = { realmId: r.fixed(REALM_ID_LEN), userId: r.fixed(32), expiresAt: r.u32(), signature: r.fixed(64) };
  r.end();
  return out;
}

/**
 * Whether `bytes` is a valid token of one of `issuers` for this realm and user at `nowMs`.
 * Never throws: a malformed token is simply not valid.
 */
export function realmTokenValid(bytes: Uint8Array, issuers: readonly Uint8Array[], realmId: Uint8Array, userId: Uint8Array, nowMs: number): boolean {
  try {
    const t = decodeRealmToken(bytes);
    if (!constantTimeEqual(t.realmId, realmId) || !constantTimeEqual(t.userId, userId)) return false;
    if (t.expiresAt * 1000 <= nowMs) return false;
    const message = signedPart(t);
    return issuers.some((key) => ed25519Verify(key, message, t.signature));
  } catch {
    return false;
  }
}
