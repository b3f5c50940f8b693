/**
 * A 1:1 SessionState and its strict, versioned storage encodings (worker-local, never on the wire).
 *
 * Layout: version u8 || our username || their username || our IdentityPublic ||
 * their IdentityPublic || u16 AD || pending flag [prekey header] || base-key flag [typed key] ||
 * u32-length ratchet state. Version 1 carries the whole ratchet state (ratchet-state.ts v1);
 * version 2, the HEAD, carries the ratchet head only (ratchet-state.ts v2) and is decoded together
 * with the skipped-key buckets stored apart from it (skipped-bucket.ts). The AD is checked on
 * decode to be exactly the one the usernames and identities produce (either role), so a
 * corrupted record cannot rebind a session.
 */
import { fail } from '../codec/errors';
import { encodeIdentityPublic, readIdentityPublic, type IdentityPublic } from './identity';
import { associatedData, type PqxdhHeader } from './pqxdh';
import { MLKEM_CIPHERTEXT_LEN } from './primitives';
import type { RatchetState } from './ratchet/double-ratchet';
import { ByteReader, ByteWriter, bytesEqual } from '../codec/bytes';
import { readUsername, writeUsername } from '../codec/username';
import { KeyType, encodeKey, readKey } from '../codec/keys';
import { decodeRatchetHead, decodeRatchetState, encodeRatchetHead, encodeRatchetState } from './ratchet/ratchet-state';
import { withSkippedKeys, type SkippedBucket } from './ratchet/skipped-bucket';

/** Version byte of the whole stored session (and of SessionState.version). */
export const SESSION_VERSION = 1;
/** Version byte of a stored session head (the session without its skipped message keys). */
export const SESSION_HEAD_VERSION = 2;

/** A 1:1 session's state (session.ts runs it; this module stores it). */
export interface SessionState {
  version: 1;
  ourUsername: string;
  theirUsername: string;
  ourIdentity: IdentityPublic;
  theirIdentity: IdentityPublic;
  /** AD = Encode(IK_A) || Encode(IK_B), fixed for the session's lifetime. */
  ad: Uint8Array;
  ratchet: RatchetState;
  /** Initiator only: header repeated on every message until the peer's first reply decrypts. */
  pendingPreKey?: PqxdhHeader;
  /** Responder only: the initiator's base key, to route her repeated PreKeyMessages here. */
  theirBaseKey?: Uint8Array;
}

/** Ratchet state bound: skipped-key cap (2000) times a generous per-key size, plus chains. */
const MAX_RATCHET_STATE = 1024 * 1024;

function readFlag(r: ByteReader): boolean {
  const f = r.u8();
  if (f > 1) fail('DecodeFailed', `flag byte ${f}`);
  return f === 1;
}

function writeHeader(w: ByteWriter, h: PqxdhHeader): void {
  w.u32(h.signedPreKeyId);
  if (h.oneTimePreKeyId !== undefined) w.u8(1).u32(h.oneTimePreKeyId);
  else w.u8(0);
  w.u32(h.kemPreKeyId).raw(encodeKey(KeyType.X25519, h.baseKey)).fixed(h.kemCiphertext, MLKEM_CIPHERTEXT_LEN);
}

function readHeader(r: ByteReader): PqxdhHeader {
  const signedPreKeyId = r.u32();
  const oneTimePreKeyId = readFlag(r) ? r.u32() : undefined;
  const kemPreKeyId = r.u32();
  const baseKey = readKey(r, KeyType.X25519);
  const kemCiphertext = r.fixed(MLKEM_CIPHERTEXT_LEN);
  const h: PqxdhHeader = { signedPreKeyId, kemPreKeyId, baseKey, kemCiphertext };
  if (oneTimePreKeyId !== undefined) h.oneTimePreKeyId = oneTimePreKeyId;
  return h;
}

/**
 * Encoded identities by object: a session's two identities are the same objects from one state
 * to the next (the ratchet replaces only its own fields), and a head is encoded on every message.
 * Public values, never handed out (ByteWriter.raw copies them).
 */
const encodedIdentities = new WeakMap<IdentityPublic, Uint8Array>();

function encodedIdentity(id: IdentityPublic): Uint8Array {
  let b = encodedIdentities.get(id);
  if (!b) encodedIdentities.set(id, (b = encodeIdentityPublic(id)));
  return b;
}

function writeSession(version: number, s: SessionState, ratchet: Uint8Array): Uint8Array {
  if (s.version !== SESSION_VERSION) fail('UnsupportedVersion', `session version ${String(s.version)}`);
  const w = new ByteWriter(512 + ratchet.length).u8(version);
  writeUsername(w, s.ourUsername);
  writeUsername(w, s.theirUsername);
  w.raw(encodedIdentity(s.ourIdentity)).raw(encodedIdentity(s.theirIdentity)).bytes16(s.ad);
  if (s.pendingPreKey) writeHeader(w.u8(1), s.pendingPreKey);
  else w.u8(0);
  if (s.theirBaseKey) w.u8(1).raw(encodeKey(KeyType.X25519, s.theirBaseKey));
  else w.u8(0);
  return w.bytes32(ratchet).finish();
}

function readSession(bytes: Uint8Array, version: number, what: string, decodeRatchet: (b: Uint8Array) => RatchetState): SessionState {
  const r = new ByteReader(bytes, what);
  const v = r.u8();
  if (v !== version) fail('UnsupportedVersion', `${what} version ${v}`);
  const ourUsername = readUsername(r);
  const theirUsername = readUsername(r);
  const ourIdentity = readIdentityPublic(r);
  const theirIdentity = readIdentityPublic(r);
  const ad = r.bytes16(1024);
  const pendingPreKey = readFlag(r) ? readHeader(r) : undefined;
  const theirBaseKey = readFlag(r) ? readKey(r, KeyType.X25519) : undefined;
  if (pendingPreKey && theirBaseKey) fail('DecodeFailed', 'session is both initiator-pending and responder');
  const ratchet = decodeRatchet(r.bytes32(MAX_RATCHET_STATE));
  r.end();

  const us = { username: ourUsername, identity: ourIdentity };
  const them = { username: theirUsername, identity: theirIdentity };
  if (!bytesEqual(ad, associatedData(us, them)) && !bytesEqual(ad, associatedData(them, us))) {
    fail('DecodeFailed', 'session AD does not match its usernames and identities');
  }
  const s: SessionState = { version: SESSION_VERSION, ourUsername, theirUsername, ourIdentity, theirIdentity, ad, ratchet };
  if (pendingPreKey) s.pendingPreKey = pendingPreKey;
  if (theirBaseKey) s.theirBaseKey = theirBaseKey;
  return s;
}

/** Version 1: the whole session, skipped keys included. */
export function encodeSession(s: SessionState): Uint8Array {
  return writeSession(SESSION_VERSION, s, encodeRatchetState(s.ratchet));
}

export function decodeSession(bytes: Uint8Array): SessionState {
  return readSession(bytes, SESSION_VERSION, 'session', decodeRatchetState);
}

/** Version 2: the session without its skipped message keys (stored apart, one value per bucket). */
export function encodeSessionHead(s: SessionState): Uint8Array {
  return writeSession(SESSION_HEAD_VERSION, s, encodeRatchetHead(s.ratchet));
}

/** A session head with its stored skipped-key buckets (in the order the state listed them). */
export function decodeSessionHead(bytes: Uint8Array, buckets: readonly SkippedBucket[]): SessionState {
  return readSession(bytes, SESSION_HEAD_VERSION, 'session head', (b) => withSkippedKeys(decodeRatchetHead(b), buckets));
}
