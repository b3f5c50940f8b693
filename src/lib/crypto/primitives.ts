/**
 * Thin, synchronous, typed wrappers over the libsodium primitives the protocol uses.
 *
 * Key generation takes its seed from `deps.rng` so golden vectors are reproducible. This module
 * knows nothing of protocols: no labels, no encodings beyond raw key bytes.
 */
import { sodium } from './sodium';
import { fail } from '../codec/errors';
import type { Deps } from './deps';

import { ED25519_PUBLIC_LEN, MLKEM_PUBLIC_LEN, X25519_LEN } from '../codec/keys';

// Public-key lengths live with their encodings (codec/keys.ts); re-exported for the primitives' users.
export { ED25519_PUBLIC_LEN, MLKEM_PUBLIC_LEN, X25519_LEN };
export const ED25519_SECRET_LEN = 64;
export const SIGNATURE_LEN = 64;
export const MLKEM_SECRET_LEN = 2400;
export const MLKEM_CIPHERTEXT_LEN = 1088;
export const AEAD_KEY_LEN = 32;
export const AEAD_NONCE_LEN = 24;
export const AEAD_TAG_LEN = 16;

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

// ---- X25519 (RFC 7748) ----

export function x25519KeyPair(deps: Deps): KeyPair {
  const privateKey = deps.rng(X25519_LEN);
  return { publicKey: sodium().crypto_scalarmult_base(privateKey), privateKey };
}

export function x25519PublicFromPrivate(privateKey: Uint8Array): Uint8Array {
  return sodium().crypto_scalarmult_base(privateKey);
}

/**
 * X25519 with the all-zero output check (RFC 7748 §6.1): a low-order peer key yields zero,
 * which libsodium reports by throwing; either way we abort with InvalidKey.
 */
export function x25519(ourPrivate: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  if (theirPublic.length !== X25519_LEN) fail('InvalidKey', `x25519 public key: ${theirPublic.length} bytes`);
  let out: Uint8Array;
  try {
    out = sodium().crypto_scalarmult(ourPrivate, theirPublic);
  } catch {
    fail('InvalidKey', 'x25519: low-order public key');
  }
  let acc = 0;
  for (const b of out) acc |= b;
  if (acc === 0) fail('InvalidKey', 'x25519: all-zero shared secret');
  return out;
}

// ---- Ed25519 ----

export function ed25519KeyPair(deps: Deps): KeyPair {
  const kp = sodium().crypto_sign_seed_keypair(deps.rng(32));
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

export function ed25519Sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  return sodium().crypto_sign_detached(message, privateKey);
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_LEN || signature.length !== SIGNATURE_LEN) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

// ---- ML-KEM-768 (FIPS 203) ----

export function mlkemKeyPair(deps: Deps): KeyPair {
  const kp = sodium().crypto_kem_mlkem768_seed_keypair(deps.rng(64));
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

export function mlkemEncapsulate(publicKey: Uint8Array, deps: Deps): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== MLKEM_PUBLIC_LEN) fail('InvalidKey', `ML-KEM public key: ${publicKey.length} bytes`);
  try {
    const r = sodium().crypto_kem_mlkem768_enc_deterministic(publicKey, deps.rng(32));
    return { ciphertext: r.ciphertext, sharedSecret: r.sharedSecret };
  } catch {
    fail('InvalidKey', 'ML-KEM public key rejected');
  }
}

export function mlkemDecapsulate(privateKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length !== MLKEM_CIPHERTEXT_LEN) fail('DecodeFailed', `ML-KEM ciphertext: ${ciphertext.length} bytes`);
  try {
    return sodium().crypto_kem_mlkem768_dec(ciphertext, privateKey);
  } catch {
    fail('InvalidKey', 'ML-KEM decapsulation failed');
  }
}

// ---- XChaCha20-Poly1305 (AEAD) ----

export function aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array {
  if (ciphertext.length < AEAD_TAG_LEN) fail('InvalidMac', 'ciphertext shorter than its tag');
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    fail('InvalidMac', 'authentication failed');
  }
}

// ---- hashes ----

export function sha256(data: Uint8Array): Uint8Array {
  return sodium().crypto_hash_sha256(data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return sodium().crypto_hash_sha512(data);
}

/** Overwrite secret bytes we no longer need (best effort in JS). */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
