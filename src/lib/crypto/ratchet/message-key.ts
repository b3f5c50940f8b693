/**
 * Message key -> XChaCha20-Poly1305 key and nonce, and the AEAD around one message
 * (Signal Double Ratchet spec rev. 1, §3.1 ENCRYPT/DECRYPT, §5.2; DESIGN.md §4).
 *
 * HKDF-SHA256(salt = 0^32, ikm = mk, info "Parley_MessageKeys", 56 bytes) = key (32) || nonce (24).
 * Every inner HMAC has a 32-byte key, so RFC 5869 is written out here with libsodium's one-shot
 * HMAC (5 wasm calls instead of 9); `ratchet-kdf.test.ts` checks it against the shared `hkdf`.
 * AD = session AD || encoded header, so the header is authenticated with the body.
 * Knows nothing of chains, headers' layout or state.
 */
import { sodium } from '../sodium';
import { Labels, labelBytes } from '../labels';
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_LEN } from '../primitives';
import { fail } from '../errors';

const INFO = labelBytes(Labels.messageKeys);
const ZERO_SALT = new Uint8Array(32);
// RFC 5869 §2.3: T(1) = HMAC(PRK, info || 0x01); T(2) = HMAC(PRK, T(1) || info || 0x02) is built per call.
const T1_INPUT = Uint8Array.of(...INFO, 1);

export interface MessageKeys {
  key: Uint8Array;
  nonce: Uint8Array;
}

export function deriveMessageKeys(messageKey: Uint8Array): MessageKeys {
  if (messageKey.length !== 32) fail('InvalidArgument', `messageKey: ${messageKey.length} bytes, expected 32`);
  const s = sodium();
  const prk = s.crypto_auth_hmacsha256(messageKey, ZERO_SALT); // RFC 5869 §2.2 Extract
  const t1 = s.crypto_auth_hmacsha256(T1_INPUT, prk);
  const t2Input = new Uint8Array(32 + INFO.length + 1);
  t2Input.set(t1, 0);
  t2Input.set(INFO, 32);
  t2Input[t2Input.length - 1] = 2;
  const t2 = s.crypto_auth_hmacsha256(t2Input, prk);
  // 56 bytes = T(1) || first 24 bytes of T(2); T(1) (32 bytes = AEAD_KEY_LEN) is exactly the key.
  const nonce = t2.slice(0, AEAD_NONCE_LEN);
  prk.fill(0);
  t2.fill(0);
  t2Input.fill(0);
  return { key: t1, nonce };
}

function fullAd(ad: Uint8Array, header: Uint8Array): Uint8Array {
  const out = new Uint8Array(ad.length + header.length);
  out.set(ad, 0);
  out.set(header, ad.length);
  return out;
}

export function sealWithMessageKey(messageKey: Uint8Array, plaintext: Uint8Array, ad: Uint8Array, header: Uint8Array): Uint8Array {
  const { key, nonce } = deriveMessageKeys(messageKey);
  try {
    return aeadEncrypt(key, nonce, plaintext, fullAd(ad, header));
  } finally {
    key.fill(0);
  }
}

/** Throws InvalidMac when the tag does not verify; nothing else is touched. */
export function openWithMessageKey(messageKey: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array, header: Uint8Array): Uint8Array {
  const { key, nonce } = deriveMessageKeys(messageKey);
  try {
    return aeadDecrypt(key, nonce, ciphertext, fullAd(ad, header));
  } finally {
    key.fill(0);
  }
}
