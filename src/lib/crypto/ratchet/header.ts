/**
 * The Double Ratchet message header and message framing (Signal Double Ratchet spec rev. 1,
 * §3.1 HEADER; DESIGN.md §4 "Encoding"), strict.
 *
 *   header  = version u8 (1) || typed X25519 ratchet key (0x05 || 32 bytes) || u32 pn || u32 n
 *   message = header (42 bytes) || AEAD ciphertext (plaintext || 16-byte tag)
 *
 * Fixed length, so "session AD || header" is unambiguous. Decoding returns views into the message
 * (no copies) except the ratchet key, which may be stored in state and must not alias the input.
 * Knows nothing of keys beyond their encoding, nor of chains or state.
 */
import { fail } from '../../codec/errors';
import { AEAD_TAG_LEN, X25519_LEN } from '../primitives';
import { KeyType } from '../../codec/keys';

export const RATCHET_MESSAGE_VERSION = 1;
export const HEADER_LEN = 1 + 1 + X25519_LEN + 4 + 4;
/** Bytes a message adds to its plaintext: header plus AEAD tag. */
export const MESSAGE_OVERHEAD = HEADER_LEN + AEAD_TAG_LEN;

export interface RatchetHeader {
  /** The sender's current ratchet public key (DHs.public on their side). */
  ratchetKey: Uint8Array;
  /** Number of messages in the sender's previous sending chain. */
  pn: number;
  /** This message's number in the sender's current sending chain. */
  n: number;
}

export interface DecodedMessage {
  header: RatchetHeader;
  /** The exact header bytes (a view into the message), authenticated as part of the AD. */
  headerBytes: Uint8Array;
  /** Ciphertext with its tag (a view into the message). */
  ciphertext: Uint8Array;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
}

export function encodeHeader(h: RatchetHeader): Uint8Array {
  if (h.ratchetKey.length !== X25519_LEN) fail('InvalidKey', `ratchet key: ${h.ratchetKey.length} bytes, expected 32`);
  if (!isU32(h.pn) || !isU32(h.n)) fail('InvalidArgument', `header counters out of u32 range: pn ${h.pn}, n ${h.n}`);
  const out = new Uint8Array(HEADER_LEN);
  out[0] = RATCHET_MESSAGE_VERSION;
  out[1] = KeyType.X25519;
  out.set(h.ratchetKey, 2);
  const dv = new DataView(out.buffer);
  dv.setUint32(2 + X25519_LEN, h.pn);
  dv.setUint32(6 + X25519_LEN, h.n);
  return out;
}

export function decodeMessage(message: Uint8Array): DecodedMessage {
  if (message.length < 1) fail('DecodeFailed', 'ratchet message: empty');
  const version = message[0]!;
  if (version !== RATCHET_MESSAGE_VERSION) fail('UnsupportedVersion', `ratchet message version ${version}`);
  if (message.length < MESSAGE_OVERHEAD) {
    fail('DecodeFailed', `ratchet message: ${message.length} bytes, need at least ${MESSAGE_OVERHEAD}`);
  }
  const keyType = message[1]!;
  if (keyType !== KeyType.X25519) fail('InvalidKey', `ratchet key type ${keyType}, expected ${KeyType.X25519}`);
  const dv = new DataView(message.buffer, message.byteOffset, HEADER_LEN);
  return {
    header: {
      ratchetKey: message.slice(2, 2 + X25519_LEN),
      pn: dv.getUint32(2 + X25519_LEN),
      n: dv.getUint32(6 + X25519_LEN)
    },
    headerBytes: message.subarray(0, HEADER_LEN),
    ciphertext: message.subarray(HEADER_LEN)
  };
}
