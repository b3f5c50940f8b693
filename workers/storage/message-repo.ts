/**
 * Messages, ordered per chat by the sender's timestamp so a late message (P14) slots into place.
 * Incoming messages are keyed by `${sender}:${content id}`: that key is the dedupe key that makes
 * a re-delivered envelope show once (P13).
 */
import type { MessageRecord, MessageStatus, Tx } from './schema';
import type { Vault } from './vault';

export function incomingKey(sender: string, id: string): string {
  return `${sender}:${id}`;
}

export async function listMessages(vault: Vault, chatId: string): Promise<MessageRecord[]> {
  return vault.db.getAllFromIndex('messages', 'byChat', IDBKeyRange.bound([chatId, 0], [chatId, Number.MAX_SAFE_INTEGER]));
}

export function txGetMessage(tx: Tx, key: string): Promise<MessageRecord | undefined> {
  return tx.objectStore('messages').get(key);
}

export async function putMessage(tx: Tx, m: MessageRecord): Promise<void> {
  await tx.objectStore('messages').put(m);
}

const RANK: Record<MessageStatus, number> = { blocked: 0, failed: 0, queued: 0, sent: 1, delivered: 2, read: 3, received: 0 };

/** Moves an outgoing message's status forward only (a late "delivered" never undoes "read"). */
export async function advanceStatus(tx: Tx, key: string, status: 'sent' | 'delivered' | 'read'): Promise<MessageRecord | undefined> {
  const m = await txGetMessage(tx, key);
  if (!m || m.direction !== 'out' || RANK[m.status] >= RANK[status]) return undefined;
  const next = { ...m, status };
  await putMessage(tx, next);
  return next;
}

/** Incoming messages of a chat not yet read. */
export async function unreadIncoming(vault: Vault, chatId: string): Promise<MessageRecord[]> {
  return (await listMessages(vault, chatId)).filter((m) => m.direction === 'in' && !m.read);
}
