/**
 * Chats (one per contact for now): the list the UI shows — last message preview, time, unread
 * count, and how many messages are known to be missing (P14).
 */
import type { ChatRecord, Tx } from './schema';
import type { Vault } from './vault';

export const PREVIEW_CHARS = 80;

export function emptyChat(id: string): ChatRecord {
  return { id, lastPreview: '', lastAt: 0, unread: 0, missing: 0 };
}

export async function listChats(vault: Vault): Promise<ChatRecord[]> {
  const all = await vault.db.getAllFromIndex('chats', 'byLastAt');
  return all.reverse();
}

export function getChat(vault: Vault, id: string): Promise<ChatRecord | undefined> {
  return vault.db.get('chats', id);
}

/** Reads, changes and writes one chat inside `tx`. */
export async function updateChat(tx: Tx, id: string, change: (c: ChatRecord) => ChatRecord): Promise<ChatRecord> {
  const store = tx.objectStore('chats');
  const next = change((await store.get(id)) ?? emptyChat(id));
  await store.put(next);
  return next;
}

export function preview(text: string): string {
  return text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS - 1) + '…' : text;
}
