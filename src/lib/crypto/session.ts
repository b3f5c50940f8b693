/**
 * A 1:1 session: PQXDH to start, the Double Ratchet after, padding inside, envelopes outside
 * (DESIGN.md §4). Glue only: it owns the session record (usernames, identities, AD, ratchet,
 * Alice's pending PreKeyMessage header) and which envelope to emit or expect.
 *
 * Alice keeps sending PreKeyMessages until she has decrypted Bob's first reply (Signal's
 * "unacknowledged prekey message"), so any of her early messages can start Bob's session.
 * Every message's AEAD AD is `session AD || envelope binding || ratchet header`, the binding being
 * the envelope bytes outside the inner message: the whole PreKeyMessage header (type, version,
 * sender, prekey ids, base key, KEM ciphertext) or a RatchetMessage's type byte. So no envelope
 * byte goes unauthenticated (P7: a changed version byte fails the MAC, not only the decoder; a
 * resent PreKeyMessage with a changed KEM ciphertext fails even though only its base key routes
 * it). Every function is pure: state in, state out; a failure throws a ProtocolError and leaves
 * its inputs untouched. Knows nothing of ratchet internals or storage.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { identityPublic, encodeIdentityPublic, type IdentityKeyPair, type IdentityPublic } from './identity';
import { accept, initiate, type ConsumedPreKeys, type PqxdhHeader, type PreKeyLookup } from './pqxdh';
import { initReceiver, initSender, ratchetDecrypt, ratchetEncrypt } from './ratchet/double-ratchet';
import { wipe } from './primitives';
import { bytesEqual } from '../codec/bytes';
import type { PreKeyBundle } from './bundle';
import {
  decodePreKeyMessage,
  decodeRatchetMessage,
  encodePreKeyHeader,
  encodePreKeyMessageWithHeader,
  encodeRatchetMessage,
  receivedPreKeyHeader,
  peekMessageType,
  preKeyMessageSender,
  MessageType,
  PREKEY_MESSAGE_VERSION,
  type PreKeyMessage
} from './message';
import { pad, unpad } from '../codec/padding';
import { SESSION_VERSION, decodeSession, encodeSession, type SessionState } from './session-state';

export { peekMessageType, preKeyMessageSender, encodeSession, decodeSession, SESSION_VERSION };
export type { PreKeyLookup, ConsumedPreKeys, PqxdhHeader, PreKeyMessage, SessionState };

const RATCHET_BINDING = Uint8Array.of(MessageType.ratchet);

/**
 * The AD handed to the ratchet for one message: session AD || envelope binding (as parts; the
 * ratchet concatenates them with its header in one buffer). The session AD is fixed per session
 * and the binding is self-delimiting (its type byte says which layout follows), so the
 * concatenation, with the fixed-length ratchet header after it, is unambiguous.
 */
function envelopeAd(ad: Uint8Array, binding: Uint8Array): readonly Uint8Array[] {
  return [ad, binding];
}

export interface InitiateSessionInput {
  ourIdentity: IdentityKeyPair;
  ourUsername: string;
  theirUsername: string;
  bundle: PreKeyBundle;
}

/** Alice: verifies the bundle, runs PQXDH and starts a sending chain to Bob's signed prekey. */
export function initiateSession(input: InitiateSessionInput, deps: Deps): SessionState {
  const { secret, ad, initialMessageHeader } = initiate(input, deps);
  const ratchet = initSender({ sharedSecret: secret, theirRatchetKey: input.bundle.signedPreKey.publicKey }, deps);
  wipe(secret);
  return {
    version: SESSION_VERSION,
    ourUsername: input.ourUsername,
    theirUsername: input.theirUsername,
    ourIdentity: identityPublic(input.ourIdentity),
    theirIdentity: input.bundle.identity,
    ad,
    ratchet,
    pendingPreKey: initialMessageHeader
  };
}

/** Pads, ratchet-encrypts, and wraps in a PreKeyMessage while the session is unacknowledged. */
export function sessionEncrypt(state: SessionState, plaintext: Uint8Array, deps: Deps): { state: SessionState; message: Uint8Array } {
  const padded = pad(plaintext);
  const header = state.pendingPreKey
    ? encodePreKeyHeader({
        ...state.pendingPreKey,
        version: PREKEY_MESSAGE_VERSION,
        senderUsername: state.ourUsername,
        senderIdentity: state.ourIdentity
      })
    : undefined;
  const { state: ratchet, message: inner } = ratchetEncrypt(state.ratchet, padded, envelopeAd(state.ad, header ?? RATCHET_BINDING), deps);
  wipe(padded);
  const message = header ? encodePreKeyMessageWithHeader(header, inner) : encodeRatchetMessage(inner);
  return { state: { ...state, ratchet }, message };
}

export interface AcceptSessionInput {
  ourIdentity: IdentityKeyPair;
  ourUsername: string;
  message: Uint8Array;
  prekeys: PreKeyLookup;
}

export interface AcceptSessionResult {
  state: SessionState;
  plaintext: Uint8Array;
  theirUsername: string;
  theirIdentity: IdentityPublic;
  /** One-time prekeys to delete in the same transaction that stores the session (P9). */
  consumed: ConsumedPreKeys;
}

/**
 * Bob: a new session from a PreKeyMessage. Only a message whose first ratchet message
 * authenticates yields a session; a tampered KEM ciphertext or relabelled sender fails here.
 */
export function acceptSession(input: AcceptSessionInput, deps: Deps): AcceptSessionResult {
  const m = decodePreKeyMessage(input.message);
  return acceptBound({ ...input, message: m }, receivedPreKeyHeader(input.message, m), deps);
}

/**
 * acceptSession on an already decoded PreKeyMessage; the binding is its re-encoded header, with
 * the version as decoded. Whatever a decoder admitted must therefore match what the sender wrote
 * (P7); tests use this to play a lenient decoder.
 */
export function acceptPreKeyMessage(input: AcceptDecodedInput, deps: Deps): AcceptSessionResult {
  return acceptBound(input, encodePreKeyHeader(input.message), deps);
}

export type AcceptDecodedInput = Omit<AcceptSessionInput, 'message'> & { message: PreKeyMessage };

function acceptBound(input: AcceptDecodedInput, binding: Uint8Array, deps: Deps): AcceptSessionResult {
  const m = input.message;
  const { secret, ad, consumed, ourSignedPreKey } = accept(
    {
      ourIdentity: input.ourIdentity,
      ourUsername: input.ourUsername,
      theirUsername: m.senderUsername,
      theirIdentity: m.senderIdentity,
      header: m,
      prekeys: input.prekeys
    },
    deps
  );
  const initial = initReceiver({ sharedSecret: secret, ourRatchetKeyPair: ourSignedPreKey });
  wipe(secret, ourSignedPreKey.privateKey);
  const { state: ratchet, plaintext: padded } = ratchetDecrypt(initial, m.message, envelopeAd(ad, binding), deps);
  const plaintext = unpad(padded);
  const state: SessionState = {
    version: SESSION_VERSION,
    ourUsername: input.ourUsername,
    theirUsername: m.senderUsername,
    ourIdentity: identityPublic(input.ourIdentity),
    theirIdentity: m.senderIdentity,
    ad,
    ratchet,
    theirBaseKey: m.baseKey
  };
  return { state, plaintext, theirUsername: m.senderUsername, theirIdentity: m.senderIdentity, consumed };
}

function repeatsHandshake(state: SessionState, m: PreKeyMessage): boolean {
  return (
    state.theirBaseKey !== undefined &&
    bytesEqual(state.theirBaseKey, m.baseKey) &&
    m.senderUsername === state.theirUsername &&
    bytesEqual(encodeIdentityPublic(m.senderIdentity), encodeIdentityPublic(state.theirIdentity))
  );
}

/** True when a PreKeyMessage repeats the handshake this (responder) session came from. */
export function isPreKeyMessageForSession(state: SessionState, message: Uint8Array): boolean {
  return repeatsHandshake(state, decodePreKeyMessage(message));
}

export interface SessionDecryptResult {
  state: SessionState;
  plaintext: Uint8Array;
  /** Messages this one revealed as missing (a gap to show, P14). */
  skipped: number;
  /** True when this message filled an earlier gap. */
  late: boolean;
}

/**
 * Decrypts a message for an existing session. A PreKeyMessage is accepted only if it repeats
 * this session's handshake (same base key and sender); a new handshake goes to acceptSession.
 * The first reply that decrypts clears the initiator's pending PreKeyMessage header.
 */
export function sessionDecrypt(state: SessionState, message: Uint8Array, deps: Deps): SessionDecryptResult {
  let inner: Uint8Array;
  let ad: readonly Uint8Array[];
  if (peekMessageType(message) === 'prekey') {
    const m = decodePreKeyMessage(message);
    if (!repeatsHandshake(state, m)) fail('InvalidMessage', 'prekey message does not belong to this session');
    inner = m.message;
    ad = envelopeAd(state.ad, receivedPreKeyHeader(message, m));
  } else {
    inner = decodeRatchetMessage(message);
    ad = envelopeAd(state.ad, RATCHET_BINDING);
  }
  const { state: ratchet, plaintext: padded, skipped, late } = ratchetDecrypt(state.ratchet, inner, ad, deps);
  const plaintext = unpad(padded);
  // Built without `delete`, which would turn every later state object into a slow dictionary.
  let next: SessionState;
  if (state.pendingPreKey) {
    const { pendingPreKey: _acknowledged, ...rest } = state;
    next = { ...rest, ratchet };
  } else {
    next = { ...state, ratchet };
  }
  return { state: next, plaintext, skipped, late };
}
