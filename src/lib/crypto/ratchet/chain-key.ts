/**
 * KDF_CK, the symmetric-key ratchet (Signal Double Ratchet spec rev. 1, §2.2, §5.2):
 * message key = HMAC-SHA256(CK, 0x01), next chain key = HMAC-SHA256(CK, 0x02).
 *
 * Chain keys are always 32 bytes, so this uses libsodium's one-shot HMAC (one wasm call each)
 * instead of the streaming form the general HKDF needs; tests check it against `hmacSha256`.
 * Knows nothing of root keys, AEAD or state.
 */
import { sodium } from '../sodium';
import { fail } from '../errors';

export const CHAIN_KEY_LEN = 32;
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export interface ChainStep {
  chainKey: Uint8Array;
  messageKey: Uint8Array;
}

export function kdfCk(chainKey: Uint8Array): ChainStep {
  if (chainKey.length !== CHAIN_KEY_LEN) fail('InvalidArgument', `chainKey: ${chainKey.length} bytes, expected 32`);
  const s = sodium();
  return {
    messageKey: s.crypto_auth_hmacsha256(MESSAGE_KEY_SEED, chainKey),
    chainKey: s.crypto_auth_hmacsha256(CHAIN_KEY_SEED, chainKey)
  };
}
