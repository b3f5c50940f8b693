/**
 * Account identity: an Ed25519 signing key `IKs` and an X25519 key `IKd` signed by `IKs`
 * (DESIGN.md §4 "Identity"). Both public keys and the username are what peers bind to.
 *
 * Owns generation, the signature over IKd, and the strict public encoding. Knows nothing of
 * prekeys, sessions or storage.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { Labels, labelBytes } from './labels';
import {
  ed25519KeyPair,
  ed25519Sign,
  ed25519Verify,
  x25519KeyPair,
  x25519PublicFromPrivate as x25519PublicOf,
  SIGNATURE_LEN,
  type KeyPair
} from './primitives';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../codec/bytes';
import { KeyType, encodeKey, encodedKeyLength, readKey, writeKey } from '../codec/keys';

export const IDENTITY_VERSION = 1;

export interface IdentityPublic {
  /** Ed25519 public key (IKs). */
  signingKey: Uint8Array;
  /** X25519 public key (IKd). */
  dhKey: Uint8Array;
  /** Ed25519 signature by IKs over label || Encode(IKd). */
  dhKeySignature: Uint8Array;
}

export interface IdentityKeyPair {
  signing: KeyPair;
  dh: KeyPair;
  dhKeySignature: Uint8Array;
}

function dhKeySigMessage(dhKey: Uint8Array): Uint8Array {
  return concatBytes(labelBytes(Labels.identityDhKeySig), encodeKey(KeyType.X25519, dhKey));
}

export function generateIdentity(deps: Deps): IdentityKeyPair {
  const signing = ed25519KeyPair(deps);
  const dh = x25519KeyPair(deps);
  return { signing, dh, dhKeySignature: ed25519Sign(signing.privateKey, dhKeySigMessage(dh.publicKey)) };
}

export function identityPublic(id: IdentityKeyPair): IdentityPublic {
  return { signingKey: id.signing.publicKey, dhKey: id.dh.publicKey, dhKeySignature: id.dhKeySignature };
}

/** Throws InvalidSignature unless IKd is signed by IKs. */
export function verifyIdentity(id: IdentityPublic): void {
  if (!ed25519Verify(id.signingKey, dhKeySigMessage(id.dhKey), id.dhKeySignature)) {
    fail('InvalidSignature', 'identity X25519 key not signed by its signing key');
  }
}

/**
 * P3: has a contact's identity changed? Compares the KEY BYTES, IKs and IKd, never ids, usernames
 * or the signature: a re-signed IKd (a new signature over the same key) is the same identity,
 * while a new key under any label is a change the UI must show. No stored identity yet (first
 * contact) is not a change. Signature validity is verifyIdentity's job, not this function's.
 */
export function identityChanged(stored: IdentityPublic | undefined, incoming: IdentityPublic): boolean {
  if (stored === undefined) return false;
  return !bytesEqual(stored.signingKey, incoming.signingKey) || !bytesEqual(stored.dhKey, incoming.dhKey);
}

/** Version || Enc(IKs) || Enc(IKd) || sig — 1 + 33 + 33 + 64 = 131 bytes. */
export const IDENTITY_PUBLIC_LEN = 1 + encodedKeyLength(KeyType.Ed25519) + encodedKeyLength(KeyType.X25519) + SIGNATURE_LEN;

export function encodeIdentityPublic(id: IdentityPublic): Uint8Array {
  return writeIdentityPublic(new ByteWriter(IDENTITY_PUBLIC_LEN), id).finish();
}

/** `encodeIdentityPublic` straight into a writer: a group state writes a thousand of them. */
export function writeIdentityPublic(w: ByteWriter, id: IdentityPublic): ByteWriter {
  w.u8(IDENTITY_VERSION);
  writeKey(w, KeyType.Ed25519, id.signingKey);
  writeKey(w, KeyType.X25519, id.dhKey);
  return w.fixed(id.dhKeySignature, SIGNATURE_LEN);
}

export function readIdentityPublic(r: ByteReader): IdentityPublic {
  const v = r.u8();
  if (v !== IDENTITY_VERSION) fail('UnsupportedVersion', `identity version ${v}`);
  const signingKey = readKey(r, KeyType.Ed25519);
  const dhKey = readKey(r, KeyType.X25519);
  const dhKeySignature = r.fixed(SIGNATURE_LEN);
  return { signingKey, dhKey, dhKeySignature };
}

/** Strict decode and signature check. */
export function decodeIdentityPublic(bytes: Uint8Array): IdentityPublic {
  const r = new ByteReader(bytes, 'identity');
  const id = readIdentityPublic(r);
  r.end();
  verifyIdentity(id);
  return id;
}

/** Private identity encoding for local storage (worker only): version || seeds and signature. */
export function encodeIdentityKeyPair(id: IdentityKeyPair): Uint8Array {
  return new ByteWriter()
    .u8(IDENTITY_VERSION)
    .fixed(id.signing.privateKey, 64)
    .fixed(id.dh.privateKey, 32)
    .fixed(id.dhKeySignature, SIGNATURE_LEN)
    .finish();
}

export function decodeIdentityKeyPair(bytes: Uint8Array): IdentityKeyPair {
  const r = new ByteReader(bytes, 'identity key pair');
  const v = r.u8();
  if (v !== IDENTITY_VERSION) fail('UnsupportedVersion', `identity version ${v}`);
  const signingPrivate = r.fixed(64);
  const dhPrivate = r.fixed(32);
  const dhKeySignature = r.fixed(SIGNATURE_LEN);
  r.end();
  // libsodium's Ed25519 secret key is seed || public key.
  const signing = { privateKey: signingPrivate, publicKey: signingPrivate.slice(32) };
  const dh = { privateKey: dhPrivate, publicKey: x25519PublicOf(dhPrivate) };
  const id = { signing, dh, dhKeySignature };
  verifyIdentity(identityPublic(id));
  return id;
}
