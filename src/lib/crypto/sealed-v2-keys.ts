/**
 * Sealed sender v2's per-recipient key material, sending side (SECURITY.md P41; the formulas are
 * in sealed-sender-v2.ts):
 *
 *   C_i  = HKDF(0^32, DH(e, R_i), L_mask || Enc(E) || Enc(R_i), 32) XOR M
 *   AT_i = HKDF(0^32, DH(S, R_i), L_tag || Enc(E) || C_i || Enc(S) || Enc(R_i) || SHA-256(payload), 16)
 *
 * for every recipient in ONE HeapArena (sodium-heap.ts), no allocation per recipient. HKDF with
 * L <= 32 and a 32-byte salt is Extract (one HMAC) then one Expand block (one HMAC over
 * info || 0x01), so a recipient costs one X25519 and three HMAC-SHA-256 calls:
 * - the ephemeral DH(e, R_i) cannot be saved (e is fresh per message: that is what keeps the
 *   sealed layer of one message from opening another's);
 * - PRK_tag = HKDF-Extract(0^32, DH(S, R_i)) is the same for every message between S and R_i:
 *   with a SealedSenderCache it is computed once per identity pair (keyed by both public keys,
 *   so a changed key on either side is a new entry: never sealed with a stale key's secret).
 * The opener derives the same with hkdf.ts (sealed-sender-v2.ts `mask`, `tag`); every seal in the
 * tests is opened, and tests/vectors/sealed-sender.json freezes the bytes. Knows nothing of the
 * wire layout around the 48 bytes, of usernames or devices.
 */
import { fail } from '../codec/errors';
import type { ByteWriter } from '../codec/bytes';
import { KeyType, X25519_LEN, encodedKeyLength } from '../codec/keys';
import { hkdfExtract } from './hkdf';
import type { IdentityKeyPair } from './identity';
import { Labels, labelBytes } from './labels';
import { wipe, x25519 } from './primitives';
import type { SealedSenderCache } from './sealed-cache';
import { HeapArena } from './sodium-heap';

const ENC = encodedKeyLength(KeyType.X25519);
const MASK_LEN = 32;
export const V2_TAG_LEN = 16;
const ZERO_SALT = new Uint8Array(32);
/** The cache label of PRK_tag (one per identity pair). */
const TAG_KEY_LABEL = Labels.sealedMultiTag;

// Fixed slots of the arena, 32 bytes each, then the two info strings.
const E_PRIV = 0;
const R = 32;
const DH = 64;
const ZERO = 96;
const PRK = 128;
const MASK = 160;
const TAG_KEY = 192;
const TAG = 224;
const INFO = 256;

/** PRK_tag for (our identity, R): from the cache, else DH(S, R) (cached too) and one extract. */
function tagKey(ours: IdentityKeyPair, theirKey: Uint8Array, cache: SealedSenderCache | undefined): Uint8Array {
  const hit = cache?.derivedSecret(TAG_KEY_LABEL, ours.dh.publicKey, theirKey);
  if (hit) return hit;
  const dh = cache?.staticSecret(ours.dh.publicKey, theirKey) ?? x25519(ours.dh.privateKey, theirKey);
  try {
    const prk = hkdfExtract(ZERO_SALT, dh);
    cache?.rememberDerivedSecret(TAG_KEY_LABEL, ours.dh.publicKey, theirKey, prk);
    return prk;
  } finally {
    wipe(dh);
  }
}

export interface V2KeyMaterialInput {
  /** The message's ephemeral private key e and its encoding Enc(E). */
  ephemeralPrivate: Uint8Array;
  ephemeralEncoded: Uint8Array;
  /** The message's 32-byte M. */
  M: Uint8Array;
  ours: IdentityKeyPair;
  payloadDigest: Uint8Array;
  cache?: SealedSenderCache;
}

/** Writes C_i || AT_i per recipient; `dispose()` zeroes every secret it held. */
export class V2KeyMaterialWriter {
  private readonly arena: HeapArena;
  private readonly M: Uint8Array;
  /** Offsets of the mask info, of Enc(R_i)'s key bytes in it, and of the tag info's parts. */
  private readonly maskInfo: number;
  private readonly maskInfoLen: number;
  private readonly maskR: number;
  private readonly tagInfo: number;
  private readonly tagInfoLen: number;
  private readonly tagC: number;
  private readonly tagR: number;

  constructor(private readonly input: V2KeyMaterialInput) {
    const { ephemeralPrivate, ephemeralEncoded, M, ours, payloadDigest } = input;
    if (ephemeralPrivate.length !== 32 || ephemeralEncoded.length !== ENC || M.length !== MASK_LEN || payloadDigest.length !== 32) {
      fail('InvalidArgument', `v2 key material inputs of ${ephemeralPrivate.length}/${ephemeralEncoded.length}/${M.length}/${payloadDigest.length} bytes`);
    }
    const maskLabel = labelBytes(Labels.sealedMultiMask);
    const tagLabel = labelBytes(Labels.sealedMultiTag);
    this.maskInfoLen = maskLabel.length + ENC + ENC + 1;
    this.tagInfoLen = tagLabel.length + ENC + MASK_LEN + ENC + ENC + 32 + 1;
    this.maskInfo = INFO;
    this.tagInfo = INFO + this.maskInfoLen;
    this.arena = new HeapArena(this.tagInfo + this.tagInfoLen);
    this.M = M.slice();
    const a = this.arena;
    a.write(E_PRIV, ephemeralPrivate);
    // mask info: L_mask || Enc(E) || 0x05 R_i || 0x01 (the Expand counter)
    const m = this.maskInfo;
    this.maskR = m + maskLabel.length + ENC + 1;
    a.write(m, maskLabel);
    a.write(m + maskLabel.length, ephemeralEncoded);
    a.write(this.maskR - 1, Uint8Array.of(KeyType.X25519));
    a.write(this.maskR + X25519_LEN, Uint8Array.of(1));
    // tag info: L_tag || Enc(E) || C_i || Enc(S) || 0x05 R_i || digest || 0x01
    const t = this.tagInfo;
    this.tagC = t + tagLabel.length + ENC;
    const s = this.tagC + MASK_LEN;
    this.tagR = s + ENC + 1;
    a.write(t, tagLabel);
    a.write(t + tagLabel.length, ephemeralEncoded);
    a.write(s, Uint8Array.of(KeyType.X25519));
    a.write(s + 1, ours.dh.publicKey);
    a.write(this.tagR - 1, Uint8Array.of(KeyType.X25519));
    a.write(this.tagR + X25519_LEN, payloadDigest);
    a.write(this.tagR + X25519_LEN + 32, Uint8Array.of(1));
  }

  /** Appends recipient `theirKey`'s C_i || AT_i (48 bytes) to `w`. */
  write(w: ByteWriter, theirKey: Uint8Array): void {
    if (theirKey.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${theirKey.length} bytes`);
    const a = this.arena;
    a.write(R, theirKey);
    if (!a.x25519(DH, E_PRIV, R)) fail('InvalidKey', 'x25519: low-order public key');
    a.hmacSha256(PRK, DH, 32, ZERO);
    a.write(this.maskR, theirKey);
    a.hmacSha256(MASK, this.maskInfo, this.maskInfoLen, PRK);
    const c = a.view(this.tagC, MASK_LEN);
    const mask = a.view(MASK, MASK_LEN);
    for (let i = 0; i < MASK_LEN; i++) c[i] = mask[i]! ^ this.M[i]!;
    const key = tagKey(this.input.ours, theirKey, this.input.cache);
    try {
      a.write(TAG_KEY, key);
    } finally {
      wipe(key);
    }
    a.write(this.tagR, theirKey);
    a.hmacSha256(TAG, this.tagInfo, this.tagInfoLen, TAG_KEY);
    w.raw(a.view(this.tagC, MASK_LEN)).raw(a.view(TAG, V2_TAG_LEN));
  }

  dispose(): void {
    this.arena.dispose();
    wipe(this.M);
  }
}
