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
import { ByteReader, bytesEqual } from '../codec/bytes';
import { fail } from '../codec/errors';
import { KeyType, X25519_LEN } from '../codec/keys';
import type { Deps } from './deps';
import { encodeIdentityPublic, type IdentityKeyPair, type IdentityPublic } from './identity';
import { AEAD_TAG_LEN, aeadDecrypt, AEAD_NONCE_LEN, sha256, wipe } from './primitives';
import { MAX_PADDED_SEALED_CONTENT, decodeSealedContent, type ContentHint, type SealedContentType } from './sealed-content';
import { verifyOpenedSender, type OpenInput, type OpenedSealedSender } from './sealed-sender';
import { SEALED_SENDER_V3_VERSION, V2_KEY_MATERIAL_LEN } from './sealed-sender-v2';
import { KeyedSendPlan, SEAL_KEY_LEN, V3_INPUT_LEN, V3_KEYED_LABEL, V3_MASK_LEN, V3_MATERIAL_LEN, V3_TAG_LEN, v3PayloadKey } from './sealed-sender-v3-plan';
import type { SenderCertificate } from './certificates';
import { HeapArena } from './sodium-heap';

export { SEAL_KEY_LEN } from './sealed-sender-v3-plan';
const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const VERSION_BYTES = Uint8Array.of(SEALED_SENDER_V3_VERSION);
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
 * The opener's keyed hash: its input, the key and one output in ONE heap arena (sodium-heap.ts),
 * so a candidate costs one BLAKE2b and a small copy in, no allocation:
 *   [X (mask 32 || tag 16)] [input: L_keyed3 || 0x05 || R || D] [key k]
 */
class OpenerMaterial {
  private readonly arena: HeapArena;
  private readonly input = V3_MATERIAL_LEN;
  private readonly key = V3_MATERIAL_LEN + V3_INPUT_LEN;

  constructor(digest: Uint8Array, dhKey: Uint8Array) {
    if (dhKey.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${dhKey.length} bytes`);
    this.arena = new HeapArena(this.key + SEAL_KEY_LEN);
    this.arena.write(this.input, V3_KEYED_LABEL);
    this.arena.write(this.input + V3_KEYED_LABEL.length, Uint8Array.of(KeyType.X25519));
    this.arena.write(this.input + V3_KEYED_LABEL.length + 1, dhKey);
    this.arena.write(this.input + V3_INPUT_LEN - digest.length, digest);
  }

  /** X under `sealKey` into the output. */
  compute(sealKey: Uint8Array): void {
    if (sealKey.length !== SEAL_KEY_LEN) fail('InvalidKey', `seal key of ${sealKey.length} bytes, expected ${SEAL_KEY_LEN}`);
    this.arena.write(this.key, sealKey);
    this.arena.blake2b(0, V3_MATERIAL_LEN, this.input, V3_INPUT_LEN, this.key, SEAL_KEY_LEN);
  }

  /** The output: a view, valid until the next libsodium call. */
  view(): Uint8Array {
    return this.arena.view(0, V3_MATERIAL_LEN);
  }

  dispose(): void {
    this.arena.dispose();
  }
}

/**
 * The sent form: one payload, 48 bytes of key material per recipient account, no public-key
 * operation; after `headroom` zero bytes when asked. A plan made for this one send
 * (sealed-sender-v3-plan.ts), which a sender to the same list again keeps instead.
 */
export function sealSenderKeyed(input: SealKeyedInput, deps: Deps): Uint8Array {
  const plan = new KeyedSendPlan(input.recipients);
  try {
    return plan.trySeal(input, input.recipients, input.recipients.map((r) => r.sealKey), deps)!;
  } finally {
    plan.dispose();
  }
}

/** Opens a received v3 message with the seal keys we hold; the same checks and result as v1/v2. */
export function openSealedSenderV3(input: OpenKeyedInput, deps: Deps): OpenedKeyed {
  const m = input.message;
  if (m.length > MAX_SEALED_SENDER_V3_RECEIVED_LEN) fail('DecodeFailed', `sealed v3 message of ${m.length} bytes exceeds ${MAX_SEALED_SENDER_V3_RECEIVED_LEN}`);
  if (input.candidates.length > MAX_SEAL_KEY_CANDIDATES) fail('InvalidArgument', `${input.candidates.length} seal keys to try, at most ${MAX_SEAL_KEY_CANDIDATES}`);
  const r = new ByteReader(m, 'sealed v3 message');
  const v = r.u8();
  if (v !== SEALED_SENDER_V3_VERSION) fail('UnsupportedVersion', `sealed v3 message version ${v}`);
  const c = r.fixed(V3_MASK_LEN);
  const at = r.fixed(V3_TAG_LEN);
  const payload = r.rest();
  if (payload.length < AEAD_TAG_LEN + 1) fail('DecodeFailed', `sealed v3 payload of ${payload.length} bytes`);
  let M: Uint8Array | undefined;
  let K: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  let found = -1;
  let opened;
  const material = new OpenerMaterial(sha256(payload), input.ourIdentity.dh.publicKey);
  try {
    for (let i = 0; i < input.candidates.length && found < 0; i++) {
      material.compute(input.candidates[i]!.sealKey);
      if (bytesEqual(material.view().subarray(V3_MASK_LEN), at)) found = i;
    }
    if (found < 0) fail('InvalidMac', `none of ${input.candidates.length} seal keys opens this sealed v3 message`);
    M = material.view().subarray(0, V3_MASK_LEN).map((m, i) => m ^ c[i]!);
    K = v3PayloadKey(M);
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

