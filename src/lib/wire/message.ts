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
import { fail } from '../crypto/errors';
import { encodeIdentityPublic, readIdentityPublic, type IdentityPublic } from '../crypto/identity';
import type { PqxdhHeader } from '../crypto/pqxdh';
import { MLKEM_CIPHERTEXT_LEN } from '../crypto/primitives';
import { ByteReader, ByteWriter } from './bytes';
import { readUsername, writeUsername } from './bundle';
import { KeyType, encodeKey, readKey } from './keys';

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

export function encodePreKeyMessage(m: PreKeyMessage): Uint8Array {
  if (m.version !== PREKEY_MESSAGE_VERSION) fail('UnsupportedVersion', `prekey message version ${m.version}`);
  if (m.message.length > MAX_INNER_MESSAGE) fail('InvalidArgument', `inner message of ${m.message.length} bytes`);
  const w = new ByteWriter().u8(MessageType.preKey).u8(m.version);
  writeUsername(w, m.senderUsername).raw(encodeIdentityPublic(m.senderIdentity)).u32(m.signedPreKeyId);
  if (m.oneTimePreKeyId !== undefined) w.u8(1).u32(m.oneTimePreKeyId);
  else w.u8(0);
  return w
    .u32(m.kemPreKeyId)
    .raw(encodeKey(KeyType.X25519, m.baseKey))
    .fixed(m.kemCiphertext, MLKEM_CIPHERTEXT_LEN)
    .bytes32(m.message)
    .finish();
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

export function encodeRatchetMessage(inner: Uint8Array): Uint8Array {
  if (inner.length > MAX_INNER_MESSAGE) fail('InvalidArgument', `inner message of ${inner.length} bytes`);
  return new ByteWriter().u8(MessageType.ratchet).raw(inner).finish();
}

export function decodeRatchetMessage(bytes: Uint8Array): Uint8Array {
  const r = new ByteReader(bytes, 'ratchet message');
  const type = r.u8();
  if (type !== MessageType.ratchet) fail('DecodeFailed', `message type ${type}, expected ${MessageType.ratchet}`);
  if (r.remaining === 0 || r.remaining > MAX_INNER_MESSAGE) fail('DecodeFailed', `inner message of ${r.remaining} bytes`);
  return r.rest();
}

/** The sender of a PreKeyMessage, without decrypting (for identity checks before accepting, P3). */
export function preKeyMessageSender(bytes: Uint8Array): { username: string; identity: IdentityPublic } {
  const m = decodePreKeyMessage(bytes);
  return { username: m.senderUsername, identity: m.senderIdentity };
}
