/**
 * Secrets at rest (DESIGN.md §8, SECURITY.md P32): private keys and session state are sealed with
 * AES-256-GCM under a NON-EXTRACTABLE WebCrypto key kept in IndexedDB. The key object can be used
 * by this origin but its bytes cannot be read out, so a copy of the database files alone does not
 * reveal them. Sealing is async WebCrypto: callers seal BEFORE opening a write transaction.
 * Knows nothing of what the bytes mean.
 */
import { fail } from '../../src/lib/crypto/errors';
import type { Sealed, VaultDb } from './schema';

const WRAP_KEY = 'wrapKey';

/** Returns the vault's wrapping key, creating it on first use. */
export async function wrapKey(db: VaultDb): Promise<CryptoKey> {
  const existing = (await db.get('meta', WRAP_KEY)) as CryptoKey | undefined;
  if (existing) return existing;
  const key = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const tx = db.transaction('meta', 'readwrite');
  // Another tab may have raced us: keep whichever key was stored first.
  const raced = (await tx.store.get(WRAP_KEY)) as CryptoKey | undefined;
  if (!raced) await tx.store.put(key, WRAP_KEY);
  await tx.done;
  return raced ?? key;
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
    return fail('DecodeFailed', `sealed record of ${sealed.ct.length} bytes does not open`);
  }
}
