/**
 * 1:1 session envelopes (what travels through the host's mailbox), strict codecs.
 *
 *   0x01 PreKeyMessage: type || version || sender username || sender IdentityPublic ||
 *        u32 signed-prekey id || one-time flag [u32 id] || u32 KEM prekey id ||
 *        typed base key || KEM ciphertext || u32-length inner ratchet message
 *   0x02 RatchetMessage: type || inner ratchet message (to the end)
 *
 * The inner ratchet message is opaque here (the ratchet authenticates its own header; the
 * session binds the type and version bytes into its AD, see session.ts). Knows nothing of keys
 * beyond their encodings.
 */
import { fail } from '../codec/errors';
import { encodeIdentityPublic, readIdentityPublic, type IdentityPublic } from './identity';
import type { PqxdhHeader } from './pqxdh';
import { MLKEM_CIPHERTEXT_LEN } from './primitives';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { readUsername, writeUsername } from '../codec/username';
import { KeyType, encodeKey, readKey } from '../codec/keys';

export const MessageType = { preKey: 0x01, ratchet: 0x02 } as const;
export const PREKEY_MESSAGE_VERSION = 1;
/** Bound on an inner ratchet message (padded plaintext limit plus header and tag). */
export const MAX_INNER_MESSAGE = 256 * 1024 + 1024;

export interface PreKeyMessage extends PqxdhHeader {
  /**
   * The envelope version as received. The codec admits only PREKEY_MESSAGE_VERSION; the session
   * also binds it (with the type byte) into the inner message's AD, so a future or lenient decoder
   * cannot be made to accept a version the sender did not write (P7).
   */
  version: number;
  senderUsername: string;
  senderIdentity: IdentityPublic;
  /** Inner ratchet message: encoded header || ciphertext. */
  message: Uint8Array;
}

export function peekMessageType(message: Uint8Array): 'prekey' | 'ratchet' {
  const t = message[0];
  if (t === MessageType.preKey) return 'prekey';
  if (t === MessageType.ratchet) return 'ratchet';
  return fail('DecodeFailed', `message type ${String(t)}`);
}

/**
 * Everything of a PreKeyMessage before its inner message's length: type, version, sender, prekey
 * ids, base key and KEM ciphertext. The session binds exactly these bytes into the inner
 * message's AD (P7), so no envelope byte is left unauthenticated. Writes `m.version` as given:
 * binding a version is how a lenient decoder's mistake becomes a MAC failure.
 */
export function encodePreKeyHeader(m: Omit<PreKeyMessage, 'message'>): Uint8Array {
  const w = new ByteWriter().u8(MessageType.preKey).u8(m.version);
  writeUsername(w, m.senderUsername).raw(encodeIdentityPublic(m.senderIdentity)).u32(m.signedPreKeyId);
  if (m.oneTimePreKeyId !== undefined) w.u8(1).u32(m.oneTimePreKeyId);
  else w.u8(0);
  return w.u32(m.kemPreKeyId).raw(encodeKey(KeyType.X25519, m.baseKey)).fixed(m.kemCiphertext, MLKEM_CIPHERTEXT_LEN).finish();
}

/** header || u32 length || inner message; `header` must be encodePreKeyHeader of the same fields. */
export function encodePreKeyMessageWithHeader(header: Uint8Array, inner: Uint8Array): Uint8Array {
  if (header[0] !== MessageType.preKey || header[1] !== PREKEY_MESSAGE_VERSION) {
    fail('UnsupportedVersion', `prekey message version ${String(header[1])}`);
  }
  if (inner.length > MAX_INNER_MESSAGE) fail('InvalidArgument', `inner message of ${inner.length} bytes`);
  const out = new Uint8Array(header.length + 4 + inner.length);
  out.set(header, 0);
  new DataView(out.buffer).setUint32(header.length, inner.length);
  out.set(inner, header.length + 4);
  return out;
}

export function encodePreKeyMessage(m: PreKeyMessage): Uint8Array {
  if (m.version !== PREKEY_MESSAGE_VERSION) fail('UnsupportedVersion', `prekey message version ${m.version}`);
  return encodePreKeyMessageWithHeader(encodePreKeyHeader(m), m.message);
}

/** The header bytes (a view) of an encoded PreKeyMessage `bytes` that decoded to `m`. */
export function receivedPreKeyHeader(bytes: Uint8Array, m: PreKeyMessage): Uint8Array {
  return bytes.subarray(0, bytes.length - 4 - m.message.length);
}

/** Strict decode; verifies nothing (acceptSession verifies the identity before any DH). */
export function decodePreKeyMessage(bytes: Uint8Array): PreKeyMessage {
  const r = new ByteReader(bytes, 'prekey message');
  const type = r.u8();
  if (type !== MessageType.preKey) fail('DecodeFailed', `message type ${type}, expected ${MessageType.preKey}`);
  const version = r.u8();
  if (version !== PREKEY_MESSAGE_VERSION) fail('UnsupportedVersion', `prekey message version ${version}`);
  const senderUsername = readUsername(r);
  const senderIdentity = readIdentityPublic(r);
  const signedPreKeyId = r.u32();
  const flag = r.u8();
  if (flag > 1) fail('DecodeFailed', `flag byte ${flag}`);
  const oneTimePreKeyId = flag === 1 ? r.u32() : undefined;
  const kemPreKeyId = r.u32();
  const baseKey = readKey(r, KeyType.X25519);
  const kemCiphertext = r.fixed(MLKEM_CIPHERTEXT_LEN);
  const message = r.bytes32(MAX_INNER_MESSAGE);
  r.end();
  const m: PreKeyMessage = {
    version: PREKEY_MESSAGE_VERSION,
    senderUsername,
    senderIdentity,
    signedPreKeyId,
    kemPreKeyId,
    baseKey,
    kemCiphertext,
    message
  };
  if (oneTimePreKeyId !== undefined) m.oneTimePreKeyId = oneTimePreKeyId;
  return m;
}

// The per-message path: one allocation in, a view out (the ratchet copies what it keeps).
export function encodeRatchetMessage(inner: Uint8Array): Uint8Array {
  if (inner.length > MAX_INNER_MESSAGE) fail('InvalidArgument', `inner message of ${inner.length} bytes`);
  const out = new Uint8Array(1 + inner.length);
  out[0] = MessageType.ratchet;
  out.set(inner, 1);
  return out;
}

/** The inner ratchet message, a view into `bytes` (never stored: the ratchet copies its key). */
export function decodeRatchetMessage(bytes: Uint8Array): Uint8Array {
  const type = bytes[0];
  if (type !== MessageType.ratchet) fail('DecodeFailed', `message type ${String(type)}, expected ${MessageType.ratchet}`);
  const n = bytes.length - 1;
  if (n === 0 || n > MAX_INNER_MESSAGE) fail('DecodeFailed', `inner message of ${n} bytes`);
  return bytes.subarray(1);
}

/** The sender of a PreKeyMessage, without decrypting (for identity checks before accepting, P3). */
export function preKeyMessageSender(bytes: Uint8Array): { username: string; identity: IdentityPublic } {
  const m = decodePreKeyMessage(bytes);
  return { username: m.senderUsername, identity: m.senderIdentity };
}
