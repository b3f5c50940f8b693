/**
 * Secrets at rest (DESIGN.md §8, SECURITY.md P32): private keys and the vault's data key are
 * sealed with AES-256-GCM under a NON-EXTRACTABLE WebCrypto key kept in IndexedDB (session state,
 * written on every message, is sealed synchronously with the data key: record-seal.ts).
 * The key object can be used by this origin but its bytes cannot be read out BY SCRIPT. That is
 * all "non-extractable" means: the browser itself stores the key's bytes on disk with the
 * profile's IndexedDB, so a copy of the browser profile (or the origin's IndexedDB directory)
 * opens every record sealed here, unless the app lock is on (app-lock-repo.ts, SECURITY.md P46):
 * then the key is imported from a lock key that is stored only wrapped under the user's
 * passphrase or passkey, and no usable key is on disk. Sealing is async WebCrypto: callers seal BEFORE
 * opening a write transaction. A record that does not open means the vault's key was replaced or
 * the record damaged: that is StorageLost (P33), never an ordinary decode error.
 * Knows nothing of what the bytes mean.
 */
import type { Sealed } from './schema';
import { engineFail } from '../engine/errors';

/** A new wrapping key: AES-256-GCM, non-extractable (its bytes never exist in script). */
export function newWrapKey(): Promise<CryptoKey> {
  return globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export async function seal(key: CryptoKey, plaintext: Uint8Array): Promise<Sealed> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext as BufferSource));
  return { iv, ct };
}

export async function unseal(key: CryptoKey, sealed: Sealed): Promise<Uint8Array> {
  try {
    const pt = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv as BufferSource }, key, sealed.ct as BufferSource);
    return new Uint8Array(pt);
  } catch {
    return engineFail('StorageLost', `sealed record of ${sealed.ct?.length ?? 0} bytes does not open`);
  }
}
