/**
 * Sealed-sender certificates (SECURITY.md P41; DESIGN.md §4 "Sealed sender"), after Signal's
 * ServerCertificate / SenderCertificate (libsignal rust/protocol/src/sealed_sender.rs), with our
 * own fixed binary layouts and labels.
 *
 *   trust root          Ed25519 key pinned in the build (the operator keeps its private half offline)
 *   ServerCertificate   version u8 || key id u32 || Enc(Ed25519 server key) || expires u64 ||
 *                       sig[64] = Sign(root, L_server || everything before sig)            110 bytes
 *   SenderCertificate   version u8 || address (group/address.ts: u8 len || username || u32 device) ||
 *                       IdentityPublic (131) || expires u64 || ServerCertificate (110) ||
 *                       sig[64] = Sign(server key, L_sender || everything before sig)   322..351 bytes
 *
 * The sender certificate names its signer by embedding the whole server certificate (Signal's
 * `Embedded` signer), so a recipient verifies it offline with nothing but the pinned trust: no
 * fetch on the receive path. A server key id is "known" only if the pinned root signed it and it is
 * not on the pinned revocation list (`SealedSenderTrust`); anything else is refused.
 *
 * Verification (`verifySenderCertificate`) checks, in order: the signer's key id is not revoked,
 * the root's signature, the signer has not expired, the server key's signature, the certificate
 * does not outlive its signer, the certificate has not expired, and IKd is signed by IKs.
 * "Expired" means `at > expires` (a certificate is valid up to and including its expiry ms).
 * Signature failures are InvalidSignature; a well-signed certificate that must not be trusted
 * (revoked, expired, outliving its signer) is UntrustedIdentity.
 *
 * The host issues sender certificates to authenticated accounts with `issueSenderCertificate`
 * (pure: the server key and the clock come in). Decoders are strict and canonical (re-encoding a
 * decoded certificate gives the same bytes, which is what the signatures cover); they never check
 * signatures, verification does. Knows nothing of envelopes, sessions, storage or the network.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, concatBytes } from '../codec/bytes';
import { KeyType, encodeKey, readKey } from '../codec/keys';
import { USERNAME_MAX, asUsername } from '../codec/username';
import { readAddress, writeAddress, type Address } from './group/address';
import type { Deps } from './deps';
import { encodeIdentityPublic, readIdentityPublic, verifyIdentity, type IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import { ED25519_PUBLIC_LEN, SIGNATURE_LEN, ed25519KeyPair, ed25519Sign, ed25519Verify, type KeyPair } from './primitives';

export const SERVER_CERTIFICATE_VERSION = 1;
export const SENDER_CERTIFICATE_VERSION = 1;

/** 1 + 4 + 33 + 8 + 64. */
export const SERVER_CERTIFICATE_LEN = 110;
const IDENTITY_PUBLIC_LEN = 131;
/** version + username (u8 length + up to 32 bytes) + device + identity + expires + signer + sig. */
export const SENDER_CERTIFICATE_MAX_LEN = 1 + 1 + USERNAME_MAX + 4 + IDENTITY_PUBLIC_LEN + 8 + SERVER_CERTIFICATE_LEN + SIGNATURE_LEN;

/** How long the host's sender certificates live by default: short, so a stolen one ages out soon. */
export const SENDER_CERTIFICATE_DEFAULT_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** The longest lifetime `issueSenderCertificate` accepts (P41: "short-lived"). */
export const SENDER_CERTIFICATE_MAX_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** Device ids are u32 on the wire; 0 is never a device (DESIGN.md §4: device 1 until linking). */
export const MAX_DEVICE_ID = 0xffff_ffff;

/** What a recipient pins in its build to accept sealed messages. */
export interface SealedSenderTrust {
  /** The trust root's Ed25519 public key (32 bytes). */
  readonly root: Uint8Array;
  /** Server key ids that must never be accepted again (a leaked server key is revoked here). */
  readonly revokedServerKeyIds: readonly number[];
}

export interface ServerCertificate {
  /** u32, chosen by the operator; unique per server key. */
  readonly keyId: number;
  /** Ed25519 public key that signs sender certificates. */
  readonly key: Uint8Array;
  /** ms since the epoch; after this the key signs nothing anyone accepts. */
  readonly expires: number;
  /** Ed25519 by the trust root over L_server || body. */
  readonly signature: Uint8Array;
}

/** What the host holds to issue sender certificates: its certificate and the matching private key. */
export interface ServerSigningKey {
  readonly certificate: ServerCertificate;
  /** Ed25519 secret key (libsodium's 64-byte seed || public form). */
  readonly privateKey: Uint8Array;
}

export interface SenderCertificate extends Address {
  readonly identity: IdentityPublic;
  /** ms since the epoch. */
  readonly expires: number;
  readonly signer: ServerCertificate;
  /** Ed25519 by signer.key over L_sender || body. */
  readonly signature: Uint8Array;
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) fail('InvalidArgument', `${what} ${v} is not a u32`);
}

function checkTime(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms) || ms < 0) fail('InvalidArgument', `${what} ${ms} is not a time in ms`);
}

// ---- server certificate ----

function serverBody(c: Omit<ServerCertificate, 'signature'>): Uint8Array {
  checkU32(c.keyId, 'server key id');
  checkTime(c.expires, 'server certificate expiry');
  return new ByteWriter().u8(SERVER_CERTIFICATE_VERSION).u32(c.keyId).raw(encodeKey(KeyType.Ed25519, c.key)).u64(c.expires).finish();
}

function serverSigned(body: Uint8Array): Uint8Array {
  return concatBytes(labelBytes(Labels.serverCertificate), body);
}

/** A trust root key pair (operator tooling and tests; the private half never reaches a browser). */
export function generateTrustRoot(deps: Deps): KeyPair {
  return ed25519KeyPair(deps);
}

/** The trust root signs a server key (operator tooling, offline). */
export function issueServerCertificate(input: { rootPrivateKey: Uint8Array; keyId: number; key: Uint8Array; expires: number }): ServerCertificate {
  const body = serverBody(input);
  return { keyId: input.keyId, key: input.key, expires: input.expires, signature: ed25519Sign(input.rootPrivateKey, serverSigned(body)) };
}

/** A fresh server key pair and its certificate from the trust root. */
export function generateServerSigningKey(input: { rootPrivateKey: Uint8Array; keyId: number; expires: number }, deps: Deps): ServerSigningKey {
  const kp = ed25519KeyPair(deps);
  return { certificate: issueServerCertificate({ ...input, key: kp.publicKey }), privateKey: kp.privateKey };
}

export function encodeServerCertificate(c: ServerCertificate): Uint8Array {
  return new ByteWriter().raw(serverBody(c)).fixed(c.signature, SIGNATURE_LEN).finish();
}

function readServerCertificate(r: ByteReader): ServerCertificate {
  const v = r.u8();
  if (v !== SERVER_CERTIFICATE_VERSION) fail('UnsupportedVersion', `server certificate version ${v}`);
  const keyId = r.u32();
  const key = readKey(r, KeyType.Ed25519);
  const expires = r.u64();
  const signature = r.fixed(SIGNATURE_LEN);
  return { keyId, key, expires, signature };
}

/** Strict decode; does not verify (see verifyServerCertificate). */
export function decodeServerCertificate(bytes: Uint8Array): ServerCertificate {
  const r = new ByteReader(bytes, 'server certificate');
  const c = readServerCertificate(r);
  r.end();
  return c;
}

/** Throws unless `c` is signed by the pinned root, not revoked and not expired at `at` (ms). */
export function verifyServerCertificate(c: ServerCertificate, trust: SealedSenderTrust, at: number): void {
  if (trust.root.length !== ED25519_PUBLIC_LEN) fail('InvalidArgument', `trust root: ${trust.root.length} bytes`);
  // Revocation first: a revoked key is refused whatever else holds (libsignal does the same).
  if (trust.revokedServerKeyIds.includes(c.keyId)) fail('UntrustedIdentity', `server key id ${c.keyId} is revoked`);
  if (!ed25519Verify(trust.root, serverSigned(serverBody(c)), c.signature)) {
    fail('InvalidSignature', `server certificate ${c.keyId} not signed by the trust root`);
  }
  if (at > c.expires) fail('UntrustedIdentity', `server certificate ${c.keyId} expired at ${c.expires}, checked at ${at}`);
}

// ---- sender certificate ----

type SenderBody = Omit<SenderCertificate, 'signature'>;

function senderBody(c: SenderBody): Uint8Array {
  checkTime(c.expires, 'sender certificate expiry');
  const w = new ByteWriter().u8(SENDER_CERTIFICATE_VERSION);
  return writeAddress(w, c).raw(encodeIdentityPublic(c.identity)).u64(c.expires).raw(encodeServerCertificate(c.signer)).finish();
}

function senderSigned(body: Uint8Array): Uint8Array {
  return concatBytes(labelBytes(Labels.senderCertificate), body);
}

export interface IssueSenderCertificateInput {
  server: ServerSigningKey;
  username: string;
  device: number;
  /** The identity the host has on record for this account (verified here before signing). */
  identity: IdentityPublic;
  /** Defaults to SENDER_CERTIFICATE_DEFAULT_LIFETIME_MS; at most SENDER_CERTIFICATE_MAX_LIFETIME_MS. */
  lifetimeMs?: number;
}

/**
 * Host side: a sender certificate for an authenticated account, valid from deps.now() for the
 * lifetime, cut short at the server certificate's own expiry. Refuses an expired server
 * certificate, an identity whose IKd is not signed by its IKs, and a non-canonical username.
 */
export function issueSenderCertificate(input: IssueSenderCertificateInput, deps: Deps): SenderCertificate {
  const now = deps.now();
  const lifetime = input.lifetimeMs ?? SENDER_CERTIFICATE_DEFAULT_LIFETIME_MS;
  if (!Number.isSafeInteger(lifetime) || lifetime < 1 || lifetime > SENDER_CERTIFICATE_MAX_LIFETIME_MS) {
    fail('InvalidArgument', `certificate lifetime ${lifetime} ms outside 1..${SENDER_CERTIFICATE_MAX_LIFETIME_MS}`);
  }
  const signer = input.server.certificate;
  if (now > signer.expires) fail('InvalidArgument', `server certificate ${signer.keyId} expired at ${signer.expires}, now ${now}`);
  verifyIdentity(input.identity);
  const body: SenderBody = {
    username: asUsername(input.username),
    device: input.device,
    identity: input.identity,
    expires: Math.min(now + lifetime, signer.expires),
    signer
  };
  return { ...body, signature: ed25519Sign(input.server.privateKey, senderSigned(senderBody(body))) };
}

export function encodeSenderCertificate(c: SenderCertificate): Uint8Array {
  return new ByteWriter().raw(senderBody(c)).fixed(c.signature, SIGNATURE_LEN).finish();
}

export function readSenderCertificate(r: ByteReader): SenderCertificate {
  const v = r.u8();
  if (v !== SENDER_CERTIFICATE_VERSION) fail('UnsupportedVersion', `sender certificate version ${v}`);
  const { username, device } = readAddress(r);
  const identity = readIdentityPublic(r);
  const expires = r.u64();
  const signer = readServerCertificate(r);
  const signature = r.fixed(SIGNATURE_LEN);
  return { username, device, identity, expires, signer, signature };
}

/** Strict decode; does not verify (see verifySenderCertificate). */
export function decodeSenderCertificate(bytes: Uint8Array): SenderCertificate {
  if (bytes.length > SENDER_CERTIFICATE_MAX_LEN) fail('DecodeFailed', `sender certificate of ${bytes.length} bytes exceeds ${SENDER_CERTIFICATE_MAX_LEN}`);
  const r = new ByteReader(bytes, 'sender certificate');
  const c = readSenderCertificate(r);
  r.end();
  return c;
}

/**
 * What verification may consult to skip signature checks it already did (sealed-cache.ts
 * implements it). Only the Ed25519 verifications are ever skipped, never a time or revocation check.
 */
export interface VerifiedCertificateMemo {
  /** Throws unless the memo was made for `trust`. */
  checkTrust(trust: SealedSenderTrust): void;
  hasVerifiedCertificate(certificate: Uint8Array): boolean;
  rememberVerifiedCertificate(certificate: Uint8Array): void;
}

/**
 * Throws unless the whole chain holds at `at` (ms): root -> server certificate -> this
 * certificate, nothing revoked or expired, and the identity's IKd signed by its IKs. See the
 * module header for the order and the error codes. With `memo`, certificates whose signatures
 * were verified before under the same trust skip the three Ed25519 verifications; the result, or
 * the error, is the same either way.
 */
export function verifySenderCertificate(c: SenderCertificate, trust: SealedSenderTrust, at: number, memo?: VerifiedCertificateMemo): void {
  memo?.checkTrust(trust);
  const encoded = memo ? encodeSenderCertificate(c) : undefined;
  if (encoded && memo?.hasVerifiedCertificate(encoded)) {
    checkTimes(c, trust, at);
    return;
  }
  verifyServerCertificate(c.signer, trust, at);
  if (!ed25519Verify(c.signer.key, senderSigned(senderBody(c)), c.signature)) {
    fail('InvalidSignature', `sender certificate not signed by server key ${c.signer.keyId}`);
  }
  checkSenderTimes(c, at);
  verifyIdentity(c.identity);
  if (encoded) memo?.rememberVerifiedCertificate(encoded);
}

function checkSenderTimes(c: SenderCertificate, at: number): void {
  if (c.expires > c.signer.expires) fail('UntrustedIdentity', `sender certificate outlives server certificate ${c.signer.keyId}`);
  if (at > c.expires) fail('UntrustedIdentity', `sender certificate expired at ${c.expires}, checked at ${at}`);
}

/** Every check of a chain whose signatures are known good, in verification's order. */
function checkTimes(c: SenderCertificate, trust: SealedSenderTrust, at: number): void {
  if (trust.revokedServerKeyIds.includes(c.signer.keyId)) fail('UntrustedIdentity', `server key id ${c.signer.keyId} is revoked`);
  if (at > c.signer.expires) fail('UntrustedIdentity', `server certificate ${c.signer.keyId} expired at ${c.signer.expires}, checked at ${at}`);
  checkSenderTimes(c, at);
}
