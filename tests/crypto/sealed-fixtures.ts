// Fixtures for the sealed-sender tests (P41): a trust root, a server key, users with identities
// and certificates, and an independent implementation of the v1 envelope written from the module
// header's pseudocode (sealed-sender.ts), used to prove the layout and to craft envelopes the real
// sealer refuses to make (another person's certificate, raw content bytes).
import { seededDeps, type TestDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import {
  generateServerSigningKey,
  generateTrustRoot,
  issueSenderCertificate,
  type SealedSenderTrust,
  type SenderCertificate,
  type ServerSigningKey
} from '../../src/lib/crypto/certificates';
import { hkdf } from '../../src/lib/crypto/hkdf';
import { aeadEncrypt, x25519, x25519KeyPair, type KeyPair } from '../../src/lib/crypto/primitives';
import { asUsername } from '../../src/lib/codec/username';
import type { Address } from '../../src/lib/crypto/group/address';
import { concatBytes } from '../../src/lib/codec/bytes';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { acceptSession, initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import type { PreKeyBundle } from '../../src/lib/crypto/bundle';

export const DAY = 86_400_000;
const te = new TextEncoder();

export interface SealedUser {
  username: string;
  address: Address;
  identity: IdentityKeyPair;
  certificate: SenderCertificate;
}

export interface SealedWorld {
  deps: TestDeps;
  root: KeyPair;
  trust: SealedSenderTrust;
  server: ServerSigningKey;
  user(username: string, opts?: { device?: number; lifetimeMs?: number; server?: ServerSigningKey }): SealedUser;
}

/** A world frozen from `seed`: root, server key id 7 valid 30 days, users made on demand. */
export function sealedWorld(seed: string): SealedWorld {
  const deps = seededDeps(seed);
  const root = generateTrustRoot(deps);
  const server = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: 7, expires: deps.now() + 30 * DAY }, deps);
  const trust: SealedSenderTrust = { root: root.publicKey, revokedServerKeyIds: [0xdeadc357] };
  return {
    deps,
    root,
    trust,
    server,
    user(username, opts = {}) {
      const identity = generateIdentity(deps);
      const device = opts.device ?? 1;
      const certificate = issueSenderCertificate(
        { server: opts.server ?? server, username, device, identity: identityPublic(identity), lifetimeMs: opts.lifetimeMs },
        deps
      );
      return { username, address: { username: asUsername(username), device }, identity, certificate };
    }
  };
}

/** Typed X25519 key encoding (codec/keys.ts): 0x05 || key. */
const encX = (k: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(0x05), k);

/**
 * The v1 envelope from its specification, on raw padded plaintext: `claimedStatic` is what the
 * static box says, `staticPrivate` what the static DH really uses (an honest sender: the same
 * key pair). No checks at all: this is the attacker's sealer.
 */
export function referenceSeal(input: {
  padded: Uint8Array;
  recipient: Uint8Array;
  claimedStatic: Uint8Array;
  staticPrivate: Uint8Array;
  ephemeral?: KeyPair;
  deps: TestDeps;
}): Uint8Array {
  const v = Uint8Array.of(0x01);
  const e = input.ephemeral ?? x25519KeyPair(input.deps);
  const E = encX(e.publicKey);
  const okm = hkdf(new Uint8Array(32), x25519(e.privateKey, input.recipient), concatBytes(te.encode('Parley_SealedEphemeral'), v, encX(input.recipient), E), 64);
  const staticBox = aeadEncrypt(okm.slice(32), new Uint8Array(24), encX(input.claimedStatic), concatBytes(v, E));
  const kS = hkdf(okm.slice(0, 32), x25519(input.staticPrivate, input.recipient), concatBytes(te.encode('Parley_SealedStatic'), encX(input.recipient), staticBox), 32);
  return concatBytes(v, E, staticBox, aeadEncrypt(kS, new Uint8Array(24), input.padded, concatBytes(v, E, staticBox)));
}

/**
 * A session between two sealed users, past its PreKeyMessage stage (the initiator has decrypted
 * a reply): `a` is initiator's state, `b` the responder's.
 */
export function sessionBetween(initiator: SealedUser, responder: SealedUser, deps: TestDeps): { a: SessionState; b: SessionState } {
  const spk = generateSignedPreKey(responder.identity, 1, deps);
  const kem = generateKemPreKey(responder.identity, 2, true, deps);
  const bundle: PreKeyBundle = {
    version: 1,
    username: responder.username,
    identity: identityPublic(responder.identity),
    signedPreKey: signedPreKeyPublic(spk),
    kemPreKey: kemPreKeyPublic(kem)
  };
  const a0 = initiateSession({ ourIdentity: initiator.identity, ourUsername: initiator.username, theirUsername: responder.username, bundle }, deps);
  const first = sessionEncrypt(a0, te.encode('hello'), deps);
  const acc = acceptSession(
    {
      ourIdentity: responder.identity,
      ourUsername: responder.username,
      message: first.message,
      prekeys: { signedPreKey: () => spk, oneTimePreKey: () => undefined, kemPreKey: () => kem }
    },
    deps
  );
  const reply = sessionEncrypt(acc.state, te.encode('hi'), deps);
  return { a: sessionDecrypt(first.state, reply.message, deps).state, b: reply.state };
}
