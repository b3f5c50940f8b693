/**
 * The Double Ratchet (Signal Double Ratchet spec rev. 1, §3.2–§3.5; DESIGN.md §4): state,
 * initialisation, RatchetEncrypt and RatchetDecrypt with skipped message keys.
 *
 * State in, state out, plain data. Inputs are never mutated: RatchetDecrypt computes the next
 * state on the side (a shallow copy plus a copy-on-write skipped-key map) and returns it only
 * after the AEAD tag verified, so on any failure the caller's state is byte-identical.
 * Beyond the spec: old receiving chains are remembered (public key and length only) so a replay
 * is named DuplicateMessage, a message carrying our own ratchet key is refused as reflected,
 * and skipped keys are capped and expire (limits.ts).
 * Knows nothing of sessions, identities, padding, envelopes or storage.
 */
import type { Deps } from '../deps';
import { fail } from '../../codec/errors';
import { X25519_LEN, x25519, x25519KeyPair, type KeyPair } from '../primitives';
import { bytesEqual, toHex } from '../../codec/bytes';
import { kdfRk } from './root-key';
import { kdfCk } from './chain-key';
import { openWithMessageKey, sealWithMessageKey, type AssociatedData } from './message-key';
import { HEADER_LEN, decodeMessage, encodeHeader } from './header';
import { MAX_MESSAGE_NUMBER, MAX_OLD_CHAINS, MAX_SKIP } from './limits';
import { NO_SKIPPED_KEYS, SkippedKeysDraft, skippedEntries, type SkippedKeys } from './skipped-keys';

/** A receiving chain we have moved past: public ratchet key and how many messages it had. */
export interface OldChain {
  readonly ratchetKey: Uint8Array;
  readonly length: number;
}

export interface RatchetState {
  /** RK */
  readonly rootKey: Uint8Array;
  /** DHs: our current ratchet key pair. */
  readonly ourRatchetKey: KeyPair;
  /** DHr: their current ratchet public key (null for the responder before the first message). */
  readonly theirRatchetKey: Uint8Array | null;
  /** CKs (null for the responder until it has received). */
  readonly sendingChainKey: Uint8Array | null;
  /** CKr (null until a message from their current ratchet key arrived). */
  readonly receivingChainKey: Uint8Array | null;
  /** Ns */
  readonly sendN: number;
  /** Nr */
  readonly recvN: number;
  /** PN */
  readonly prevSendN: number;
  /** At most MAX_OLD_CHAINS, oldest first. */
  readonly oldChains: readonly OldChain[];
  /** MKSKIPPED, oldest first. */
  readonly skipped: SkippedKeys;
}

export interface EncryptResult {
  state: RatchetState;
  /** header || ciphertext */
  message: Uint8Array;
}

export interface DecryptResult {
  state: RatchetState;
  plaintext: Uint8Array;
  /** Messages this one revealed as missing (a gap the UI can show); 0 when in order. */
  skipped: number;
  /** True when this message filled an earlier gap (decrypted with a stored skipped key). */
  late: boolean;
}

type Draft = { -readonly [K in keyof RatchetState]: RatchetState[K] };

function checkKey(name: string, key: Uint8Array): void {
  if (key.length !== X25519_LEN) fail('InvalidKey', `${name}: ${key.length} bytes, expected ${X25519_LEN}`);
}

/** Alice, after PQXDH: a fresh ratchet key pair against Bob's signed prekey (spec §3.3). */
export function initSender(p: { sharedSecret: Uint8Array; theirRatchetKey: Uint8Array }, deps: Deps): RatchetState {
  checkKey('theirRatchetKey', p.theirRatchetKey);
  const ourRatchetKey = x25519KeyPair(deps);
  const { rootKey, chainKey } = kdfRk(p.sharedSecret, x25519(ourRatchetKey.privateKey, p.theirRatchetKey));
  return {
    rootKey,
    ourRatchetKey,
    theirRatchetKey: p.theirRatchetKey.slice(),
    sendingChainKey: chainKey,
    receivingChainKey: null,
    sendN: 0,
    recvN: 0,
    prevSendN: 0,
    oldChains: [],
    skipped: NO_SKIPPED_KEYS
  };
}

/** Bob: his signed prekey pair is the first ratchet key, RK = SK; he sends after receiving (§3.3). */
export function initReceiver(p: { sharedSecret: Uint8Array; ourRatchetKeyPair: KeyPair }): RatchetState {
  if (p.sharedSecret.length !== 32) fail('InvalidArgument', `sharedSecret: ${p.sharedSecret.length} bytes, expected 32`);
  checkKey('ourRatchetKeyPair.publicKey', p.ourRatchetKeyPair.publicKey);
  checkKey('ourRatchetKeyPair.privateKey', p.ourRatchetKeyPair.privateKey);
  return {
    rootKey: p.sharedSecret.slice(),
    ourRatchetKey: { publicKey: p.ourRatchetKeyPair.publicKey.slice(), privateKey: p.ourRatchetKeyPair.privateKey.slice() },
    theirRatchetKey: null,
    sendingChainKey: null,
    receivingChainKey: null,
    sendN: 0,
    recvN: 0,
    prevSendN: 0,
    oldChains: [],
    skipped: NO_SKIPPED_KEYS
  };
}

/** RatchetEncrypt (spec §3.4). */
export function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array, ad: AssociatedData, deps: Deps): EncryptResult {
  const ck = state.sendingChainKey;
  if (!ck) fail('NotInitialized', 'no sending chain yet: the responder sends after its first received message');
  if (state.sendN > MAX_MESSAGE_NUMBER) fail('InvalidArgument', `sending chain exhausted at message ${state.sendN}`);
  const { chainKey, messageKey } = kdfCk(ck);
  const header = encodeHeader({ ratchetKey: state.ourRatchetKey.publicKey, pn: state.prevSendN, n: state.sendN });
  const ciphertext = sealWithMessageKey(messageKey, plaintext, ad, header);
  messageKey.fill(0);
  const message = new Uint8Array(HEADER_LEN + ciphertext.length);
  message.set(header, 0);
  message.set(ciphertext, HEADER_LEN);
  // Sending is also a chance to forget expired skipped keys.
  let skipped = state.skipped;
  if (skipped.size > 0) {
    const draft = new SkippedKeysDraft(skipped, deps.now());
    draft.purgeExpired();
    skipped = draft.finish();
  }
  return { state: { ...state, sendingChainKey: chainKey, sendN: state.sendN + 1, skipped }, message };
}

function checkGap(from: number, until: number): void {
  const gap = until - from;
  if (gap > MAX_SKIP) fail('TooBigMessageGap', `gap ${gap} exceeds ${MAX_SKIP}`);
}

/** SkipMessageKeys (spec §3.5) on `next`'s receiving chain; returns how many keys it stored. */
function skipMessageKeys(next: Draft, skipped: SkippedKeysDraft, ratchetKey: Uint8Array, hex: string, until: number): number {
  let ck = next.receivingChainKey;
  if (!ck || until <= next.recvN) return 0;
  checkGap(next.recvN, until);
  for (let i = next.recvN; i < until; i++) {
    const step = kdfCk(ck);
    skipped.add(ratchetKey, hex, i, step.messageKey);
    ck = step.chainKey;
  }
  const count = until - next.recvN;
  next.receivingChainKey = ck;
  next.recvN = until;
  return count;
}

/** DHRatchet (spec §3.5): new receiving chain from their key, new key pair, new sending chain. */
function dhRatchetStep(next: Draft, theirRatchetKey: Uint8Array, deps: Deps): void {
  next.prevSendN = next.sendN;
  next.sendN = 0;
  next.recvN = 0;
  next.theirRatchetKey = theirRatchetKey;
  const receiving = kdfRk(next.rootKey, x25519(next.ourRatchetKey.privateKey, theirRatchetKey));
  const ours = x25519KeyPair(deps);
  const sending = kdfRk(receiving.rootKey, x25519(ours.privateKey, theirRatchetKey));
  next.receivingChainKey = receiving.chainKey;
  next.ourRatchetKey = ours;
  next.rootKey = sending.rootKey;
  next.sendingChainKey = sending.chainKey;
}

function rememberOldChain(oldChains: readonly OldChain[], chain: OldChain, skipped: SkippedKeysDraft): OldChain[] {
  const out = [...oldChains, chain];
  while (out.length > MAX_OLD_CHAINS) {
    const dropped = out.shift()!;
    skipped.dropChain(toHex(dropped.ratchetKey));
  }
  return out;
}

/** RatchetDecrypt (spec §3.5). On any error the input state is untouched and nothing is returned. */
export function ratchetDecrypt(state: RatchetState, message: Uint8Array, ad: AssociatedData, deps: Deps): DecryptResult {
  const { header, headerBytes, ciphertext } = decodeMessage(message);
  const { ratchetKey, pn, n } = header;
  if (n > MAX_MESSAGE_NUMBER) fail('InvalidMessage', `message number ${n} out of range`);
  if (bytesEqual(ratchetKey, state.ourRatchetKey.publicKey)) {
    fail('InvalidMessage', 'message carries our own ratchet key (reflected)');
  }
  const skipped = new SkippedKeysDraft(state.skipped, deps.now());
  skipped.purgeExpired();
  let hex: string | undefined;
  const theirHex = (): string => (hex ??= toHex(ratchetKey));

  // TrySkippedMessageKeys: a late message whose key we stored when we noticed the gap.
  const stored = skipped.size > 0 ? skipped.take(theirHex(), n) : undefined;
  if (stored) {
    const plaintext = openWithMessageKey(stored, ciphertext, ad, headerBytes);
    return { state: { ...state, skipped: skipped.finish() }, plaintext, skipped: 0, late: true };
  }

  const next: Draft = { ...state };
  let newlySkipped = 0;
  const current = state.theirRatchetKey;
  if (current && bytesEqual(ratchetKey, current)) {
    if (!state.receivingChainKey) fail('InvalidMessage', 'no receiving chain for this ratchet key');
    if (n < state.recvN) fail('DuplicateMessage', `message ${n} already received (or its key expired or was evicted)`);
  } else {
    const old = state.oldChains.find((c) => bytesEqual(c.ratchetKey, ratchetKey));
    if (old) {
      if (n < old.length) fail('DuplicateMessage', `message ${n} of an old chain already received (or its key expired or was evicted)`);
      fail('InvalidMessage', `message ${n} beyond the end (${old.length}) of an old chain`);
    }
    // A new ratchet key: check both gaps before any work, close the current chain, then step.
    checkGap(0, n);
    if (state.receivingChainKey && current) {
      checkGap(state.recvN, pn);
      newlySkipped += skipMessageKeys(next, skipped, current, toHex(current), pn);
      next.oldChains = rememberOldChain(state.oldChains, { ratchetKey: current, length: next.recvN }, skipped);
    }
    dhRatchetStep(next, ratchetKey, deps);
  }
  // The hex map key is built only when there is a gap to store (not on the in-order path).
  if (n > next.recvN) newlySkipped += skipMessageKeys(next, skipped, ratchetKey, theirHex(), n);
  const { chainKey, messageKey } = kdfCk(next.receivingChainKey!);
  let plaintext: Uint8Array;
  try {
    plaintext = openWithMessageKey(messageKey, ciphertext, ad, headerBytes);
  } finally {
    messageKey.fill(0);
  }
  next.receivingChainKey = chainKey;
  next.recvN = n + 1;
  next.skipped = skipped.finish();
  return { state: next, plaintext, skipped: newlySkipped, late: false };
}

/** Messages known to be missing (their keys are stored), oldest first: for "1 message missing". */
export function missingMessages(state: RatchetState): { ratchetKey: Uint8Array; n: number }[] {
  return [...skippedEntries(state.skipped)].map((k) => ({ ratchetKey: k.ratchetKey, n: k.n }));
}
