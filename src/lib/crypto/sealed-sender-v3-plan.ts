/**
 * The sealed sender v3 send, prepared once per recipient list (SECURITY.md P41; the construction
 * is in sealed-sender-v3.ts; README "Groups", *Sealed sender v3*). A group sends to the same
 * members with the same seal keys until someone joins, leaves or the sender key rotates, so what
 * depends only on them is done once, in a `KeyedSendPlan`:
 * - the list is checked (canonical names, none twice, devices) and its part of the sent form
 *   (u16 n, then each username || u8 d || d x u32 device, a 48-byte gap for C_i || AT_i) is
 *   encoded once, as a template;
 * - one heap arena (sodium-heap.ts) holds each recipient's keyed-hash input with its Enc(R_i)
 *   written in, and room for the seal keys:
 *     [n x X_i (mask 32 || tag 16)] [n x (L_keyed3 || 0x05 || R_i || D)] [n x k_i]
 * A send writes the seal keys in, D into every input, runs n keyed BLAKE2b in one loop, XORs M
 * into every mask by words, copies each output into the template's gap and zeroes the keys and
 * outputs again: the same bytes as before (the frozen v3 vectors pass through `sealSenderKeyed`,
 * which is a one-use plan).
 *
 * A plan serves only its own list: `trySeal` compares the names and devices in order and seals
 * nothing for another list; an identity object it was not made with is written in afresh.
 * `KeyedPlanCache` keeps the few plans a vault uses (one per group it sends to); they hold public
 * keys and names, no secret, between sends.
 * Knows nothing of storage, groups or the network.
 */
import { ByteWriter } from '../codec/bytes';
import { fail } from '../codec/errors';
import { KeyType, X25519_LEN, encodedKeyLength } from '../codec/keys';
import { writeCanonicalUsername, type Username } from '../codec/username';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, aeadEncrypt, sha256, wipe } from './primitives';
import { SEALED_SENDER_V3_VERSION, checkRecipientList, sealedPlaintext, type SealMultiInput, type V2Recipient } from './sealed-sender-v2';
import { HeapArena } from './sodium-heap';

export const SEAL_KEY_LEN = 32;
export const V3_MASK_LEN = 32;
export const V3_TAG_LEN = 16;
/** X_i: the mask over M, then the tag. */
export const V3_MATERIAL_LEN = V3_MASK_LEN + V3_TAG_LEN;
export const V3_DIGEST_LEN = 32;
const ENC = encodedKeyLength(KeyType.X25519);
const ZERO_SALT = new Uint8Array(32);
const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const VERSION_BYTES = Uint8Array.of(SEALED_SENDER_V3_VERSION);
export const V3_KEYED_LABEL = labelBytes(Labels.sealedKeyedMaterial);
/** One recipient's keyed-hash input: L_keyed3 || Enc(R_i) || D. */
export const V3_INPUT_LEN = V3_KEYED_LABEL.length + ENC + V3_DIGEST_LEN;
/** Enough for the upload's tokens (2 + 1,000 x 33 bytes) with room to spare. */
const MAX_HEADROOM = 1 << 16;

/** K = HKDF(0^32, M, L_payload3, 32). */
export function v3PayloadKey(M: Uint8Array): Uint8Array {
  return hkdf(ZERO_SALT, M, labelBytes(Labels.sealedKeyedPayload), 32);
}

/** A recipient as a plan takes it: the v2 recipient; its seal key comes beside it. */
export type PlanRecipient = Pick<V2Recipient, 'username' | 'devices' | 'identity'>;

export type KeyedSealInput = Omit<SealMultiInput, 'recipients' | 'cache'> & {
  /** Zero bytes to leave ahead of the sent form for the caller's framing (wire/sealed-multi-api.ts). */
  headroom?: number;
};

export class KeyedSendPlan {
  readonly n: number;
  private readonly names: readonly Username[];
  private readonly devices: readonly (readonly number[])[];
  /** The identity each input's Enc(R_i) was written from (public; another object is written in afresh). */
  private readonly identities: PlanRecipient['identity'][];
  private readonly arena: HeapArena;
  private readonly inputs: number;
  private readonly keys: number;
  /** The sent form's recipient part with a zero gap per recipient, and where each gap starts. */
  private readonly template: Uint8Array;
  private readonly gaps: Int32Array;

  constructor(recipients: readonly PlanRecipient[]) {
    this.names = checkRecipientList(recipients);
    const n = (this.n = this.names.length);
    this.devices = recipients.map((r) => r.devices.slice());
    this.identities = recipients.map((r) => r.identity);
    for (const r of recipients) if (r.identity.dhKey.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${r.identity.dhKey.length} bytes`);
    let size = 2;
    for (let i = 0; i < n; i++) size += 2 + this.names[i]!.length + 4 * this.devices[i]!.length + V3_MATERIAL_LEN;
    const w = new ByteWriter(size).u16(n);
    this.gaps = new Int32Array(n);
    const gap = new Uint8Array(V3_MATERIAL_LEN);
    for (let i = 0; i < n; i++) {
      writeCanonicalUsername(w, this.names[i]!).u8(this.devices[i]!.length);
      for (const d of this.devices[i]!) w.u32(d);
      this.gaps[i] = w.length;
      w.raw(gap);
    }
    this.template = w.finish();
    this.inputs = n * V3_MATERIAL_LEN;
    this.keys = this.inputs + n * V3_INPUT_LEN;
    this.arena = new HeapArena(this.keys + n * SEAL_KEY_LEN);
    const head = new Uint8Array(V3_KEYED_LABEL.length + 1);
    head.set(V3_KEYED_LABEL);
    head[V3_KEYED_LABEL.length] = KeyType.X25519;
    this.arena.writeStrided(this.inputs, V3_INPUT_LEN, n, head);
    for (let i = 0; i < n; i++) this.arena.write(this.inputs + i * V3_INPUT_LEN + head.length, recipients[i]!.identity.dhKey);
  }

  /**
   * The sent form of `input` to `recipients` under `sealKeys` (one per recipient, same order),
   * after `headroom` zero bytes when asked; undefined, with nothing sealed, when `recipients` is
   * not this plan's list (names and devices in order). Each send writes the seal keys in afresh and
   * zeroes them after, so a kept plan holds no secret between sends; an identity key that changed
   * is written in afresh too.
   */
  trySeal(input: KeyedSealInput, recipients: readonly PlanRecipient[], sealKeys: readonly Uint8Array[], deps: Deps): Uint8Array | undefined {
    const n = this.n;
    if (recipients.length !== n) return undefined;
    if (sealKeys.length !== n) fail('InvalidArgument', `${sealKeys.length} seal keys for ${n} recipients`);
    const headroom = input.headroom ?? 0;
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > MAX_HEADROOM) fail('InvalidArgument', `headroom of ${headroom} bytes`);
    for (let i = 0; i < n; i++) {
      const r = recipients[i]!;
      if (r.username !== this.names[i]) return undefined;
      const d = this.devices[i]!;
      if (r.devices.length !== d.length) return undefined;
      for (let j = 0; j < d.length; j++) if (r.devices[j] !== d[j]) return undefined;
    }
    let M: Uint8Array | undefined;
    let K: Uint8Array | undefined;
    let plain: Uint8Array | undefined;
    try {
      const rAt = this.inputs + V3_KEYED_LABEL.length + 1;
      for (let i = 0; i < n; i++) {
        const id = recipients[i]!.identity;
        if (id !== this.identities[i]) {
          if (id.dhKey.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${id.dhKey.length} bytes`);
          this.arena.write(rAt + i * V3_INPUT_LEN, id.dhKey);
          this.identities[i] = id;
        }
        const k = sealKeys[i]!;
        if (k.length !== SEAL_KEY_LEN) fail('InvalidKey', `seal key of ${k.length} bytes, expected ${SEAL_KEY_LEN}`);
        this.arena.write(this.keys + i * SEAL_KEY_LEN, k);
      }
      plain = sealedPlaintext(input, deps);
      M = deps.rng(32);
      K = v3PayloadKey(M);
      const payload = aeadEncrypt(K, ZERO_NONCE, plain, VERSION_BYTES);
      // D into every input; every X_i in one loop; C_i = mask XOR M, by words.
      this.arena.writeStrided(this.inputs + V3_INPUT_LEN - V3_DIGEST_LEN, V3_INPUT_LEN, n, sha256(payload));
      this.arena.blake2bMany(
        { at: 0, stride: V3_MATERIAL_LEN, length: V3_MATERIAL_LEN },
        { at: this.inputs, stride: V3_INPUT_LEN, length: V3_INPUT_LEN },
        { at: this.keys, stride: SEAL_KEY_LEN, length: SEAL_KEY_LEN },
        n
      );
      this.arena.xorSlots(0, V3_MATERIAL_LEN, n, M);
      // The sent form at its exact size: headroom, v, the template, each C_i || AT_i into its gap
      // straight from the arena (no libsodium call until the loop ends), the payload.
      const at = headroom + 1;
      const out = new Uint8Array(at + this.template.length + payload.length);
      out[headroom] = SEALED_SENDER_V3_VERSION;
      out.set(this.template, at);
      const xs = this.arena.view(0, n * V3_MATERIAL_LEN);
      for (let i = 0; i < n; i++) out.set(xs.subarray(i * V3_MATERIAL_LEN, (i + 1) * V3_MATERIAL_LEN), at + this.gaps[i]!);
      out.set(payload, at + this.template.length);
      return out;
    } finally {
      // The seal keys, and the outputs (masks over M), do not stay in a kept plan.
      this.arena.view(this.keys, n * SEAL_KEY_LEN).fill(0);
      this.arena.view(0, n * V3_MATERIAL_LEN).fill(0);
      if (M) wipe(M);
      if (K) wipe(K);
      if (plain) wipe(plain);
    }
  }

  /** Zeroes and frees the arena; safe to call twice. */
  dispose(): void {
    this.arena.dispose();
  }
}

/** Plans kept: one per group a vault sends to, a few at a time (a 1,000-member plan is ~170 KB of heap). */
export const KEYED_PLAN_CAPACITY = 4;

/**
 * One plan per group (the caller's key), for the last few groups sent to; the least recently
 * used goes first. Plans hold public keys and names only (trySeal zeroes the seal keys after
 * each send), so keeping them keeps no secret.
 */
export class KeyedPlanCache {
  private readonly plans = new Map<string, KeyedSendPlan>();

  constructor(private readonly capacity = KEYED_PLAN_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) fail('InvalidArgument', `plan cache of ${capacity}`);
  }

  /** `input` sealed to `recipients` under `sealKeys` with group `key`'s plan: the kept one if the list is the same, else a new one in its place. */
  seal(key: string, input: KeyedSealInput, recipients: readonly PlanRecipient[], sealKeys: readonly Uint8Array[], deps: Deps): Uint8Array {
    const kept = this.plans.get(key);
    this.plans.delete(key);
    let sealed: Uint8Array | undefined;
    try {
      sealed = kept?.trySeal(input, recipients, sealKeys, deps);
    } catch (e) {
      kept?.dispose();
      throw e;
    }
    if (sealed) {
      this.plans.set(key, kept!);
      return sealed;
    }
    kept?.dispose();
    const plan = new KeyedSendPlan(recipients);
    this.plans.set(key, plan);
    for (const [k, old] of this.plans) {
      if (this.plans.size <= this.capacity) break;
      old.dispose();
      this.plans.delete(k);
    }
    return plan.trySeal(input, recipients, sealKeys, deps)!;
  }

  get size(): number {
    return this.plans.size;
  }

  /** Drops every plan (freeing its heap). */
  clear(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
  }
}
