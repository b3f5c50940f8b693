/**
 * KDF_CK, the symmetric-key ratchet (Signal Double Ratchet spec rev. 1, §2.2, §5.2):
 * message key = HMAC-SHA256(CK, 0x01), next chain key = HMAC-SHA256(CK, 0x02).
 *
 * Both HMACs share one keyed state (keyed-hmac.ts): the chain key's ipad/opad blocks are hashed
 * once, not twice. Tests check the outputs against node:crypto and the shared `hmacSha256`.
 * Knows nothing of root keys, AEAD or state.
 */
import { withKeyedHmac } from '../keyed-hmac';
import { fail } from '../../codec/errors';

export const CHAIN_KEY_LEN = 32;
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export interface ChainStep {
  chainKey: Uint8Array;
  messageKey: Uint8Array;
}

export function kdfCk(chainKey: Uint8Array): ChainStep {
  if (chainKey.length !== CHAIN_KEY_LEN) fail('InvalidArgument', `chainKey: ${chainKey.length} bytes, expected 32`);
  return withKeyedHmac((h) => {
    h.init(0, chainKey);
    h.copy(1, 0);
    return { messageKey: h.mac(0, MESSAGE_KEY_SEED), chainKey: h.mac(1, CHAIN_KEY_SEED) };
  });
}
