/**
 * The outbox: outgoing content in send order. An item is first `content` (not yet encrypted);
 * the engine encrypts it and, in ONE transaction, stores the ciphertext here with the advanced
 * session, so a retry re-sends the same ciphertext and never re-runs the ratchet (P34).
 */
import type { OutboxRecord, Tx } from './schema';
import type { Vault } from './vault';

export async function addOutbox(tx: Tx, item: OutboxRecord): Promise<number> {
  return tx.objectStore('outbox').add(item);
}

export function listOutbox(vault: Vault): Promise<OutboxRecord[]> {
  return vault.db.getAll('outbox');
}

export async function putOutbox(tx: Tx, item: OutboxRecord): Promise<void> {
  await tx.objectStore('outbox').put(item);
}

export async function deleteOutbox(tx: Tx, seq: number): Promise<void> {
  await tx.objectStore('outbox').delete(seq);
}
