/**
 * Sealed sender v2, multi-recipient (SECURITY.md P41; DESIGN.md §4: "one multi-recipient sealed
 * upload that the host fans out"), after Signal's sealed sender v2 (libsignal
 * rust/protocol/src/sealed_sender.rs `sealed_sender_multi_recipient_encrypt`; Barbosa,
 * "Randomness Reuse", §4.1): the payload is encrypted once, and each recipient gets 48 bytes of key
 * material. R_i = recipient i's IKd, S = the sender's IKd.
 *
 *   M       = 32 random bytes
 *   e, E    = X25519 key pair with e = HKDF(0^32, M, L_eph, 32)
 *   K       = HKDF(0^32, M, L_payload, 32)
 *   payload = AEAD(K, 0^24, SealedContent padded, ad = v || Enc(E))
 *   C_i     = HKDF(0^32, DH(e, R_i), L_mask || Enc(E) || Enc(R_i), 32) XOR M
 *   AT_i    = HKDF(0^32, DH(S, R_i), L_tag || Enc(E) || C_i || Enc(S) || Enc(R_i) || SHA-256(payload), 16)
 *
 *   sent      v || u16 n || n x (username || u8 d || d x u32 device || C_i || AT_i) ||
 *             Enc(E) || payload                                  what the sender uploads
 *   received  v || C_i || AT_i || Enc(E) || payload              what the host delivers to each
 *
 * The recipient recovers M from C_i, re-derives e and insists that it gives E (so C_i cannot be
 * rewritten to another M), opens the payload, and only then learns S from the certificate inside:
 * AT_i, which needs S's or R_i's private key, must match, else someone wrapped a certificate that
 * is not theirs (InvalidMac: the tag is the only proof of S here, unlike v1's static layer). Then
 * the same checks as v1 (sealed-sender.ts `verifyOpenedSender`). K is used once (M is fresh), so
 * a constant nonce is safe.
 *
 * Beyond Signal's v2: AT_i also covers SHA-256 of the payload. Every recipient learns M and K, so
 * without this a co-recipient could re-encrypt a payload of its choosing (with the sender's
 * certificate inside) under K and deliver it to another recipient with that recipient's untouched
 * C_i and AT_i; Signal leaves that to the inner message's own authentication. Here the sealed
 * layer itself refuses it, at the cost of one hash of the payload on each side.
 *
 * Recipients are accounts (identity keys are per account), each with the devices to deliver to
 * (DESIGN.md §4 "Addresses"); usernames are unique in a message, device ids unique and ascending.
 * The host parses the sent form with `parseSealedSenderV2Sent` (strict, bounded, no keys needed)
 * and delivers `receivedSealedSenderV2(...)` to each listed device, after checking each
 * recipient's delivery token (delivery-token.ts) or a future group credential. The sender's
 * per-recipient C_i || AT_i are computed in sealed-v2-keys.ts (one heap arena for all recipients,
 * the per-pair tag key cached); `mask` and `tag` below are the opener's, from the formulas.
 * Knows nothing of storage, the network, or which recipients a group has.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../codec/bytes';
import { KeyType, encodeKey, encodedKeyLength, readKey } from '../codec/keys';
import { asUsername, readUsername, writeCanonicalUsername, type Username } from '../codec/username';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import type { IdentityKeyPair, IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadDecrypt, aeadEncrypt, sha256, wipe, x25519, x25519PublicFromPrivate } from './primitives';
import type { SealedSenderCache } from './sealed-cache';
import { ContentHint, MAX_PADDED_SEALED_CONTENT, decodeSealedContent, encodeSealedContent, type SealedContent, type SealedContentType } from './sealed-content';
import { checkOwnCertificate, verifyOpenedSender, type OpenInput, type OpenedSealedSender } from './sealed-sender';
import { MAX_DEVICE_ID, type SenderCertificate } from './certificates';
import { V2KeyMaterialWriter, V2_TAG_LEN } from './sealed-v2-keys';

/** Wire version of both the sent and the received form (they never share a decoder). */
export const SEALED_SENDER_V2_VERSION = 0x02;
/**
 * Sealed sender v3 (sealed-sender-v3.ts) has v2's sent and received layouts, with no Enc(E) in the
 * shared part and the 48 bytes per recipient keyed by a pair's seal key instead of DH(e, R_i): the
 * host parses and delivers both with the functions below, keeping the version it was given.
 */
export const SEALED_SENDER_V3_VERSION = 0x03;
/** Recipient accounts in one upload (a large group's members). */
export const MAX_V2_RECIPIENTS = 1000;
/** Devices of one recipient account in one upload. */
export const MAX_V2_DEVICES = 32;
const MASK_LEN = 32;
const TAG_LEN = V2_TAG_LEN;
/** C_i || AT_i */
export const V2_KEY_MATERIAL_LEN = MASK_LEN + TAG_LEN;
const X25519_ENC_LEN = encodedKeyLength(KeyType.X25519);
const ZERO_SALT = new Uint8Array(32);
const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const VERSION_BYTES = Uint8Array.of(SEALED_SENDER_V2_VERSION);
/** The largest received message an opener accepts. */
export const MAX_SEALED_SENDER_V2_RECEIVED_LEN = 1 + V2_KEY_MATERIAL_LEN + X25519_ENC_LEN + MAX_PADDED_SEALED_CONTENT + AEAD_TAG_LEN;

export interface V2Recipient {
  username: string;
  /** Devices of that account to deliver to, ascending, each 1..MAX_DEVICE_ID. */
  devices: readonly number[];
  identity: IdentityPublic;
}

function derivedKeys(M: Uint8Array): { e: Uint8Array; E: Uint8Array; K: Uint8Array } {
  const e = hkdf(ZERO_SALT, M, labelBytes(Labels.sealedMultiEphemeral), 32);
  return { e, E: x25519PublicFromPrivate(e), K: hkdf(ZERO_SALT, M, labelBytes(Labels.sealedMultiPayload), 32) };
}

function mask(dh: Uint8Array, eEnc: Uint8Array, recipientKey: Uint8Array): Uint8Array {
  const info = concatBytes(labelBytes(Labels.sealedMultiMask), eEnc, encodeKey(KeyType.X25519, recipientKey));
  return hkdf(ZERO_SALT, dh, info, MASK_LEN);
}

function tag(dh: Uint8Array, eEnc: Uint8Array, c: Uint8Array, senderKey: Uint8Array, recipientKey: Uint8Array, payloadDigest: Uint8Array): Uint8Array {
  const info = concatBytes(labelBytes(Labels.sealedMultiTag), eEnc, c, encodeKey(KeyType.X25519, senderKey), encodeKey(KeyType.X25519, recipientKey), payloadDigest);
  return hkdf(ZERO_SALT, dh, info, TAG_LEN);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function checkDevices(devices: readonly number[], code: 'InvalidArgument' | 'DecodeFailed'): void {
  if (devices.length < 1 || devices.length > MAX_V2_DEVICES) fail(code, `${devices.length} devices for one recipient, expected 1..${MAX_V2_DEVICES}`);
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i]!;
    if (!Number.isInteger(d) || d < 1 || d > MAX_DEVICE_ID) fail(code, `device id ${d} outside 1..${MAX_DEVICE_ID}`);
    if (i > 0 && d <= devices[i - 1]!) fail(code, `device ids not ascending at ${i}`);
  }
}

/** A sender's recipient list (v2 and v3): 1..MAX_V2_RECIPIENTS accounts, none twice, devices valid; their names, checked. */
export function checkRecipientList(recipients: readonly Pick<V2Recipient, 'username' | 'devices'>[]): Username[] {
  const n = recipients.length;
  if (n < 1 || n > MAX_V2_RECIPIENTS) fail('InvalidArgument', `${n} recipients, expected 1..${MAX_V2_RECIPIENTS}`);
  const seen = new Set<string>();
  const names: Username[] = [];
  for (const r of recipients) {
    const u = asUsername(r.username);
    if (seen.has(u)) fail('InvalidArgument', `recipient of ${u.length} chars listed twice`);
    seen.add(u);
    names.push(u);
    checkDevices(r.devices, 'InvalidArgument');
  }
  return names;
}

export interface SealMultiInput {
  ourIdentity: IdentityKeyPair;
  senderCertificate: SenderCertificate;
  recipients: readonly V2Recipient[];
  contentType: SealedContentType;
  contentHint?: ContentHint;
  groupId?: Uint8Array;
  /** One payload for everyone, e.g. a sender-key message. */
  content: Uint8Array;
  cache?: SealedSenderCache;
}

/**
 * What a multi-recipient sender (v2 and v3) checks and seals before any key material: our own
 * certificate, the recipient list, and the padded sealed content. Answers the recipient count
 * and their names as checked (so a writer need not check them again).
 */
export function multiPlaintext(input: Omit<SealMultiInput, 'recipients' | 'cache'> & { recipients: readonly Pick<V2Recipient, 'username' | 'devices'>[] }, deps: Deps): { n: number; names: Username[]; plain: Uint8Array } {
  checkOwnCertificate(input.senderCertificate, input.ourIdentity, deps);
  const names = checkRecipientList(input.recipients);
  return { n: names.length, names, plain: encodeMulti(input) };
}

/** `multiPlaintext` for a recipient list checked before (sealed-sender-v3-plan.ts): our certificate, then the padded sealed content. */
export function sealedPlaintext(input: Omit<SealMultiInput, 'recipients' | 'cache'>, deps: Deps): Uint8Array {
  checkOwnCertificate(input.senderCertificate, input.ourIdentity, deps);
  return encodeMulti(input);
}

function encodeMulti(input: Omit<SealMultiInput, 'recipients' | 'cache'>): Uint8Array {
  return encodeSealedContent({
    contentType: input.contentType,
    contentHint: input.contentHint ?? ContentHint.default,
    groupId: input.groupId ?? null,
    senderCertificate: input.senderCertificate,
    content: input.content
  });
}

/** The sent form: one payload, key material per recipient account. */
export function sealSenderMulti(input: SealMultiInput, deps: Deps): Uint8Array {
  const ours = input.ourIdentity;
  const { n, names, plain } = multiPlaintext(input, deps);
  const M = deps.rng(32);
  const { e, E, K } = derivedKeys(M);
  const eEnc = encodeKey(KeyType.X25519, E);
  let keyMaterial: V2KeyMaterialWriter | undefined;
  try {
    const payload = aeadEncrypt(K, ZERO_NONCE, plain, concatBytes(VERSION_BYTES, eEnc));
    keyMaterial = new V2KeyMaterialWriter({ ephemeralPrivate: e, ephemeralEncoded: eEnc, M, ours, payloadDigest: sha256(payload), ...(input.cache ? { cache: input.cache } : {}) });
    const w = new ByteWriter(3 + n * (1 + 32 + 1 + 4 + V2_KEY_MATERIAL_LEN) + X25519_ENC_LEN + payload.length).raw(VERSION_BYTES).u16(n);
    for (let i = 0; i < n; i++) {
      const r = input.recipients[i]!;
      writeCanonicalUsername(w, names[i]!).u8(r.devices.length);
      for (const d of r.devices) w.u32(d);
      keyMaterial.write(w, r.identity.dhKey);
    }
    return w.raw(eEnc).raw(payload).finish();
  } finally {
    keyMaterial?.dispose();
    wipe(M, e, K, plain);
  }
}

/** One recipient of a parsed sent message, as the host sees it. */
export interface V2SentRecipient {
  username: Username;
  devices: readonly number[];
  /** C_i || AT_i */
  keyMaterial: Uint8Array;
}

export interface V2SentMessage {
  /** SEALED_SENDER_V2_VERSION or SEALED_SENDER_V3_VERSION. */
  version: number;
  recipients: readonly V2SentRecipient[];
  /** v2: Enc(E) || payload; v3: payload. The same for everyone. */
  shared: Uint8Array;
}

/** Host side: strict parse of a v2 or v3 upload (no keys needed). */
export function parseSealedSenderV2Sent(bytes: Uint8Array, maxLength: number): V2SentMessage {
  if (bytes.length > maxLength) fail('DecodeFailed', `sealed upload of ${bytes.length} bytes exceeds ${maxLength}`);
  const r = new ByteReader(bytes, 'sealed upload');
  const v = r.u8();
  if (v !== SEALED_SENDER_V2_VERSION && v !== SEALED_SENDER_V3_VERSION) fail('UnsupportedVersion', `sealed upload version ${v}`);
  const n = r.u16();
  if (n < 1 || n > MAX_V2_RECIPIENTS) fail('DecodeFailed', `${n} recipients, expected 1..${MAX_V2_RECIPIENTS}`);
  const recipients: V2SentRecipient[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const username = readUsername(r);
    if (seen.has(username)) fail('DecodeFailed', `recipient ${i} listed twice`);
    seen.add(username);
    const d = r.u8();
    const devices: number[] = [];
    for (let j = 0; j < d; j++) devices.push(r.u32());
    checkDevices(devices, 'DecodeFailed');
    recipients.push({ username, devices, keyMaterial: r.fixed(V2_KEY_MATERIAL_LEN) });
  }
  const shared = r.rest();
  const ephemeral = v === SEALED_SENDER_V2_VERSION ? X25519_ENC_LEN : 0;
  if (shared.length < ephemeral + AEAD_TAG_LEN + 1) fail('DecodeFailed', `sealed upload payload of ${shared.length} bytes`);
  if (ephemeral > 0 && shared[0] !== KeyType.X25519) fail('DecodeFailed', `sealed upload ephemeral key type ${shared[0]}`);
  return { version: v, recipients, shared };
}

/** Host side: what to deliver to each of `recipient`'s devices (the upload's own version). */
export function receivedSealedSenderV2(recipient: V2SentRecipient, message: V2SentMessage): Uint8Array {
  return concatBytes(Uint8Array.of(message.version), recipient.keyMaterial, message.shared);
}

/** Opens a received v2 message; the same input, checks and result as v1's openSealedSender. */
export function openSealedSenderV2(input: OpenInput, deps: Deps): OpenedSealedSender {
  const m = input.message;
  if (m.length > MAX_SEALED_SENDER_V2_RECEIVED_LEN) fail('DecodeFailed', `sealed v2 message of ${m.length} bytes exceeds ${MAX_SEALED_SENDER_V2_RECEIVED_LEN}`);
  const r = new ByteReader(m, 'sealed v2 message');
  const v = r.u8();
  if (v !== SEALED_SENDER_V2_VERSION) fail('UnsupportedVersion', `sealed v2 message version ${v}`);
  const c = r.fixed(MASK_LEN);
  const at = r.fixed(TAG_LEN);
  const eEnc = m.subarray(1 + V2_KEY_MATERIAL_LEN, 1 + V2_KEY_MATERIAL_LEN + X25519_ENC_LEN);
  const E = readKey(r, KeyType.X25519);
  const payload = r.rest();
  if (payload.length < AEAD_TAG_LEN + 1) fail('DecodeFailed', `sealed v2 payload of ${payload.length} bytes`);
  const R = input.ourIdentity.dh;

  let dhE: Uint8Array | undefined;
  let msk: Uint8Array | undefined;
  let M: Uint8Array | undefined;
  let keys: { e: Uint8Array; E: Uint8Array; K: Uint8Array } | undefined;
  let plain: Uint8Array | undefined;
  let dhS: Uint8Array | undefined;
  let cachedStatic: Uint8Array | undefined;
  let staticSecret: Uint8Array | undefined;
  let sealed: SealedContent;
  try {
    dhE = x25519(R.privateKey, E);
    msk = mask(dhE, eEnc, R.publicKey);
    M = xor(msk, c);
    keys = derivedKeys(M);
    if (!bytesEqual(keys.E, E)) fail('InvalidMac', 'sealed v2 key material does not derive the ephemeral key');
    plain = aeadDecrypt(keys.K, ZERO_NONCE, payload, concatBytes(VERSION_BYTES, eEnc));
    sealed = decodeSealedContent(plain);
    const S = sealed.senderCertificate.identity.dhKey;
    cachedStatic = input.cache?.staticSecret(R.publicKey, S);
    dhS = cachedStatic ?? x25519(R.privateKey, S);
    if (!bytesEqual(tag(dhS, eEnc, c, S, R.publicKey, sha256(payload)), at)) fail('InvalidMac', 'sealed v2 tag does not match the certificate identity');
    if (input.cache && !cachedStatic) staticSecret = dhS.slice();
  } finally {
    wipe(dhE, msk, M, keys?.e, keys?.K, plain, dhS);
  }
  try {
    verifyOpenedSender(sealed.senderCertificate, input, deps);
    if (staticSecret) input.cache?.rememberStaticSecret(R.publicKey, sealed.senderCertificate.identity.dhKey, staticSecret);
  } finally {
    wipe(staticSecret);
  }
  return {
    sender: sealed.senderCertificate,
    contentType: sealed.contentType,
    contentHint: sealed.contentHint,
    groupId: sealed.groupId,
    content: sealed.content
  };
}
