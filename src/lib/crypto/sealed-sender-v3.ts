/**
 * Sealed sender v3: multi-recipient with per-pair seal keys (SECURITY.md P41; README "Groups",
 * *Sealed sender v3*). v2 (sealed-sender-v2.ts) pays one X25519 per recipient per message, which
 * bounds a 1,000-member send near 90 ms in libsodium's wasm; v3 takes every public-key operation
 * out of the per-message path. k_i is a random 32-byte seal key the sender drew for recipient i
 * and gave it pairwise, inside the ratchet, with its sender-key distribution; both sides delete it
 * with that distribution, so the sealed layer is forward-secret per sender-key epoch.
 *
 *   M       = 32 random bytes
 *   K       = HKDF(0^32, M, L_payload3, 32)
 *   payload = AEAD(K, 0^24, SealedContent padded, ad = v)
 *   D       = SHA-256(payload)
 *   X_i     = BLAKE2b-384(key k_i, L_keyed3 || Enc(R_i) || D)
 *   C_i     = X_i[0..32] XOR M
 *   AT_i    = X_i[32..48]
 *
 *   sent      v || u16 n || n x (username || u8 d || d x u32 device || C_i || AT_i) || payload
 *   received  v || C_i || AT_i || payload
 *
 * (v2's layouts without Enc(E); the host parses and delivers both with sealed-sender-v2.ts.)
 *
 * The recipient does not know the sender before it opens the layer: it tries the seal keys it
 * holds (`candidates`), one keyed hash each, and the tag picks the one (a 128-bit PRF output under
 * a key only the sender and this recipient hold). Then M, K and the payload; the certificate
 * inside must name exactly the account and identity the seal key was given by (a member's key
 * cannot carry another's certificate), and passes v1's checks (sealed-sender.ts
 * `verifyOpenedSender`). AT_i covers D, so a co-recipient, who learns M and K, cannot re-encrypt a
 * payload of its own for recipient i: it lacks k_i. AT_i need not cover C_i: a C_i changed in
 * transit gives another M, hence another K, and the payload D pins no longer opens (InvalidMac).
 * A host that moves one recipient's 48 bytes to another finds no key that fits (Enc(R_i) is in
 * the input). One hash per recipient (v2 pays an X25519 and three HMACs); K is used once, as in v2.
 *
 * What it costs against v2: the sealed layer now proves the sender through the distribution the
 * seal key came with (the ratchet session's authentication), not a static DH; and a recipient who
 * lost that distribution cannot open the layer at all (v2 would open it and name the sender), so
 * senders use v3 only toward members they gave a seal key in the current epoch.
 * Knows nothing of storage, groups or the network.
 */
import { ByteReader, ByteWriter, bytesEqual } from '../codec/bytes';
import { fail } from '../codec/errors';
import { KeyType, X25519_LEN, encodedKeyLength } from '../codec/keys';
import { writeCanonicalUsername } from '../codec/username';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { encodeIdentityPublic, type IdentityKeyPair, type IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadDecrypt, aeadEncrypt, sha256, wipe } from './primitives';
import { MAX_PADDED_SEALED_CONTENT, decodeSealedContent, type ContentHint, type SealedContentType } from './sealed-content';
import { verifyOpenedSender, type OpenInput, type OpenedSealedSender } from './sealed-sender';
import { SEALED_SENDER_V3_VERSION, V2_KEY_MATERIAL_LEN, multiPlaintext, type V2Recipient } from './sealed-sender-v2';
import type { SenderCertificate } from './certificates';
import { HeapArena } from './sodium-heap';

export const SEAL_KEY_LEN = 32;
const MASK_LEN = 32;
const TAG_LEN = 16;
const DIGEST_LEN = 32;
const ENC = encodedKeyLength(KeyType.X25519);
const ZERO_SALT = new Uint8Array(32);
const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const VERSION_BYTES = Uint8Array.of(SEALED_SENDER_V3_VERSION);
const LABEL = labelBytes(Labels.sealedKeyedMaterial);
/** X_i: the mask over M, then the tag. */
const MATERIAL_LEN = MASK_LEN + TAG_LEN;
/** Enough for the upload's tokens (2 + 1,000 x 33 bytes) with room to spare. */
const MAX_HEADROOM = 1 << 16;
/** The largest received message an opener accepts. */
export const MAX_SEALED_SENDER_V3_RECEIVED_LEN = 1 + V2_KEY_MATERIAL_LEN + MAX_PADDED_SEALED_CONTENT + AEAD_TAG_LEN;
/**
 * Seal keys one open may try: a bound on a caller's mistake, far above what a vault holds (two per
 * other member per group: 100 groups of 1,000 members is 200,000, about 60 ms to try them all).
 */
export const MAX_SEAL_KEY_CANDIDATES = 250_000;

export interface V3Recipient {
  username: string;
  /** Devices of that account to deliver to, ascending, each 1..MAX_DEVICE_ID. */
  devices: readonly number[];
  identity: IdentityPublic;
  /** The seal key we gave this account with our current distribution. */
  sealKey: Uint8Array;
}

export interface SealKeyedInput {
  ourIdentity: IdentityKeyPair;
  senderCertificate: SenderCertificate;
  recipients: readonly V3Recipient[];
  contentType: SealedContentType;
  contentHint?: ContentHint;
  groupId?: Uint8Array;
  content: Uint8Array;
  /** Zero bytes to leave ahead of the sent form for the caller's framing (wire/sealed-multi-api.ts). */
  headroom?: number;
}

/** A seal key someone gave us, with the account and identity (encodeIdentityPublic) it came under. */
export interface SealKeyCandidate {
  sealKey: Uint8Array;
  username: string;
  identity: Uint8Array;
}

export interface OpenKeyedInput extends OpenInput {
  candidates: readonly SealKeyCandidate[];
}

export interface OpenedKeyed extends OpenedSealedSender {
  /** Index in `candidates` of the seal key that opened it. */
  candidate: number;
}

/**
 * The keyed-hash input, the key and `slots` outputs in ONE heap arena (sodium-heap.ts), so a
 * recipient or a candidate costs one BLAKE2b and two small copies in, no allocation. The outputs
 * come first, where the arena's own alignment lets `mask` work by words:
 *   [slots x X (mask 32 || tag 16)] [input: L_keyed3 || 0x05 || R || D] [key k]
 */
class KeyedMaterial {
  private readonly arena: HeapArena;
  private readonly input: number;
  private readonly inputLen = LABEL.length + ENC + DIGEST_LEN;
  private readonly r: number;
  private readonly key: number;

  constructor(digest: Uint8Array, private readonly slots = 1) {
    this.input = slots * MATERIAL_LEN;
    this.r = this.input + LABEL.length + 1;
    this.key = this.input + this.inputLen;
    this.arena = new HeapArena(this.key + SEAL_KEY_LEN);
    this.arena.write(this.input, LABEL);
    this.arena.write(this.input + LABEL.length, Uint8Array.of(KeyType.X25519));
    this.arena.write(this.r + X25519_LEN, digest);
  }

  /** R (a recipient's identity DH key) into the input. */
  recipient(dhKey: Uint8Array): void {
    if (dhKey.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${dhKey.length} bytes`);
    this.arena.write(this.r, dhKey);
  }

  /** X under `sealKey` into output `slot`. */
  compute(sealKey: Uint8Array, slot = 0): void {
    if (sealKey.length !== SEAL_KEY_LEN) fail('InvalidKey', `seal key of ${sealKey.length} bytes, expected ${SEAL_KEY_LEN}`);
    this.arena.write(this.key, sealKey);
    this.arena.blake2b(slot * MATERIAL_LEN, MATERIAL_LEN, this.input, this.inputLen, this.key, SEAL_KEY_LEN);
  }

  /** Every output's mask XOR `m`, in place: C_i, leaving AT_i as it is. */
  mask(m: Uint8Array): void {
    this.arena.xorSlots(0, MATERIAL_LEN, this.slots, m);
  }

  /** Output `slot`: a view, valid until the next libsodium call. */
  view(slot = 0): Uint8Array {
    return this.arena.view(slot * MATERIAL_LEN, MATERIAL_LEN);
  }

  /** Every output, slot after slot: a view, valid until the next libsodium call. */
  viewAll(): Uint8Array {
    return this.arena.view(0, this.slots * MATERIAL_LEN);
  }

  dispose(): void {
    this.arena.dispose();
  }
}

function payloadKey(M: Uint8Array): Uint8Array {
  return hkdf(ZERO_SALT, M, labelBytes(Labels.sealedKeyedPayload), 32);
}

/**
 * The sent form: one payload, 48 bytes of key material per recipient account, no public-key
 * operation; after `headroom` zero bytes when asked.
 */
export function sealSenderKeyed(input: SealKeyedInput, deps: Deps): Uint8Array {
  const { n, names, plain } = multiPlaintext(input, deps);
  const M = deps.rng(32);
  const K = payloadKey(M);
  let material: KeyedMaterial | undefined;
  try {
    const payload = aeadEncrypt(K, ZERO_NONCE, plain, VERSION_BYTES);
    // Every X_i first, one BLAKE2b each, in the arena; then C_i = mask XOR M there, by words.
    material = new KeyedMaterial(sha256(payload), n);
    for (let i = 0; i < n; i++) {
      const r = input.recipients[i]!;
      material.recipient(r.identity.dhKey);
      material.compute(r.sealKey, i);
    }
    material.mask(M);
    // The sent form at its exact size (so `finish` hands over the buffer, no copy), each
    // recipient's C_i || AT_i straight from the arena: no libsodium call until the loop ends.
    const headroom = input.headroom ?? 0;
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > MAX_HEADROOM) fail('InvalidArgument', `headroom of ${headroom} bytes`);
    let size = headroom + 3 + payload.length;
    for (let i = 0; i < n; i++) size += 2 + names[i]!.length + 4 * input.recipients[i]!.devices.length + MATERIAL_LEN;
    const w = new ByteWriter(size).raw(new Uint8Array(headroom)).raw(VERSION_BYTES).u16(n);
    const xs = material.viewAll();
    for (let i = 0; i < n; i++) {
      const r = input.recipients[i]!;
      writeCanonicalUsername(w, names[i]!).u8(r.devices.length);
      for (const d of r.devices) w.u32(d);
      w.raw(xs.subarray(i * MATERIAL_LEN, (i + 1) * MATERIAL_LEN));
    }
    const out = w.raw(payload).finish();
    return out;
  } finally {
    material?.dispose();
    wipe(M, K, plain);
  }
}

/**
 * `recipients` each with its seal key (same order), as `sealSenderKeyed` takes them: a literal
 * of one shape, not a spread, which at 1,000 members cost a fifth of the send.
 */
export function withSealKeys(recipients: readonly V2Recipient[], sealKeys: readonly Uint8Array[]): V3Recipient[] {
  if (sealKeys.length !== recipients.length) fail('InvalidArgument', `${sealKeys.length} seal keys for ${recipients.length} recipients`);
  return recipients.map((r, i) => ({ username: r.username, devices: r.devices, identity: r.identity, sealKey: sealKeys[i]! }));
}

/** Opens a received v3 message with the seal keys we hold; the same checks and result as v1/v2. */
export function openSealedSenderV3(input: OpenKeyedInput, deps: Deps): OpenedKeyed {
  const m = input.message;
  if (m.length > MAX_SEALED_SENDER_V3_RECEIVED_LEN) fail('DecodeFailed', `sealed v3 message of ${m.length} bytes exceeds ${MAX_SEALED_SENDER_V3_RECEIVED_LEN}`);
  if (input.candidates.length > MAX_SEAL_KEY_CANDIDATES) fail('InvalidArgument', `${input.candidates.length} seal keys to try, at most ${MAX_SEAL_KEY_CANDIDATES}`);
  const r = new ByteReader(m, 'sealed v3 message');
  const v = r.u8();
  if (v !== SEALED_SENDER_V3_VERSION) fail('UnsupportedVersion', `sealed v3 message version ${v}`);
  const c = r.fixed(MASK_LEN);
  const at = r.fixed(TAG_LEN);
  const payload = r.rest();
  if (payload.length < AEAD_TAG_LEN + 1) fail('DecodeFailed', `sealed v3 payload of ${payload.length} bytes`);
  let M: Uint8Array | undefined;
  let K: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  let found = -1;
  let opened;
  const material = new KeyedMaterial(sha256(payload));
  try {
    material.recipient(input.ourIdentity.dh.publicKey);
    for (let i = 0; i < input.candidates.length && found < 0; i++) {
      material.compute(input.candidates[i]!.sealKey);
      if (bytesEqual(material.view().subarray(MASK_LEN), at)) found = i;
    }
    if (found < 0) fail('InvalidMac', `none of ${input.candidates.length} seal keys opens this sealed v3 message`);
    M = material.view().subarray(0, MASK_LEN).map((m, i) => m ^ c[i]!);
    K = payloadKey(M);
    plain = aeadDecrypt(K, ZERO_NONCE, payload, VERSION_BYTES);
    opened = decodeSealedContent(plain);
  } finally {
    material.dispose();
    wipe(M, K, plain);
  }
  const candidate = input.candidates[found]!;
  const sender = opened.senderCertificate;
  // The seal key was given by one account under one identity: the certificate must be that one.
  if (sender.username !== candidate.username || !bytesEqual(encodeIdentityPublic(sender.identity), candidate.identity)) {
    fail('UntrustedIdentity', 'sender certificate is not the account that gave this seal key');
  }
  verifyOpenedSender(sender, input, deps);
  return { sender, contentType: opened.contentType, contentHint: opened.contentHint, groupId: opened.groupId, content: opened.content, candidate: found };
}

