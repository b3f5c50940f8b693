/**
 * Sealed sender v1 (SECURITY.md P41; DESIGN.md §4 "Sealed sender"): an envelope to one recipient
 * identity that names no sender, after Signal's sealed sender v1 (libsignal
 * rust/protocol/src/sealed_sender.rs `sealed_sender_encrypt_from_usmc`), with XChaCha20-Poly1305
 * in place of AES-CTR + HMAC and our own labels. R = the recipient's IKd, S = the sender's IKd.
 *
 *   e, E          = fresh X25519 key pair
 *   ck, kE        = HKDF(salt = 0^32, ikm = DH(e, R), info = L_eph || v || Enc(R) || Enc(E), 64)
 *   staticBox     = AEAD(kE, 0^24, Enc(S), ad = v || Enc(E))                        33 + 16 bytes
 *   kS            = HKDF(salt = ck, ikm = DH(S, R), info = L_static || Enc(R) || staticBox, 32)
 *   messageBox    = AEAD(kS, 0^24, SealedContent padded, ad = v || Enc(E) || staticBox)
 *   wire          = v || Enc(E) || staticBox || messageBox
 *
 * The ephemeral layer hides S from everyone but R. The static layer's key needs S's private key
 * (or R's), so opening it proves that whoever sealed holds the IKd named in the static box; the
 * recipient then insists that the certificate inside names that same IKd, so a sender certificate
 * (which is not secret: every recipient sees it) cannot be wrapped around someone else's message.
 * ck chains the layers, so the static key is fresh per envelope and both AEAD keys are used once:
 * a constant nonce is safe (as in Signal's v2, which uses AES-GCM-SIV with nonce 0). Every wire
 * byte is in the last AEAD's AD.
 *
 * `openSealedSender` checks, in order: version and bounds (DecodeFailed / UnsupportedVersion),
 * the ephemeral layer (InvalidKey for a low-order E, InvalidMac), the static layer (InvalidKey,
 * InvalidMac), the content codec, that the certificate's IKd is the static layer's
 * (UntrustedIdentity), the certificate chain against the pinned trust at the validation time
 * (certificates.ts), and that the sender is not this very address (InvalidMessage, a reflection).
 * It is pure: nothing is written anywhere, inputs are never mutated, and on any failure no
 * partial result escapes. The caller (workers/engine) must then check that the certificate's
 * (username, identity) is the one its session with that username expects before trusting the
 * content (`checkSenderMatchesSession`), then hand the content to the session decryptor.
 *
 * Both sides may pass a `SealedSenderCache` (sealed-cache.ts): it spares the static DH and the
 * certificate signatures for correspondents already seen, and changes no byte and no answer.
 *
 * Knows nothing of sessions' internals, storage, the host or the network.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, bytesEqual } from '../codec/bytes';
import { KeyType, encodeKey, encodedKeyLength, readKey } from '../codec/keys';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { identityChanged, type IdentityKeyPair, type IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadDecrypt, aeadEncrypt, wipe, x25519, x25519KeyPair } from './primitives';
import type { SealedSenderCache } from './sealed-cache';
import { verifySenderCertificate, type SealedSenderTrust, type SenderCertificate } from './certificates';
import type { Address } from './group/address';
import {
  ContentHint,
  MAX_PADDED_SEALED_CONTENT,
  decodeSealedContent,
  encodeSealedContent,
  paddedSealedContentLength,
  type SealedContent,
  type SealedContentType
} from './sealed-content';

/** The wire version byte of a single-recipient sealed envelope. */
export const SEALED_SENDER_VERSION = 0x01;
const X25519_ENC_LEN = encodedKeyLength(KeyType.X25519);
const STATIC_BOX_LEN = X25519_ENC_LEN + AEAD_TAG_LEN;
const HEADER_LEN = 1 + X25519_ENC_LEN + STATIC_BOX_LEN;
/** The largest envelope any opener accepts (checked before any work). */
export const MAX_SEALED_SENDER_LEN = HEADER_LEN + MAX_PADDED_SEALED_CONTENT + AEAD_TAG_LEN;
const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const ZERO_SALT = new Uint8Array(32);
const VERSION_BYTES = Uint8Array.of(SEALED_SENDER_VERSION);

/** Sealed envelope length for content of `contentLength` bytes. */
export function sealedSenderLength(contentLength: number): number {
  return HEADER_LEN + paddedSealedContentLength(contentLength) + AEAD_TAG_LEN;
}

function ephemeralKeys(dh: Uint8Array, theirKey: Uint8Array, ephemeralEnc: Uint8Array): { chainKey: Uint8Array; key: Uint8Array } {
  const info = new ByteWriter().raw(labelBytes(Labels.sealedEphemeral)).raw(VERSION_BYTES).raw(encodeKey(KeyType.X25519, theirKey)).raw(ephemeralEnc).finish();
  const okm = hkdf(ZERO_SALT, dh, info, 64);
  const out = { chainKey: okm.slice(0, 32), key: okm.slice(32) };
  wipe(okm);
  return out;
}

function staticKey(dh: Uint8Array, chainKey: Uint8Array, recipientKey: Uint8Array, staticBox: Uint8Array): Uint8Array {
  const info = new ByteWriter().raw(labelBytes(Labels.sealedStatic)).raw(encodeKey(KeyType.X25519, recipientKey)).raw(staticBox).finish();
  return hkdf(chainKey, dh, info, 32);
}

export interface SealInput {
  /** The sender's identity: IKd's private key proves the certificate is ours. */
  ourIdentity: IdentityKeyPair;
  /** Our current certificate from the host; must name ourIdentity and not be expired at deps.now(). */
  senderCertificate: SenderCertificate;
  /** The recipient's identity (from the session, or the verified bundle). */
  theirIdentity: IdentityPublic;
  contentType: SealedContentType;
  /** Defaults to ContentHint.default. */
  contentHint?: ContentHint;
  /** 32 bytes for a group message. */
  groupId?: Uint8Array;
  /** The session message (or sender-key message) to carry. */
  content: Uint8Array;
  /** Optional memo of the static secret per recipient (sealed-cache.ts); same bytes out either way. */
  cache?: SealedSenderCache;
}

/** Sender side, before sealing: the certificate is ours and still valid (else the recipient drops it). */
export function checkOwnCertificate(cert: SenderCertificate, ours: IdentityKeyPair, deps: Deps): void {
  if (!bytesEqual(cert.identity.dhKey, ours.dh.publicKey) || !bytesEqual(cert.identity.signingKey, ours.signing.publicKey)) {
    fail('InvalidArgument', 'sender certificate names another identity');
  }
  const now = deps.now();
  if (now > cert.expires) fail('InvalidArgument', `sender certificate expired at ${cert.expires}, now ${now}: fetch a new one`);
}

/** Sender side: DH(our IKd, their IKd), from the cache when there is one (a fresh copy either way). */
export function sendingStaticSecret(ours: IdentityKeyPair, theirKey: Uint8Array, cache: SealedSenderCache | undefined): Uint8Array {
  const cached = cache?.staticSecret(ours.dh.publicKey, theirKey);
  if (cached) return cached;
  const dh = x25519(ours.dh.privateKey, theirKey);
  cache?.rememberStaticSecret(ours.dh.publicKey, theirKey, dh);
  return dh;
}

/** Seals `content` to `theirIdentity`; the result names no sender. */
export function sealSender(input: SealInput, deps: Deps): Uint8Array {
  const cert = input.senderCertificate;
  const ours = input.ourIdentity;
  checkOwnCertificate(cert, ours, deps);
  const plain = encodeSealedContent({
    contentType: input.contentType,
    contentHint: input.contentHint ?? ContentHint.default,
    groupId: input.groupId ?? null,
    senderCertificate: cert,
    content: input.content
  });
  const R = input.theirIdentity.dhKey;
  const e = x25519KeyPair(deps);
  const eEnc = encodeKey(KeyType.X25519, e.publicKey);
  let dhE: Uint8Array | undefined;
  let dhS: Uint8Array | undefined;
  let keys: { chainKey: Uint8Array; key: Uint8Array } | undefined;
  let kS: Uint8Array | undefined;
  try {
    dhE = x25519(e.privateKey, R);
    keys = ephemeralKeys(dhE, R, eEnc);
    const staticBox = aeadEncrypt(keys.key, ZERO_NONCE, encodeKey(KeyType.X25519, ours.dh.publicKey), new ByteWriter().raw(VERSION_BYTES).raw(eEnc).finish());
    dhS = sendingStaticSecret(ours, R, input.cache);
    kS = staticKey(dhS, keys.chainKey, R, staticBox);
    const header = new ByteWriter().raw(VERSION_BYTES).raw(eEnc).raw(staticBox).finish();
    const messageBox = aeadEncrypt(kS, ZERO_NONCE, plain, header);
    return new ByteWriter().raw(header).raw(messageBox).finish();
  } finally {
    wipe(e.privateKey, dhE, dhS, keys?.chainKey, keys?.key, kS, plain);
  }
}

export interface OpenInput {
  message: Uint8Array;
  ourIdentity: IdentityKeyPair;
  /** Our own address: an envelope whose certificate names it is a reflection and is refused. */
  ourAddress: Address;
  trust: SealedSenderTrust;
  /**
   * When the host accepted the envelope (ms), if known: certificates are judged at that time, as
   * Signal does, so a message that waited in the mailbox is not lost to its certificate's expiry.
   * Never later than deps.now().
   */
  receivedAt?: number;
  /**
   * Optional memo (sealed-cache.ts) of verified certificates and static secrets, made for `trust`
   * and this identity; the result or error is the same either way.
   */
  cache?: SealedSenderCache;
}

export interface OpenedSealedSender {
  /** Verified against the trust at the validation time; still to be matched to a session. */
  sender: SenderCertificate;
  contentType: SealedContentType;
  contentHint: ContentHint;
  groupId: Uint8Array | null;
  content: Uint8Array;
}

/** Opens a single-recipient sealed envelope; see the module header for every check. */
export function openSealedSender(input: OpenInput, deps: Deps): OpenedSealedSender {
  const m = input.message;
  if (m.length > MAX_SEALED_SENDER_LEN) fail('DecodeFailed', `sealed envelope of ${m.length} bytes exceeds ${MAX_SEALED_SENDER_LEN}`);
  const r = new ByteReader(m, 'sealed envelope');
  const version = r.u8();
  if (version !== SEALED_SENDER_VERSION) fail('UnsupportedVersion', `sealed envelope version ${version}`);
  const E = readKey(r, KeyType.X25519);
  const staticBox = r.fixed(STATIC_BOX_LEN);
  const messageBox = r.rest();
  if (messageBox.length < AEAD_TAG_LEN + 1) fail('DecodeFailed', `sealed envelope body of ${messageBox.length} bytes`);
  const header = m.subarray(0, HEADER_LEN);
  const R = input.ourIdentity.dh;

  let dhE: Uint8Array | undefined;
  let dhS: Uint8Array | undefined;
  let keys: { chainKey: Uint8Array; key: Uint8Array } | undefined;
  let kS: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  let sealed: SealedContent;
  let S: Uint8Array;
  let cachedStatic: Uint8Array | undefined;
  let staticSecret: Uint8Array | undefined;
  try {
    dhE = x25519(R.privateKey, E);
    keys = ephemeralKeys(dhE, R.publicKey, m.subarray(1, 1 + X25519_ENC_LEN));
    const sEnc = aeadDecrypt(keys.key, ZERO_NONCE, staticBox, m.subarray(0, 1 + X25519_ENC_LEN));
    const sr = new ByteReader(sEnc, 'sealed static key');
    S = readKey(sr, KeyType.X25519);
    sr.end();
    cachedStatic = input.cache?.staticSecret(R.publicKey, S);
    dhS = cachedStatic ?? x25519(R.privateKey, S);
    kS = staticKey(dhS, keys.chainKey, R.publicKey, staticBox);
    plain = aeadDecrypt(kS, ZERO_NONCE, messageBox, header);
    sealed = decodeSealedContent(plain);
    // Kept (unwiped) only to remember it once everything below has passed.
    if (input.cache && !cachedStatic) staticSecret = dhS.slice();
  } finally {
    wipe(dhE, dhS, keys?.chainKey, keys?.key, kS, plain);
  }
  try {
    checkOpened(sealed, S, input, deps);
    if (staticSecret) input.cache?.rememberStaticSecret(R.publicKey, S, staticSecret);
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

/** The checks after decryption: the static layer's key is the certificate's, the chain, no reflection. */
function checkOpened(sealed: SealedContent, S: Uint8Array, input: OpenInput, deps: Deps): void {
  const sender = sealed.senderCertificate;
  // The static layer proved who sealed; the certificate must name exactly that key (libsignal
  // compares the serialized keys in constant time; bytesEqual is constant-time for equal lengths).
  if (!bytesEqual(sender.identity.dhKey, S)) fail('UntrustedIdentity', 'sender certificate does not match the sealing identity');
  verifyOpenedSender(sender, input, deps);
}

/**
 * After the sealing identity is proven to be the certificate's (v1: the static layer; v2: the
 * authentication tag): the certificate chain at the validation time, and no reflection.
 */
export function verifyOpenedSender(sender: SenderCertificate, input: Omit<OpenInput, 'message'>, deps: Deps): void {
  const now = deps.now();
  const at = input.receivedAt === undefined ? now : Math.min(input.receivedAt, now);
  verifySenderCertificate(sender, input.trust, at, input.cache);
  if (sender.username === input.ourAddress.username && sender.device === input.ourAddress.device) {
    fail('InvalidMessage', 'sealed envelope from our own address');
  }
}

/**
 * For the engine, after opening: the certificate must name the username it claims AND the
 * identity our session (or contact record) with that username holds (P3, P41). A certificate for
 * a known username with another identity is UntrustedIdentity: the host, which signs
 * certificates, cannot thereby speak for someone whose key we know.
 */
export function checkSenderMatchesSession(sender: SenderCertificate, session: { theirUsername: string; theirIdentity: IdentityPublic }): void {
  if (sender.username !== session.theirUsername) fail('UntrustedIdentity', 'sender certificate names another username than the session');
  if (identityChanged(session.theirIdentity, sender.identity)) fail('UntrustedIdentity', 'sender certificate identity differs from the session');
}
