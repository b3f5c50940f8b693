/**
 * The takeover key (SECURITY.md P37): proof of the master secret that a restored browser shows the
 * host before it replaces the account's device.
 *
 *   seed      = HKDF-SHA256(salt = 0^32, ikm = masterSecret, info = L_takeoverSeed || username, 32)
 *   key pair  = Ed25519 from seed; the host stores only the public half with the account record
 *   proof     = Ed25519(key, L_takeoverProof || host challenge || username || SHA-256(new device secret))
 *
 * The identity key alone no longer takes an account over: a browser that was restored away from
 * (or a stolen laptop) holds the identity key but not the master secret, which no browser keeps
 * after it has derived its working keys (workers/engine/pin/keys.ts). The challenge is the host's
 * fresh one-time login challenge, so a proof cannot be replayed; binding the device secret's hash
 * means a proof authorises exactly the browser that made it. The host learns nothing that tests a
 * PIN: the public key is keyed by the random master secret. Pure; no state, no I/O.
 */
import { fail } from '../../codec/errors';
import { ByteWriter } from '../../codec/bytes';
import { hkdf } from '../hkdf';
import { ed25519Sign, ed25519Verify, sha256, type KeyPair } from '../primitives';
import { sodium } from '../sodium';
import { Labels, labelBytes } from '../labels';
import { MASTER_SECRET_LEN } from './record';

export const TAKEOVER_PUBLIC_KEY_LEN = 32;
export const TAKEOVER_PROOF_LEN = 64;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function takeoverKeyPair(masterSecret: Uint8Array, username: string): KeyPair {
  if (masterSecret.length !== MASTER_SECRET_LEN) fail('InvalidArgument', `master secret of ${masterSecret.length} bytes`);
  if (username.length === 0) fail('InvalidArgument', 'username is empty');
  const info = new ByteWriter().bytes16(labelBytes(Labels.takeoverSeed)).bytes16(utf8(username)).finish();
  const seed = hkdf(new Uint8Array(32), masterSecret, info, 32);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  seed.fill(0);
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

export function takeoverMessage(challenge: Uint8Array, username: string, deviceSecret: Uint8Array): Uint8Array {
  return new ByteWriter()
    .bytes16(labelBytes(Labels.takeoverProof))
    .bytes16(challenge)
    .bytes16(utf8(username))
    .fixed(sha256(deviceSecret), 32)
    .finish();
}

export function signTakeover(privateKey: Uint8Array, challenge: Uint8Array, username: string, deviceSecret: Uint8Array): Uint8Array {
  return ed25519Sign(privateKey, takeoverMessage(challenge, username, deviceSecret));
}

export function verifyTakeover(publicKey: Uint8Array, proof: Uint8Array, challenge: Uint8Array, username: string, deviceSecret: Uint8Array): boolean {
  return ed25519Verify(publicKey, takeoverMessage(challenge, username, deviceSecret), proof);
}
