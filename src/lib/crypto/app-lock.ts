/**
 * App lock key wrapping (SECURITY.md P46, DESIGN.md §8 "with an app lock, by a key derived from a
 * passphrase"). With the lock on, the vault's wrapping key is not a browser-stored CryptoKey but
 * one imported from a random 32-byte LOCK KEY that is stored only wrapped:
 *  - under Argon2id(passphrase, random salt) — libsodium crypto_pwhash, parameters below;
 *  - and, optionally, under HKDF(a passkey's WebAuthn PRF output) for each passkey added.
 * Each wrap is XChaCha20-Poly1305 with a random nonce; the associated data binds the label of the
 * method, the wrap's own parameters and the vault's name, so a wrap cannot be moved to another
 * vault or have its parameters lowered without failing to open.
 *
 * Pure: bytes in, bytes out, randomness from `deps`. Knows nothing of storage, WebCrypto or WebAuthn.
 */
import { ByteWriter } from '../codec/bytes';
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { labelBytes, Labels } from './labels';
import { aeadDecrypt, aeadEncrypt } from './primitives';
import { sodium } from './sodium';

export const LOCK_KEY_LEN = 32;
const NONCE_LEN = 24;
const SALT_LEN = 16;

export interface Argon2Params {
  /** Argon2id passes (libsodium opslimit). */
  opslimit: number;
  /** Memory in bytes (libsodium memlimit). */
  memlimitBytes: number;
}

/**
 * Argon2id v1.3, single lane. 64 MiB is RFC 9106 §4's second recommended memory size and what
 * fits a phone browser's wasm heap (as for the PIN, crypto/pin/stretch.ts); 8 passes are twice
 * the PIN's 4 (so about 0.3 s per guess where the PIN's takes ~0.16 s; README "At rest" has the
 * figures measured here), a cost paid once per unlock. The lock passphrase guards against an offline search of a copied
 * browser profile, where nothing counts guesses: with MIN_LOCK_GUESSES_LOG10 = 12 below, an
 * exhaustive search costs about 10^12 × 0.3 s ≈ 10 000 core-years.
 */
export const APP_LOCK_ARGON2: Argon2Params = Object.freeze({ opslimit: 8, memlimitBytes: 64 * 1024 * 1024 });

/** log10 of the zxcvbn guesses a lock passphrase must reach (see APP_LOCK_ARGON2). */
export const MIN_LOCK_GUESSES_LOG10 = 12;

export interface SealedLockKey {
  nonce: Uint8Array;
  ct: Uint8Array;
}

export interface PassphraseWrap extends SealedLockKey {
  salt: Uint8Array;
  opslimit: number;
  memlimitBytes: number;
}

export interface PasskeyWrap extends SealedLockKey {
  /** The WebAuthn credential id (public: it names which passkey to ask for). */
  credentialId: Uint8Array;
  /** The PRF input the authenticator evaluates (random per passkey, public). */
  prfSalt: Uint8Array;
}

function passphraseAd(vault: string, w: Pick<PassphraseWrap, 'salt' | 'opslimit' | 'memlimitBytes'>): Uint8Array {
  return new ByteWriter()
    .bytes16(labelBytes(Labels.appLockPassphrase))
    .bytes16(new TextEncoder().encode(vault))
    .bytes16(w.salt)
    .u32(w.opslimit)
    .u32(w.memlimitBytes)
    .finish();
}

function passkeyAd(vault: string, w: Pick<PasskeyWrap, 'credentialId' | 'prfSalt'>): Uint8Array {
  return new ByteWriter()
    .bytes16(labelBytes(Labels.appLockPasskey))
    .bytes16(new TextEncoder().encode(vault))
    .bytes16(w.credentialId)
    .bytes16(w.prfSalt)
    .finish();
}

function passphraseKek(passphrase: string, salt: Uint8Array, p: Argon2Params): Uint8Array {
  if (passphrase.length === 0) fail('InvalidArgument', 'the passphrase is empty');
  const s = sodium();
  return s.crypto_pwhash(32, new TextEncoder().encode(passphrase.normalize('NFKC')), salt, p.opslimit, p.memlimitBytes, s.crypto_pwhash_ALG_ARGON2ID13);
}

function passkeyKek(prfOutput: Uint8Array): Uint8Array {
  if (prfOutput.length < 32) fail('InvalidArgument', `a PRF output of ${prfOutput.length} bytes`);
  return hkdf(new Uint8Array(32), prfOutput, labelBytes(Labels.appLockPasskey), 32);
}

export function newLockKey(deps: Deps): Uint8Array {
  return deps.rng(LOCK_KEY_LEN);
}

export function wrapWithPassphrase(vault: string, lockKey: Uint8Array, passphrase: string, p: Argon2Params, deps: Deps): PassphraseWrap {
  const head = { salt: deps.rng(SALT_LEN), opslimit: p.opslimit, memlimitBytes: p.memlimitBytes };
  const kek = passphraseKek(passphrase, head.salt, p);
  const nonce = deps.rng(NONCE_LEN);
  const ct = aeadEncrypt(kek, nonce, lockKey, passphraseAd(vault, head));
  kek.fill(0);
  return { ...head, nonce, ct };
}

/**
 * The lock key, or InvalidMac for a wrong passphrase (or a changed wrap: the two cannot be told
 * apart). A wrap whose parameters are below `floor` is refused before any work (InvalidArgument):
 * whoever can write the profile must not make the next unlock cheap to attack.
 */
export function unwrapWithPassphrase(vault: string, w: PassphraseWrap, passphrase: string, floor: Argon2Params): Uint8Array {
  if (w.opslimit < floor.opslimit || w.memlimitBytes < floor.memlimitBytes || w.salt.length !== SALT_LEN || w.nonce.length !== NONCE_LEN) {
    fail('InvalidArgument', `a lock record with Argon2id ${w.opslimit} passes and ${w.memlimitBytes} bytes is below this build's floor`);
  }
  const kek = passphraseKek(passphrase, w.salt, w);
  try {
    return checkLength(aeadDecrypt(kek, w.nonce, w.ct, passphraseAd(vault, w)));
  } finally {
    kek.fill(0);
  }
}

export function wrapWithPasskey(vault: string, lockKey: Uint8Array, prfOutput: Uint8Array, ids: Pick<PasskeyWrap, 'credentialId' | 'prfSalt'>, deps: Deps): PasskeyWrap {
  const kek = passkeyKek(prfOutput);
  const nonce = deps.rng(NONCE_LEN);
  const ct = aeadEncrypt(kek, nonce, lockKey, passkeyAd(vault, ids));
  kek.fill(0);
  return { credentialId: ids.credentialId, prfSalt: ids.prfSalt, nonce, ct };
}

/** The lock key, or InvalidMac (a different passkey's PRF output, or a changed wrap). */
export function unwrapWithPasskey(vault: string, w: PasskeyWrap, prfOutput: Uint8Array): Uint8Array {
  const kek = passkeyKek(prfOutput);
  try {
    return checkLength(aeadDecrypt(kek, w.nonce, w.ct, passkeyAd(vault, w)));
  } finally {
    kek.fill(0);
  }
}

function checkLength(k: Uint8Array): Uint8Array {
  if (k.length !== LOCK_KEY_LEN) fail('InvalidMac', `a lock key of ${k.length} bytes`);
  return k;
}
