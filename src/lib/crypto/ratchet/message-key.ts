/**
 * Message key -> XChaCha20-Poly1305 key and nonce, and the AEAD around one message
 * (Signal Double Ratchet spec rev. 1, §3.1 ENCRYPT/DECRYPT, §5.2; DESIGN.md §4).
 *
 * HKDF-SHA256(salt = 0^32, ikm = mk, info "Parley_MessageKeys", 56 bytes) = key (32) || nonce (24).
 * RFC 5869 is written out here over keyed-hmac.ts: the zero-salt keyed state is computed once per
 * process and the PRK's is shared by T(1) and T(2); `ratchet-kdf.test.ts` checks it against the
 * shared `hkdf` and node:crypto.
 * AD = session AD || encoded header, so the header is authenticated with the body.
 * Knows nothing of chains, headers' layout or state.
 */
import { withKeyedHmac } from '../keyed-hmac';
import { Labels, labelBytes } from '../labels';
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_LEN } from '../primitives';
import { fail } from '../../codec/errors';

const INFO = labelBytes(Labels.messageKeys);
// RFC 5869 §2.3: T(1) = HMAC(PRK, info || 0x01); T(2) = HMAC(PRK, T(1) || info || 0x02) is built per call.
const T1_INPUT = Uint8Array.of(...INFO, 1);

export interface MessageKeys {
  key: Uint8Array;
  nonce: Uint8Array;
}

export function deriveMessageKeys(messageKey: Uint8Array): MessageKeys {
  if (messageKey.length !== 32) fail('InvalidArgument', `messageKey: ${messageKey.length} bytes, expected 32`);
  return withKeyedHmac((h) => {
    h.initZeroKey(0);
    const prk = h.mac(0, messageKey); // RFC 5869 §2.2 Extract, salt = 0^32
    h.init(0, prk);
    h.copy(1, 0);
    const t1 = h.mac(0, T1_INPUT);
    const t2Input = new Uint8Array(32 + INFO.length + 1);
    t2Input.set(t1, 0);
    t2Input.set(INFO, 32);
    t2Input[t2Input.length - 1] = 2;
    const t2 = h.mac(1, t2Input);
    // 56 bytes = T(1) || first 24 bytes of T(2); T(1) (32 bytes = AEAD_KEY_LEN) is exactly the key.
    const nonce = t2.slice(0, AEAD_NONCE_LEN);
    prk.fill(0);
    t2.fill(0);
    t2Input.fill(0);
    return { key: t1, nonce };
  });
}

/**
 * The caller's associated data, one buffer or parts to concatenate in order (the session passes
 * its AD and the envelope binding separately, so each message builds its full AD once).
 */
export type AssociatedData = Uint8Array | readonly Uint8Array[];

function fullAd(ad: AssociatedData, header: Uint8Array): Uint8Array {
  const parts = ad instanceof Uint8Array ? [ad] : ad;
  let len = header.length;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  out.set(header, o);
  return out;
}

export function sealWithMessageKey(messageKey: Uint8Array, plaintext: Uint8Array, ad: AssociatedData, header: Uint8Array): Uint8Array {
  const { key, nonce } = deriveMessageKeys(messageKey);
  try {
    return aeadEncrypt(key, nonce, plaintext, fullAd(ad, header));
  } finally {
    key.fill(0);
  }
}

/** Throws InvalidMac when the tag does not verify; nothing else is touched. */
export function openWithMessageKey(messageKey: Uint8Array, ciphertext: Uint8Array, ad: AssociatedData, header: Uint8Array): Uint8Array {
  const { key, nonce } = deriveMessageKeys(messageKey);
  try {
    return aeadDecrypt(key, nonce, ciphertext, fullAd(ad, header));
  } finally {
    key.fill(0);
  }
}
