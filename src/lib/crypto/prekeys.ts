/**
 * PQXDH prekeys (Signal PQXDH §3.2, DESIGN.md §4 "Prekeys"): the signed X25519 prekey, X25519
 * one-time prekeys, and signed ML-KEM-768 prekeys (one-time or last-resort).
 *
 * Owns generation, the signatures and their verification, and the strict private encodings used
 * by the local store. Each signature covers label || version || key type || u32 id || typed key
 * [|| lastResort], so a host can neither swap ids, flip the last-resort flag, nor present an
 * X25519 signature as a KEM one. Knows nothing of bundles on the wire, sessions or storage.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import type { IdentityKeyPair } from './identity';
import { Labels, labelBytes } from './labels';
import {
  ed25519Sign,
  ed25519Verify,
  mlkemKeyPair,
  x25519KeyPair,
  x25519PublicFromPrivate,
  MLKEM_PUBLIC_LEN,
  MLKEM_SECRET_LEN,
  SIGNATURE_LEN,
  X25519_LEN,
  type KeyPair
} from './primitives';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { KeyType, encodeKey } from '../codec/keys';

/** Version byte inside every prekey signature and private encoding. */
export const PREKEY_VERSION = 1;
/** Ids are u32 on the wire. */
export const MAX_PREKEY_ID = 0xffff_ffff;

export interface SignedPreKeyPublic {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface OneTimePreKeyPublic {
  id: number;
  publicKey: Uint8Array;
}

export interface KemPreKeyPublic {
  id: number;
  publicKey: Uint8Array;
  /** A last-resort KEM key is reused until rotated; a one-time one is deleted after use. */
  lastResort: boolean;
  signature: Uint8Array;
}

export interface SignedPreKey {
  id: number;
  keyPair: KeyPair;
  signature: Uint8Array;
  /** Creation time (ms), for rotation. */
  createdAt: number;
}

export interface OneTimePreKey {
  id: number;
  keyPair: KeyPair;
}

export interface KemPreKey {
  id: number;
  keyPair: KeyPair;
  lastResort: boolean;
  signature: Uint8Array;
  createdAt: number;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PREKEY_ID) fail('InvalidArgument', `prekey id ${id} outside 0..2^32-1`);
}

/** label || version || key type || u32 id || Encode(key). */
export function signedPreKeySigMessage(id: number, publicKey: Uint8Array): Uint8Array {
  checkId(id);
  return new ByteWriter()
    .raw(labelBytes(Labels.signedPreKeySig))
    .u8(PREKEY_VERSION)
    .u8(KeyType.X25519)
    .u32(id)
    .raw(encodeKey(KeyType.X25519, publicKey))
    .finish();
}

/** label || version || key type || u32 id || Encode(key) || lastResort. */
export function kemPreKeySigMessage(id: number, publicKey: Uint8Array, lastResort: boolean): Uint8Array {
  checkId(id);
  return new ByteWriter()
    .raw(labelBytes(Labels.kemPreKeySig))
    .u8(PREKEY_VERSION)
    .u8(KeyType.MlKem768)
    .u32(id)
    .raw(encodeKey(KeyType.MlKem768, publicKey))
    .u8(lastResort ? 1 : 0)
    .finish();
}

export function generateSignedPreKey(identity: IdentityKeyPair, id: number, deps: Deps): SignedPreKey {
  checkId(id);
  const keyPair = x25519KeyPair(deps);
  const signature = ed25519Sign(identity.signing.privateKey, signedPreKeySigMessage(id, keyPair.publicKey));
  return { id, keyPair, signature, createdAt: deps.now() };
}

/** `count` one-time X25519 prekeys with consecutive ids starting at `firstId`. */
export function generateOneTimePreKeys(firstId: number, count: number, deps: Deps): OneTimePreKey[] {
  checkId(firstId);
  if (!Number.isInteger(count) || count < 0 || firstId + count - 1 > MAX_PREKEY_ID) {
    fail('InvalidArgument', `one-time prekey count ${count} from id ${firstId}`);
  }
  const out: OneTimePreKey[] = [];
  for (let i = 0; i < count; i++) out.push({ id: firstId + i, keyPair: x25519KeyPair(deps) });
  return out;
}

export function generateKemPreKey(identity: IdentityKeyPair, id: number, lastResort: boolean, deps: Deps): KemPreKey {
  checkId(id);
  const keyPair = mlkemKeyPair(deps);
  const signature = ed25519Sign(identity.signing.privateKey, kemPreKeySigMessage(id, keyPair.publicKey, lastResort));
  return { id, keyPair, lastResort, signature, createdAt: deps.now() };
}

export function signedPreKeyPublic(k: SignedPreKey): SignedPreKeyPublic {
  return { id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature };
}

export function oneTimePreKeyPublic(k: OneTimePreKey): OneTimePreKeyPublic {
  return { id: k.id, publicKey: k.keyPair.publicKey };
}

export function kemPreKeyPublic(k: KemPreKey): KemPreKeyPublic {
  return { id: k.id, publicKey: k.keyPair.publicKey, lastResort: k.lastResort, signature: k.signature };
}

/** Throws InvalidSignature unless `spk` is signed by the identity signing key. */
export function verifySignedPreKey(identitySigningKey: Uint8Array, spk: SignedPreKeyPublic): void {
  if (!ed25519Verify(identitySigningKey, signedPreKeySigMessage(spk.id, spk.publicKey), spk.signature)) {
    fail('InvalidSignature', `signed prekey ${spk.id}: bad signature`);
  }
}

/** Throws InvalidSignature unless `kpk` (id, key and last-resort flag) is signed by the identity. */
export function verifyKemPreKey(identitySigningKey: Uint8Array, kpk: KemPreKeyPublic): void {
  if (!ed25519Verify(identitySigningKey, kemPreKeySigMessage(kpk.id, kpk.publicKey, kpk.lastResort), kpk.signature)) {
    fail('InvalidSignature', `KEM prekey ${kpk.id}: bad signature`);
  }
}

// ---- private encodings for the local store (worker only) ----

const Kind = { signed: 0x01, oneTime: 0x02, kem: 0x03 } as const;

function header(w: ByteWriter, kind: number, id: number): ByteWriter {
  checkId(id);
  return w.u8(PREKEY_VERSION).u8(kind).u32(id);
}

function readHeader(r: ByteReader, kind: number): number {
  const v = r.u8();
  if (v !== PREKEY_VERSION) fail('UnsupportedVersion', `prekey version ${v}`);
  const k = r.u8();
  if (k !== kind) fail('DecodeFailed', `prekey kind ${k}, expected ${kind}`);
  return r.u32();
}

function readFlag(r: ByteReader): boolean {
  const f = r.u8();
  if (f > 1) fail('DecodeFailed', `flag byte ${f}`);
  return f === 1;
}

export function encodeSignedPreKey(k: SignedPreKey): Uint8Array {
  return header(new ByteWriter(), Kind.signed, k.id)
    .fixed(k.keyPair.privateKey, X25519_LEN)
    .fixed(k.signature, SIGNATURE_LEN)
    .u64(k.createdAt)
    .finish();
}

export function decodeSignedPreKey(bytes: Uint8Array): SignedPreKey {
  const r = new ByteReader(bytes, 'signed prekey');
  const id = readHeader(r, Kind.signed);
  const privateKey = r.fixed(X25519_LEN);
  const signature = r.fixed(SIGNATURE_LEN);
  const createdAt = r.u64();
  r.end();
  return { id, keyPair: { privateKey, publicKey: x25519PublicFromPrivate(privateKey) }, signature, createdAt };
}

export function encodeOneTimePreKey(k: OneTimePreKey): Uint8Array {
  return header(new ByteWriter(), Kind.oneTime, k.id).fixed(k.keyPair.privateKey, X25519_LEN).finish();
}

export function decodeOneTimePreKey(bytes: Uint8Array): OneTimePreKey {
  const r = new ByteReader(bytes, 'one-time prekey');
  const id = readHeader(r, Kind.oneTime);
  const privateKey = r.fixed(X25519_LEN);
  r.end();
  return { id, keyPair: { privateKey, publicKey: x25519PublicFromPrivate(privateKey) } };
}

export function encodeKemPreKey(k: KemPreKey): Uint8Array {
  return header(new ByteWriter(), Kind.kem, k.id)
    .u8(k.lastResort ? 1 : 0)
    .fixed(k.keyPair.publicKey, MLKEM_PUBLIC_LEN)
    .fixed(k.keyPair.privateKey, MLKEM_SECRET_LEN)
    .fixed(k.signature, SIGNATURE_LEN)
    .u64(k.createdAt)
    .finish();
}

export function decodeKemPreKey(bytes: Uint8Array): KemPreKey {
  const r = new ByteReader(bytes, 'KEM prekey');
  const id = readHeader(r, Kind.kem);
  const lastResort = readFlag(r);
  const publicKey = r.fixed(MLKEM_PUBLIC_LEN);
  const privateKey = r.fixed(MLKEM_SECRET_LEN);
  const signature = r.fixed(SIGNATURE_LEN);
  const createdAt = r.u64();
  r.end();
  return { id, keyPair: { publicKey, privateKey }, lastResort, signature, createdAt };
}
