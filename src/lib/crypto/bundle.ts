/**
 * The PQXDH prekey bundle as the host serves it (Signal PQXDH §3.3), strict and versioned.
 *
 * Layout: version u8 || username (u8 len, utf8) || IdentityPublic || signed prekey (u32 id, typed
 * key, sig) || one-time flag u8 [u32 id, typed key] || KEM flag u8 (must be 1) || KEM prekey
 * (u32 id, last-resort u8, typed key, sig).
 *
 * Parley requires a KEM prekey in every bundle (P7): the KEM flag exists only so that a stripped
 * bundle is reported as PostQuantumDowngrade instead of a generic decode failure. `verifyBundle`
 * checks every signature; it must run before any DH. Knows nothing of sessions.
 */
import { fail } from '../codec/errors';
import { readIdentityPublic, encodeIdentityPublic, verifyIdentity, type IdentityPublic } from './identity';
import {
  verifyKemPreKey,
  verifySignedPreKey,
  type KemPreKeyPublic,
  type OneTimePreKeyPublic,
  type SignedPreKeyPublic
} from './prekeys';
import { SIGNATURE_LEN } from './primitives';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { KeyType, encodeKey, readKey } from '../codec/keys';
import { asUsername, readUsername, writeUsername } from '../codec/username';

export const BUNDLE_VERSION = 1;

export interface PreKeyBundle {
  version: typeof BUNDLE_VERSION;
  username: string;
  identity: IdentityPublic;
  signedPreKey: SignedPreKeyPublic;
  oneTimePreKey?: OneTimePreKeyPublic;
  /** Required: a bundle without it is a post-quantum downgrade. */
  kemPreKey: KemPreKeyPublic;
}

function readFlag(r: ByteReader): boolean {
  const f = r.u8();
  if (f > 1) fail('DecodeFailed', `flag byte ${f}`);
  return f === 1;
}

export function encodeBundle(b: PreKeyBundle): Uint8Array {
  if (b.version !== BUNDLE_VERSION) fail('UnsupportedVersion', `bundle version ${String(b.version)}`);
  if (!b.kemPreKey) fail('PostQuantumDowngrade', 'bundle has no KEM prekey');
  const w = new ByteWriter().u8(BUNDLE_VERSION);
  writeUsername(w, b.username).raw(encodeIdentityPublic(b.identity));
  w.u32(b.signedPreKey.id)
    .raw(encodeKey(KeyType.X25519, b.signedPreKey.publicKey))
    .fixed(b.signedPreKey.signature, SIGNATURE_LEN);
  if (b.oneTimePreKey) {
    w.u8(1).u32(b.oneTimePreKey.id).raw(encodeKey(KeyType.X25519, b.oneTimePreKey.publicKey));
  } else {
    w.u8(0);
  }
  return w
    .u8(1)
    .u32(b.kemPreKey.id)
    .u8(b.kemPreKey.lastResort ? 1 : 0)
    .raw(encodeKey(KeyType.MlKem768, b.kemPreKey.publicKey))
    .fixed(b.kemPreKey.signature, SIGNATURE_LEN)
    .finish();
}

/** Strict decode; does NOT verify signatures (call `verifyBundle`). */
export function decodeBundle(bytes: Uint8Array): PreKeyBundle {
  const r = new ByteReader(bytes, 'prekey bundle');
  const version = r.u8();
  if (version !== BUNDLE_VERSION) fail('UnsupportedVersion', `bundle version ${version}`);
  const username = readUsername(r);
  const identity = readIdentityPublic(r);
  const signedPreKey = { id: r.u32(), publicKey: readKey(r, KeyType.X25519), signature: r.fixed(SIGNATURE_LEN) };
  const oneTimePreKey = readFlag(r) ? { id: r.u32(), publicKey: readKey(r, KeyType.X25519) } : undefined;
  if (!readFlag(r)) fail('PostQuantumDowngrade', 'bundle has no KEM prekey');
  const kemId = r.u32();
  const lastResort = readFlag(r);
  const kemPreKey = { id: kemId, lastResort, publicKey: readKey(r, KeyType.MlKem768), signature: r.fixed(SIGNATURE_LEN) };
  r.end();
  const bundle: PreKeyBundle = { version: BUNDLE_VERSION, username, identity, signedPreKey, kemPreKey };
  if (oneTimePreKey) bundle.oneTimePreKey = oneTimePreKey;
  return bundle;
}

/**
 * Everything Alice checks before touching a DH (PQXDH §3.3): the bundle belongs to the user she
 * asked for, has a KEM prekey, and all three signatures (identity X25519 key, signed prekey,
 * KEM prekey) verify under the bundle's identity signing key.
 */
export function verifyBundle(bundle: PreKeyBundle, expectedUsername: string): void {
  if (bundle.version !== BUNDLE_VERSION) fail('UnsupportedVersion', `bundle version ${String(bundle.version)}`);
  if (bundle.username !== expectedUsername) fail('InvalidMessage', 'bundle is for a different username');
  asUsername(bundle.username);
  if (!bundle.kemPreKey) fail('PostQuantumDowngrade', 'bundle has no KEM prekey');
  verifyIdentity(bundle.identity);
  verifySignedPreKey(bundle.identity.signingKey, bundle.signedPreKey);
  verifyKemPreKey(bundle.identity.signingKey, bundle.kemPreKey);
}
