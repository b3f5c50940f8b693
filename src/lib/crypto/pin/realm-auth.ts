/**
 * Who may change a realm's registration, and the names realms use (DESIGN.md §7, SECURITY.md P23).
 *
 * Authorisation: the client derives one key per realm from the master secret,
 *   authKey_i = HKDF-SHA256(salt = 0^32, ikm = masterSecret, info = L_auth || realmId_i || username)
 * and a realm stores only verifier = SHA-256(L_verifier || authKey_i). Re-registration (a PIN
 * change) and deletion must present authKey_i, so only the owner of the master secret — the
 * original device or someone who recovered it with the PIN — can replace or delete a
 * registration. The key is per realm so one realm cannot replay what it sees to another, and it
 * is keyed by the random master secret, never by the PIN: a verifier in a realm dump is no
 * offline PIN test (P24). The first registration for a user id is accepted from anyone (there is
 * nothing to prove yet); squatting a username that has none is a denial of service only, and a
 * tombstone keeps the verifier so a destroyed registration cannot be taken over.
 *
 * Realms see an opaque 32-byte user id, never the username string. This module knows nothing of
 * HTTP, storage or OPRFs.
 */
import { fail } from '../../codec/errors';
import { hkdf } from '../hkdf';
import { sha256 } from '../primitives';
import { Labels, labelBytes } from '../labels';
import { ByteWriter } from '../../codec/bytes';
import { REALM_ID_LEN } from './stretch';
import { MASTER_SECRET_LEN } from './record';

export const REALM_USER_ID_LEN = 32;
export const REALM_AUTH_KEY_LEN = 32;
export const REALM_VERIFIER_LEN = 32;
/** Longest realm name accepted in configuration. */
export const MAX_REALM_NAME_LEN = 64;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The 16-byte realm id pinned in the client for a realm configured as `name`. */
export function realmIdFromName(name: string): Uint8Array {
  const bytes = utf8(name);
  if (bytes.length === 0 || bytes.length > MAX_REALM_NAME_LEN) fail('InvalidArgument', `realm name of ${bytes.length} bytes, need 1..${MAX_REALM_NAME_LEN}`);
  return sha256(new ByteWriter().bytes16(labelBytes(Labels.pinRealmId)).bytes16(bytes).finish()).slice(0, REALM_ID_LEN);
}

/** What realms key a user's row by: a hash of the canonical username. */
export function realmUserId(username: string): Uint8Array {
  if (username.length === 0) fail('InvalidArgument', 'username is empty');
  return sha256(new ByteWriter().bytes16(labelBytes(Labels.pinRealmUser)).bytes16(utf8(username)).finish());
}

export function realmAuthKey(masterSecret: Uint8Array, realmId: Uint8Array, username: string): Uint8Array {
  if (masterSecret.length !== MASTER_SECRET_LEN) fail('InvalidArgument', `master secret of ${masterSecret.length} bytes`);
  if (realmId.length !== REALM_ID_LEN) fail('InvalidArgument', `realm id of ${realmId.length} bytes`);
  const info = new ByteWriter().bytes16(labelBytes(Labels.pinRealmAuth)).fixed(realmId, REALM_ID_LEN).bytes16(utf8(username)).finish();
  return hkdf(new Uint8Array(32), masterSecret, info, REALM_AUTH_KEY_LEN);
}

/** What a realm stores: one-way, so a leaked dump does not authorise anything. */
export function realmAuthVerifier(authKey: Uint8Array): Uint8Array {
  if (authKey.length !== REALM_AUTH_KEY_LEN) fail('InvalidArgument', `auth key of ${authKey.length} bytes`);
  return sha256(new ByteWriter().bytes16(labelBytes(Labels.pinRealmVerifier)).fixed(authKey, REALM_AUTH_KEY_LEN).finish());
}
