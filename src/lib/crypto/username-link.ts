/**
 * Username links (README "Design: private discovery"; after Signal's encrypted username links):
 * share your username as a URL or QR code that the host cannot read and that you can reset.
 *
 *   id        = 16 random bytes (names the entry on the host)
 *   key       = 32 random bytes (only in the link, after '#', never sent to the host)
 *   link      = base64url(id || key)                                          64 characters
 *   padded    = username || 0x80 || 0x00 ... to 48 bytes (every name seals to one size)
 *   blob      = version u8 || nonce[24] || XChaCha20-Poly1305(key, nonce, padded, AD)
 *   AD        = L_ad || version || id
 *   writeToken = HKDF-SHA256(salt = id, ikm = IKd private, info = L_write, 32)
 *
 * The host stores (id, SHA-256 verifier of the write token, blob): it learns that some account
 * has a link, never whose (the upload carries no account) nor the name inside. Opening a link
 * fetches the blob by id and decrypts it with the key from the fragment. Resetting draws a new id
 * and key and deletes the old entry with its token, so every old link and QR code stops working.
 * Knows nothing of storage, HTTP or URLs beyond the link text.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { ByteReader, ByteWriter, concatBytes } from '../codec/bytes';
import { USERNAME_MAX, asUsername, type Username } from '../codec/username';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import type { IdentityKeyPair } from './identity';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadDecrypt, aeadEncrypt, sha256 } from './primitives';

export const USERNAME_LINK_VERSION = 1;
export const LINK_ID_LEN = 16;
export const LINK_KEY_LEN = 32;
export const LINK_WRITE_TOKEN_LEN = 32;
const PADDED_LEN = 48;
/** The only blob length: version, nonce, padded name, tag. */
export const USERNAME_LINK_BLOB_LEN = 1 + AEAD_NONCE_LEN + PADDED_LEN + AEAD_TAG_LEN;

export interface UsernameLink {
  id: Uint8Array;
  key: Uint8Array;
}

export function newUsernameLink(deps: Deps): UsernameLink {
  return { id: deps.rng(LINK_ID_LEN), key: deps.rng(LINK_KEY_LEN) };
}

export function linkText(link: UsernameLink): string {
  if (link.id.length !== LINK_ID_LEN || link.key.length !== LINK_KEY_LEN) fail('InvalidArgument', 'username link of the wrong size');
  return toBase64Url(concatBytes(link.id, link.key));
}

/** DecodeFailed for anything but exactly 48 bytes in canonical base64url. */
export function parseLinkText(text: string): UsernameLink {
  const b = fromBase64Url(text.trim(), LINK_ID_LEN + LINK_KEY_LEN);
  if (b.length !== LINK_ID_LEN + LINK_KEY_LEN) fail('DecodeFailed', `username link of ${b.length} bytes`);
  return { id: b.slice(0, LINK_ID_LEN), key: b.slice(LINK_ID_LEN) };
}

function ad(id: Uint8Array): Uint8Array {
  return new ByteWriter().raw(labelBytes(Labels.usernameLinkAd)).u8(USERNAME_LINK_VERSION).fixed(id, LINK_ID_LEN).finish();
}

export function sealUsernameLink(link: UsernameLink, username: Username, deps: Deps): Uint8Array {
  const name = new TextEncoder().encode(asUsername(username));
  if (name.length > USERNAME_MAX) fail('InvalidArgument', 'username too long');
  const padded = new Uint8Array(PADDED_LEN);
  padded.set(name);
  padded[name.length] = 0x80;
  const nonce = deps.rng(AEAD_NONCE_LEN);
  return new ByteWriter().u8(USERNAME_LINK_VERSION).fixed(nonce, AEAD_NONCE_LEN).raw(aeadEncrypt(link.key, nonce, padded, ad(link.id))).finish();
}

/** The username inside a blob fetched for `link.id`; InvalidMac if it is not that link's. */
export function openUsernameLink(link: UsernameLink, blob: Uint8Array): Username {
  if (blob.length !== USERNAME_LINK_BLOB_LEN) fail('DecodeFailed', `username link blob of ${blob.length} bytes`);
  const r = new ByteReader(blob, 'username link');
  const v = r.u8();
  if (v !== USERNAME_LINK_VERSION) fail('UnsupportedVersion', `username link version ${v}`);
  const nonce = r.fixed(AEAD_NONCE_LEN);
  const padded = aeadDecrypt(link.key, nonce, r.rest(), ad(link.id));
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 1 || padded[end] !== 0x80) fail('DecodeFailed', 'username link: bad padding');
  return asUsername(new TextDecoder('utf-8', { fatal: true }).decode(padded.slice(0, end)), 'DecodeFailed');
}

/** The owner's token to create, replace or delete the entry `id` (from the identity key only). */
export function usernameLinkWriteToken(ourIdentity: IdentityKeyPair, id: Uint8Array): Uint8Array {
  if (id.length !== LINK_ID_LEN) fail('InvalidArgument', `link id of ${id.length} bytes`);
  return hkdf(id, ourIdentity.dh.privateKey, labelBytes(Labels.usernameLinkWrite), LINK_WRITE_TOKEN_LEN);
}

/** What the host keeps to check a write token (the same one-way shape as profile writes). */
export function usernameLinkVerifier(token: Uint8Array): Uint8Array {
  if (token.length !== LINK_WRITE_TOKEN_LEN) fail('InvalidArgument', `link write token of ${token.length} bytes`);
  return sha256(concatBytes(labelBytes(Labels.usernameLinkCheck), token));
}
