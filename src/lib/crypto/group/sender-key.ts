/**
 * Sender keys (P20, P21), after Signal's SenderKey (libsignal group_cipher.rs, sender_keys.rs):
 * each member has, per group, a chain key and an Ed25519 signing key; it gives both to every
 * other member pairwise inside the 1:1 ratchet (a SenderKeyDistribution), then encrypts each
 * group message once for everyone.
 *
 *   message key, next chain key = KDF_CK(chain key)            (HMAC 0x01 / 0x02, ratchet/chain-key.ts)
 *   AEAD key || nonce = HKDF-SHA256(0^32, message key, "Parley_GroupMessageKeys", 56)
 *   AD = groupId || sender address || header || u32 length || caller's AD
 *   signature = Ed25519(signing key, "Parley_GroupMessageSig" || groupId || sender address
 *                                    || header || ciphertext)
 *
 * The AEAD key is shared by the group, so the signature is what proves which member sent a
 * message; it is checked before any key is derived, so a member forging another's messages
 * cannot make the receiver walk its chain. Receivers keep skipped message keys, bounded as in
 * 1:1 (MAX_SKIP per message, 2000 stored, 30-day expiry; limits.ts) and refuse duplicates.
 *
 * P20: a group message is type 0x03 with its own KDF label and an AD naming the group, the
 * sender and the distribution, so no 1:1 message is accepted here and no group message by a
 * session. P21: rotateSenderKey draws a fresh distribution (id, chain key, signing key); the
 * engine rotates when anyone who held the old one leaves or is removed (mustRotateSenderKey in
 * group-state.ts) and sends the new one only to current members, so a removed member has no key
 * for anything sent after.
 *
 * Perspective is in the type: OurSenderKey (the sender's, with the private signing key) and
 * TheirSenderKey (a receiver's copy of someone else's). State in, state out: a failed decrypt
 * throws and returns nothing, and the caller's state is untouched. Knows nothing of sessions,
 * storage or who is in the group beyond the check in acceptSenderKeyDistribution.
 */
import { ByteWriter, bytesEqual, toHex } from '../../codec/bytes';
import { fail } from '../../codec/errors';
import { pad, unpad } from '../../codec/padding';
import type { Deps } from '../deps';
import { hkdf } from '../hkdf';
import { Labels, labelBytes } from '../labels';
import { aeadDecrypt, aeadEncrypt, ed25519KeyPair, ed25519Sign, ed25519Verify, AEAD_KEY_LEN, AEAD_NONCE_LEN, SIGNATURE_LEN, type KeyPair } from '../primitives';
import { kdfCk } from '../ratchet/chain-key';
import { MAX_MESSAGE_NUMBER } from '../ratchet/limits';
import { NO_SKIPPED_KEYS, SkippedKeysDraft, type SkippedKeys } from '../ratchet/skipped-keys';
import { sameAddress, writeAddress, type Address } from './address';
import { groupFail } from './errors';
import { findMember, type GroupState } from './group-state';
import { MAX_SENDER_KEY_JUMP } from './limits';
import {
  CHAIN_KEY_LEN,
  DISTRIBUTION_ID_LEN,
  GROUP_HEADER_LEN,
  decodeGroupMessage,
  encodeGroupHeader,
  type SenderKeyDistribution
} from './sender-key-message';

/** The sender's own state for one group and one distribution. */
export interface OurSenderKey {
  readonly groupId: Uint8Array;
  readonly ourAddress: Address;
  readonly distributionId: Uint8Array;
  /** The next message's iteration. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signing: KeyPair;
}

/** A receiver's state for one other member's distribution. */
export interface TheirSenderKey {
  readonly groupId: Uint8Array;
  readonly theirAddress: Address;
  readonly distributionId: Uint8Array;
  /** The next iteration expected. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingKey: Uint8Array;
  /** Message keys of iterations jumped over, keyed by this distribution id (ratchet/skipped-keys.ts). */
  readonly skipped: SkippedKeys;
}

const MESSAGE_KEYS = labelBytes(Labels.groupMessageKeys);
const MESSAGE_SIG = labelBytes(Labels.groupMessageSig);

/** A fresh distribution: new id, chain key and signing key (P21: nothing links it to the last). */
export function createSenderKey(p: { groupId: Uint8Array; ourAddress: Address }, deps: Deps): { state: OurSenderKey; distribution: SenderKeyDistribution } {
  const state: OurSenderKey = {
    groupId: p.groupId.slice(),
    ourAddress: p.ourAddress,
    distributionId: deps.rng(DISTRIBUTION_ID_LEN),
    iteration: 0,
    chainKey: deps.rng(CHAIN_KEY_LEN),
    signing: ed25519KeyPair(deps)
  };
  return { state, distribution: senderKeyDistribution(state) };
}

/** P21: replace our sender key (after a member left or was removed); send the result to current members only. */
export function rotateSenderKey(our: OurSenderKey, deps: Deps): { state: OurSenderKey; distribution: SenderKeyDistribution } {
  return createSenderKey({ groupId: our.groupId, ourAddress: our.ourAddress }, deps);
}

/** What a member (or a newcomer) receives: our chain from the current iteration on, never earlier. */
export function senderKeyDistribution(our: OurSenderKey): SenderKeyDistribution {
  return {
    groupId: our.groupId.slice(),
    sender: our.ourAddress,
    distributionId: our.distributionId.slice(),
    iteration: our.iteration,
    chainKey: our.chainKey.slice(),
    signingKey: our.signing.publicKey.slice()
  };
}

/**
 * A receiver takes in a distribution that arrived inside its 1:1 session with `from`. Refused
 * unless it is for this group, `from` is the sender it names (a member cannot hand out another's
 * key), and `from` is a member of `group` (P19: a host-injected or removed member's key is not
 * taken).
 */
export function acceptSenderKeyDistribution(p: { group: GroupState; from: Address; distribution: SenderKeyDistribution }): TheirSenderKey {
  const d = p.distribution;
  if (!bytesEqual(d.groupId, p.group.groupId)) groupFail('WrongGroup', 'distribution names another group');
  if (!sameAddress(d.sender, p.from)) fail('InvalidMessage', 'distribution names a sender other than the session it came in');
  if (!findMember(p.group, p.from)) groupFail('NotMember', 'distribution from an address that is not a member');
  if (d.iteration > MAX_MESSAGE_NUMBER) fail('InvalidMessage', `distribution iteration ${d.iteration} out of range`);
  return {
    groupId: d.groupId.slice(),
    theirAddress: d.sender,
    distributionId: d.distributionId.slice(),
    iteration: d.iteration,
    chainKey: d.chainKey.slice(),
    signingKey: d.signingKey.slice(),
    skipped: NO_SKIPPED_KEYS
  };
}

function messageKeys(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const okm = hkdf(undefined, messageKey, MESSAGE_KEYS, AEAD_KEY_LEN + AEAD_NONCE_LEN);
  const out = { key: okm.slice(0, AEAD_KEY_LEN), nonce: okm.slice(AEAD_KEY_LEN) };
  okm.fill(0);
  return out;
}

function associatedData(groupId: Uint8Array, sender: Address, header: Uint8Array, ad: Uint8Array): Uint8Array {
  const w = new ByteWriter().raw(groupId);
  return writeAddress(w, sender).raw(header).bytes32(ad).finish();
}

function signatureInput(groupId: Uint8Array, sender: Address, signed: Uint8Array): Uint8Array {
  const w = new ByteWriter().raw(MESSAGE_SIG).raw(groupId);
  return writeAddress(w, sender).raw(signed).finish();
}

const NO_AD = new Uint8Array(0);

/** Encrypts once for the whole group: pads, seals with this iteration's key, signs. */
export function groupEncrypt(our: OurSenderKey, plaintext: Uint8Array, ad: Uint8Array = NO_AD): { state: OurSenderKey; message: Uint8Array } {
  if (our.iteration > MAX_MESSAGE_NUMBER) fail('InvalidArgument', `sender chain exhausted at iteration ${our.iteration}`);
  const step = kdfCk(our.chainKey);
  const { key, nonce } = messageKeys(step.messageKey);
  step.messageKey.fill(0);
  const header = encodeGroupHeader({ distributionId: our.distributionId, iteration: our.iteration });
  const padded = pad(plaintext);
  const ciphertext = aeadEncrypt(key, nonce, padded, associatedData(our.groupId, our.ourAddress, header, ad));
  key.fill(0);
  padded.fill(0);
  const message = new Uint8Array(GROUP_HEADER_LEN + ciphertext.length + SIGNATURE_LEN);
  message.set(header, 0);
  message.set(ciphertext, GROUP_HEADER_LEN);
  const signed = message.subarray(0, GROUP_HEADER_LEN + ciphertext.length);
  message.set(ed25519Sign(our.signing.privateKey, signatureInput(our.groupId, our.ourAddress, signed)), signed.length);
  return { state: { ...our, iteration: our.iteration + 1, chainKey: step.chainKey }, message };
}

export interface GroupDecryptResult {
  state: TheirSenderKey;
  plaintext: Uint8Array;
  /** Iterations this message revealed as missing (a gap to show). */
  skipped: number;
  /** True when it filled an earlier gap. */
  late: boolean;
}

/**
 * Decrypts a member's group message. Order: decode (type 0x03 only), distribution id, signature,
 * then the chain: a stored key for a late message, else a jump of at most MAX_SKIP; an iteration
 * below the chain with no stored key is a DuplicateMessage. Nothing is committed unless the AEAD
 * tag and the padding verify.
 */
export function groupDecrypt(their: TheirSenderKey, message: Uint8Array, deps: Deps, ad: Uint8Array = NO_AD): GroupDecryptResult {
  const m = decodeGroupMessage(message);
  if (!bytesEqual(m.distributionId, their.distributionId)) fail('InvalidMessage', 'message from another distribution of this sender (rotated or unknown)');
  if (!ed25519Verify(their.signingKey, signatureInput(their.groupId, their.theirAddress, m.signed), m.signature)) {
    fail('InvalidSignature', `group message ${m.iteration} not signed by its sender`);
  }
  if (m.iteration > MAX_MESSAGE_NUMBER) fail('InvalidMessage', `iteration ${m.iteration} out of range`);
  const fullAd = associatedData(their.groupId, their.theirAddress, m.header, ad);
  const skipped = new SkippedKeysDraft(their.skipped, deps.now());
  skipped.purgeExpired();
  const chainHex = toHex(their.distributionId);

  if (m.iteration < their.iteration) {
    const stored = skipped.take(chainHex, m.iteration);
    if (!stored) fail('DuplicateMessage', `iteration ${m.iteration} already received (or its key expired or was evicted)`);
    const { key, nonce } = messageKeys(stored);
    let padded: Uint8Array;
    try {
      padded = aeadDecrypt(key, nonce, m.ciphertext, fullAd);
    } finally {
      key.fill(0);
    }
    const plaintext = unpad(padded);
    return { state: { ...their, skipped: skipped.finish() }, plaintext, skipped: 0, late: true };
  }

  const gap = m.iteration - their.iteration;
  if (gap > MAX_SENDER_KEY_JUMP) fail('TooBigMessageGap', `gap ${gap} exceeds ${MAX_SENDER_KEY_JUMP}`);
  let ck = their.chainKey;
  for (let i = their.iteration; i < m.iteration; i++) {
    const step = kdfCk(ck);
    skipped.add(their.distributionId, chainHex, i, step.messageKey);
    ck = step.chainKey;
  }
  const step = kdfCk(ck);
  const { key, nonce } = messageKeys(step.messageKey);
  step.messageKey.fill(0);
  let padded: Uint8Array;
  try {
    padded = aeadDecrypt(key, nonce, m.ciphertext, fullAd);
  } finally {
    key.fill(0);
  }
  const plaintext = unpad(padded);
  const state: TheirSenderKey = { ...their, iteration: m.iteration + 1, chainKey: step.chainKey, skipped: skipped.finish() };
  return { state, plaintext, skipped: gap, late: false };
}

/**
 * `their` without the kept key of `iteration`: a jump its sender said it withdrew before it left
 * (README "Groups": message actions), counted as no missing message, so it can no longer arrive
 * late either (a late arrival would take back a count that was never made).
 */
export function forgetSkipped(their: TheirSenderKey, iteration: number, now: number): TheirSenderKey {
  const skipped = new SkippedKeysDraft(their.skipped, now);
  skipped.take(toHex(their.distributionId), iteration)?.fill(0);
  return { ...their, skipped: skipped.finish() };
}
