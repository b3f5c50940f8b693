/**
 * Private profiles (SECURITY.md P43): display name, about and avatar, encrypted under a 256-bit
 * profile key and stored on the host as a padded, versioned blob at an address the host cannot
 * link to a username without the key.
 *
 *   K         = profile key, 32 random bytes (a rotation is just a new K)
 *   address   = HKDF-SHA256(salt = 0^32, ikm = K, info = L_locator || username, 32)
 *   blobKey   = HKDF-SHA256(salt = 0^32, ikm = K, info = L_blobKey, 32)
 *   plaintext = version u8 || u16 len || display name || u16 len || about || u32 len || avatar
 *   padded    = plaintext || 0x80 || 0x00 ... to the smallest of PROFILE_BUCKETS that fits
 *   blob      = version u8 || nonce[24] || XChaCha20-Poly1305(blobKey, nonce, padded, AD)
 *   AD        = L_ad || version || username || address
 *
 * Whoever holds K and the username finds and reads the profile; the host sees an address, a
 * bucket size (1 KiB without avatar, 32 or 128 KiB with one) and ciphertext. A blob served at
 * another address or for another username fails its MAC. The address changes with K, so after a
 * rotation old and new blobs are unlinkable, as long as the engine uploads them where the host
 * cannot tie the upload to the account (an unauthenticated connection, not at the very moment it
 * updates its sealed access). Writing is authorised by a per-address token only the owner can
 * derive (from its identity's IKd private key, which a restore brings back; holders of K cannot):
 *
 *   writeToken    = HKDF-SHA256(salt = address, ikm = IKd private, info = L_writeToken, 32)
 *   writeVerifier = SHA-256(L_writeCheck || writeToken)      (the host stores this with the blob)
 *
 * The host creates a blob with its verifier and accepts a replacement or deletion only with the
 * token. Text fields are bounded UTF-8 without control characters (a newline is allowed in
 * "about"); the avatar is opaque bytes (resizing, re-encoding and EXIF stripping are the UI's job),
 * bounded so the largest bucket holds it. Decoding is strict: known version, valid UTF-8, the
 * same field rules, canonical padding to a listed bucket. Knows nothing of images, storage or HTTP.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../codec/bytes';
import { asUsername } from '../codec/username';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import type { IdentityKeyPair } from './identity';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadDecrypt, aeadEncrypt, sha256, wipe } from './primitives';
import { LIMITS as ACCOUNT_LIMITS, PROFILE_KEY_LEN } from './account-record';

export { PROFILE_KEY_LEN };
export const PROFILE_VERSION = 1;
export const PROFILE_BLOB_VERSION = 1;
export const PROFILE_ADDRESS_LEN = 32;
export const PROFILE_WRITE_TOKEN_LEN = 32;
/** Padded plaintext sizes: text only, a small avatar, a large one. Few buckets, little to learn. */
export const PROFILE_BUCKETS = [1024, 32 * 1024, 128 * 1024] as const;
const MAX_BUCKET = PROFILE_BUCKETS[2];
/** Field bounds in UTF-8 bytes; the display name matches the account record's. */
export const PROFILE_LIMITS = {
  displayName: ACCOUNT_LIMITS.displayName,
  about: 512,
  /** Whatever still fits the largest bucket with both text fields full. */
  avatar: MAX_BUCKET - (1 + 2 + ACCOUNT_LIMITS.displayName + 2 + 512 + 4 + 1)
} as const;
export const MAX_PROFILE_BLOB_LEN = 1 + AEAD_NONCE_LEN + MAX_BUCKET + AEAD_TAG_LEN;

export interface Profile {
  readonly displayName: string;
  readonly about: string;
  /** Already resized and re-encoded by the UI, metadata stripped; null for none. */
  readonly avatar: Uint8Array | null;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** C0 and C1 controls and DEL; "about" may hold newlines. */
function hasControl(s: string, newlineAllowed: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && !(newlineAllowed && c === 0x0a)) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function generateProfileKey(deps: Deps): Uint8Array {
  return deps.rng(PROFILE_KEY_LEN);
}

function checkKey(profileKey: Uint8Array): void {
  if (profileKey.length !== PROFILE_KEY_LEN) fail('InvalidArgument', `profile key: ${profileKey.length} bytes, expected ${PROFILE_KEY_LEN}`);
}

const ZERO_SALT = new Uint8Array(32);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Where the blob of `username`'s profile under `profileKey` lives on the host. */
export function profileAddress(profileKey: Uint8Array, username: string): Uint8Array {
  checkKey(profileKey);
  return hkdf(ZERO_SALT, profileKey, concatBytes(labelBytes(Labels.profileLocator), utf8(asUsername(username))), PROFILE_ADDRESS_LEN);
}

function blobKey(profileKey: Uint8Array): Uint8Array {
  return hkdf(ZERO_SALT, profileKey, labelBytes(Labels.profileBlobKey), 32);
}

function blobAd(username: string, address: Uint8Array): Uint8Array {
  return new ByteWriter().raw(labelBytes(Labels.profileBlobAd)).u8(PROFILE_BLOB_VERSION).bytes16(utf8(username)).fixed(address, PROFILE_ADDRESS_LEN).finish();
}

function checkText(s: string, max: number, what: string, newlineAllowed: boolean, code: 'InvalidArgument' | 'DecodeFailed'): Uint8Array {
  if (typeof s !== 'string' || LONE_SURROGATE.test(s)) fail(code, `profile ${what} is not well-formed text`);
  if (hasControl(s, newlineAllowed)) fail(code, `profile ${what} contains a control character`);
  const b = utf8(s);
  if (b.length > max) fail(code, `profile ${what} of ${b.length} bytes exceeds ${max}`);
  return b;
}

/** The smallest bucket holding `n` plaintext bytes and the 0x80 marker. */
export function profileBucket(n: number): number {
  const b = PROFILE_BUCKETS.find((size) => size >= n + 1);
  if (b === undefined) fail('InvalidArgument', `profile of ${n} bytes exceeds ${MAX_BUCKET - 1}`);
  return b;
}

export function encodeProfile(p: Profile): Uint8Array {
  const name = checkText(p.displayName, PROFILE_LIMITS.displayName, 'display name', false, 'InvalidArgument');
  const about = checkText(p.about, PROFILE_LIMITS.about, 'about', true, 'InvalidArgument');
  const avatar = p.avatar ?? new Uint8Array(0);
  if (p.avatar !== null && avatar.length === 0) fail('InvalidArgument', 'profile avatar is empty: use null for none');
  if (avatar.length > PROFILE_LIMITS.avatar) fail('InvalidArgument', `profile avatar of ${avatar.length} bytes exceeds ${PROFILE_LIMITS.avatar}`);
  return new ByteWriter().u8(PROFILE_VERSION).bytes16(name).bytes16(about).bytes32(avatar).finish();
}

function readText(r: ByteReader, max: number, what: string, newlineAllowed: boolean): string {
  const b = r.bytes16(max);
  let s: string;
  try {
    s = strict.decode(b);
  } catch {
    fail('DecodeFailed', `profile ${what} is not valid UTF-8`);
  }
  checkText(s, max, what, newlineAllowed, 'DecodeFailed');
  return s;
}

export function decodeProfile(bytes: Uint8Array): Profile {
  const r = new ByteReader(bytes, 'profile');
  const v = r.u8();
  if (v !== PROFILE_VERSION) fail('UnsupportedVersion', `profile version ${v}`);
  const displayName = readText(r, PROFILE_LIMITS.displayName, 'display name', false);
  const about = readText(r, PROFILE_LIMITS.about, 'about', true);
  const avatar = r.bytes32(PROFILE_LIMITS.avatar);
  r.end();
  return { displayName, about, avatar: avatar.length === 0 ? null : avatar };
}

function pad(plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(profileBucket(plain.length));
  out.set(plain);
  out[plain.length] = 0x80;
  return out;
}

function unpad(padded: Uint8Array): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80 || profileBucket(i) !== padded.length) fail('DecodeFailed', `profile: bad padding in a ${padded.length}-byte bucket`);
  return padded.slice(0, i);
}

export interface SealedProfile {
  /** The host address to store the blob at. */
  address: Uint8Array;
  blob: Uint8Array;
}

/** Encrypts `profile` for everyone holding `profileKey`; the address comes with it. */
export function sealProfile(input: { profile: Profile; profileKey: Uint8Array; username: string }, deps: Deps): SealedProfile {
  const username = asUsername(input.username);
  const address = profileAddress(input.profileKey, username);
  const plain = encodeProfile(input.profile);
  const padded = pad(plain);
  const key = blobKey(input.profileKey);
  const nonce = deps.rng(AEAD_NONCE_LEN);
  try {
    const blob = new ByteWriter().u8(PROFILE_BLOB_VERSION).fixed(nonce, AEAD_NONCE_LEN).raw(aeadEncrypt(key, nonce, padded, blobAd(username, address))).finish();
    return { address, blob };
  } finally {
    wipe(key, plain, padded);
  }
}

/** Decrypts a blob fetched from `profileAddress(profileKey, username)`; InvalidMac for anything else. */
export function openProfile(input: { blob: Uint8Array; profileKey: Uint8Array; username: string }): Profile {
  const b = input.blob;
  if (b.length > MAX_PROFILE_BLOB_LEN) fail('DecodeFailed', `profile blob of ${b.length} bytes exceeds ${MAX_PROFILE_BLOB_LEN}`);
  const r = new ByteReader(b, 'profile blob');
  const v = r.u8();
  if (v !== PROFILE_BLOB_VERSION) fail('UnsupportedVersion', `profile blob version ${v}`);
  const nonce = r.fixed(AEAD_NONCE_LEN);
  const box = r.rest();
  if (!PROFILE_BUCKETS.some((size) => size + AEAD_TAG_LEN === box.length)) fail('DecodeFailed', `profile blob body of ${box.length} bytes is not a bucket`);
  const username = asUsername(input.username);
  const address = profileAddress(input.profileKey, username);
  const key = blobKey(input.profileKey);
  let padded: Uint8Array | undefined;
  try {
    padded = aeadDecrypt(key, nonce, box, blobAd(username, address));
    const plain = unpad(padded);
    try {
      return decodeProfile(plain);
    } finally {
      wipe(plain);
    }
  } finally {
    wipe(key, padded);
  }
}

/**
 * The owner's token to create, replace or delete the blob at `address` (never derivable from the
 * profile key alone, so the people holding K can read but not write). One per address, so tokens
 * do not link an account's blobs across rotations either.
 */
export function profileWriteToken(ourIdentity: IdentityKeyPair, address: Uint8Array): Uint8Array {
  if (address.length !== PROFILE_ADDRESS_LEN) fail('InvalidArgument', `profile address: ${address.length} bytes, expected ${PROFILE_ADDRESS_LEN}`);
  return hkdf(address, ourIdentity.dh.privateKey, labelBytes(Labels.profileWriteToken), PROFILE_WRITE_TOKEN_LEN);
}

/** What the host stores with a blob to check write tokens against. */
export function profileWriteVerifier(token: Uint8Array): Uint8Array {
  if (token.length !== PROFILE_WRITE_TOKEN_LEN) fail('InvalidArgument', `profile write token: ${token.length} bytes, expected ${PROFILE_WRITE_TOKEN_LEN}`);
  return sha256(concatBytes(labelBytes(Labels.profileWriteCheck), token));
}

/** Host side: does `presented` authorise writing the blob stored with `verifier`? (constant time) */
export function mayWriteProfile(verifier: Uint8Array, presented: Uint8Array | undefined): boolean {
  if (presented === undefined || presented.length !== PROFILE_WRITE_TOKEN_LEN) return false;
  return bytesEqual(profileWriteVerifier(presented), verifier);
}
