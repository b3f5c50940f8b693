/**
 * Sender-key wire formats (P20, P21), strict codecs.
 *
 *   GroupMessage (to every member at once, one upload):
 *     u8 type 0x03 || u8 version (1) || distributionId (16) || u32 iteration
 *     || AEAD ciphertext (padded plaintext, a multiple of 160 bytes, + 16-byte tag)
 *     || Ed25519 signature (64) by the sender's signing key
 *
 *   SenderKeyDistribution (to each member pairwise, inside the 1:1 Double Ratchet):
 *     u8 format (1) || groupId (32) || sender address || distributionId (16) || u32 iteration
 *     || chain key (32) || typed Ed25519 signing key (33)
 *
 * P20: the type byte 0x03 is neither of the 1:1 envelope types (0x01 PreKeyMessage, 0x02
 * RatchetMessage, message.ts), so each decoder refuses the other's bytes before any key is used;
 * sender-key.ts adds the cryptographic half (its own KDF label, and AD naming the group and
 * sender). Knows nothing of keys beyond their lengths.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';
import { PADDING_BLOCK, MAX_PADDED_LENGTH } from '../../codec/padding';
import { AEAD_TAG_LEN, SIGNATURE_LEN } from '../primitives';
import { readAddress, writeAddress, type Address } from './address';
import { GROUP_ID_LEN } from './group-state';

export const GROUP_MESSAGE_TYPE = 0x03;
export const GROUP_MESSAGE_VERSION = 1;
export const DISTRIBUTION_FORMAT = 1;
export const DISTRIBUTION_ID_LEN = 16;
export const CHAIN_KEY_LEN = 32;
/** type || version || distributionId || iteration */
export const GROUP_HEADER_LEN = 2 + DISTRIBUTION_ID_LEN + 4;

export interface GroupMessageHeader {
  readonly distributionId: Uint8Array;
  readonly iteration: number;
}

export interface DecodedGroupMessage extends GroupMessageHeader {
  /** Header bytes (a view): authenticated by the AEAD's AD and the signature. */
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** Everything the signature covers (a view: header and ciphertext). */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeGroupHeader(h: GroupMessageHeader): Uint8Array {
  if (h.distributionId.length !== DISTRIBUTION_ID_LEN) fail('InvalidArgument', `distribution id of ${h.distributionId.length} bytes`);
  if (!Number.isInteger(h.iteration) || h.iteration < 0 || h.iteration > 0xffff_ffff) fail('InvalidArgument', `iteration ${h.iteration}`);
  const out = new Uint8Array(GROUP_HEADER_LEN);
  out[0] = GROUP_MESSAGE_TYPE;
  out[1] = GROUP_MESSAGE_VERSION;
  out.set(h.distributionId, 2);
  new DataView(out.buffer).setUint32(2 + DISTRIBUTION_ID_LEN, h.iteration);
  return out;
}

/** Routing without keys: which of a sender's distributions (and which iteration) a message claims. */
export function peekGroupMessage(bytes: Uint8Array): GroupMessageHeader {
  if (bytes.length < GROUP_HEADER_LEN) fail('DecodeFailed', `group message of ${bytes.length} bytes`);
  if (bytes[0] !== GROUP_MESSAGE_TYPE) fail('DecodeFailed', `message type ${String(bytes[0])}, expected ${GROUP_MESSAGE_TYPE}`);
  if (bytes[1] !== GROUP_MESSAGE_VERSION) fail('UnsupportedVersion', `group message version ${String(bytes[1])}`);
  return {
    distributionId: bytes.slice(2, 2 + DISTRIBUTION_ID_LEN),
    iteration: new DataView(bytes.buffer, bytes.byteOffset).getUint32(2 + DISTRIBUTION_ID_LEN)
  };
}

export function decodeGroupMessage(bytes: Uint8Array): DecodedGroupMessage {
  const { distributionId, iteration } = peekGroupMessage(bytes);
  const ctLen = bytes.length - GROUP_HEADER_LEN - SIGNATURE_LEN;
  const padded = ctLen - AEAD_TAG_LEN;
  // The plaintext is padded to whole 160-byte blocks (codec/padding.ts): any other length is not ours.
  if (padded < PADDING_BLOCK || padded % PADDING_BLOCK !== 0 || padded > MAX_PADDED_LENGTH) {
    fail('DecodeFailed', `group message ciphertext of ${ctLen} bytes`);
  }
  return {
    distributionId,
    iteration,
    header: bytes.subarray(0, GROUP_HEADER_LEN),
    ciphertext: bytes.subarray(GROUP_HEADER_LEN, GROUP_HEADER_LEN + ctLen),
    signed: bytes.subarray(0, GROUP_HEADER_LEN + ctLen),
    signature: bytes.subarray(GROUP_HEADER_LEN + ctLen)
  };
}

export interface SenderKeyDistribution {
  readonly groupId: Uint8Array;
  readonly sender: Address;
  readonly distributionId: Uint8Array;
  /** The chain key below is this iteration's: messages before it cannot be read. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  /** Ed25519 public key that signs this distribution's messages. */
  readonly signingKey: Uint8Array;
}

export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Uint8Array {
  const w = new ByteWriter().u8(DISTRIBUTION_FORMAT).fixed(d.groupId, GROUP_ID_LEN);
  writeAddress(w, d.sender).fixed(d.distributionId, DISTRIBUTION_ID_LEN).u32(d.iteration).fixed(d.chainKey, CHAIN_KEY_LEN);
  return w.raw(encodeKey(KeyType.Ed25519, d.signingKey)).finish();
}

export function decodeSenderKeyDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(bytes, 'sender key distribution');
  const format = r.u8();
  if (format !== DISTRIBUTION_FORMAT) fail('UnsupportedVersion', `sender key distribution format ${format}`);
  const groupId = r.fixed(GROUP_ID_LEN);
  const sender = readAddress(r);
  const distributionId = r.fixed(DISTRIBUTION_ID_LEN);
  const iteration = r.u32();
  const chainKey = r.fixed(CHAIN_KEY_LEN);
  const signingKey = readKey(r, KeyType.Ed25519);
  r.end();
  return { groupId, sender, distributionId, iteration, chainKey, signingKey };
}
