/**
 * KDF_RK, the root chain of the Double Ratchet (Signal Double Ratchet spec rev. 1, §2.3, §5.2).
 *
 * DESIGN.md §4: HKDF-SHA256 with salt = RK, ikm = DH output, info "Parley_Ratchet", 64 bytes,
 * split into the next root key and a new chain key. Runs once per DH ratchet step, where the two
 * X25519 operations dominate, so it uses the shared HKDF as is.
 *
 * Knows nothing of message keys, headers or state.
 */
import { hkdf } from '../hkdf';
import { Labels, labelBytes } from '../labels';
import { fail } from '../../codec/errors';

export const ROOT_KEY_LEN = 32;
const RATCHET_INFO = labelBytes(Labels.ratchet);

export interface RootStep {
  rootKey: Uint8Array;
  chainKey: Uint8Array;
}

export function kdfRk(rootKey: Uint8Array, dhOutput: Uint8Array): RootStep {
  if (rootKey.length !== ROOT_KEY_LEN) fail('InvalidArgument', `rootKey: ${rootKey.length} bytes, expected 32`);
  if (dhOutput.length !== 32) fail('InvalidArgument', `dhOutput: ${dhOutput.length} bytes, expected 32`);
  const okm = hkdf(rootKey, dhOutput, RATCHET_INFO, 64);
  // slice, not subarray: the two keys live on independently and must not share a buffer.
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32, 64) };
}
