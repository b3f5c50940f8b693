/**
 * Each handshake is accepted at most once (SECURITY.md P9, P13; as libsignal refuses a reused
 * last-resort prekey with the same base key): the base key of every PreKeyMessage that started a
 * session is remembered. A PreKeyMessage that matches no stored session but whose base key was
 * accepted before is a replay — typically an old one re-sent by the host after its session was
 * dropped or replaced; when it used only the signed and last-resort prekeys it would otherwise
 * decrypt again and push a stale session in front of the newer one. It fails with
 * ReplayedPreKeyMessage, is acked and shown nowhere.
 *
 * Stored in the meta store as SHA-256 prefixes of the base keys (public values; the prefix keeps
 * the record small), newest last, at most MAX_ACCEPTED_HANDSHAKES. Knows nothing of sessions.
 */
import { toHex } from '../../src/lib/codec/bytes';
import { sha256 } from '../../src/lib/crypto/primitives';
import type { Tx, Vault } from '../storage/schema';

export const MAX_ACCEPTED_HANDSHAKES = 2000;
const META_KEY = 'acceptedHandshakes';

export function handshakeId(baseKey: Uint8Array): string {
  return toHex(sha256(baseKey).subarray(0, 16));
}

async function read(get: (key: string) => Promise<unknown>): Promise<string[]> {
  const v = await get(META_KEY);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export async function wasAccepted(vault: Vault, baseKey: Uint8Array): Promise<boolean> {
  return (await read((k) => vault.db.get('meta', k))).includes(handshakeId(baseKey));
}

/** Inside the transaction that stores the new session. */
export async function rememberAccepted(tx: Tx, baseKey: Uint8Array): Promise<void> {
  const meta = tx.objectStore('meta');
  const seen = await read((k) => meta.get(k));
  const id = handshakeId(baseKey);
  if (seen.includes(id)) return;
  seen.push(id);
  await meta.put(seen.slice(-MAX_ACCEPTED_HANDSHAKES), META_KEY);
}
