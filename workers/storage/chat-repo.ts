/**
 * Chats (one per person for now, keyed by their username): the list the UI shows — last message preview, time, unread
 * count, and how many messages are known to be missing (P14). The preview is sealed at rest
 * (P32, record-seal.ts); `updateChat` opens and re-seals it synchronously inside the transaction.
 */
import { openText, sealText, type Conn } from './record-seal';
import type { Username } from '../../src/lib/codec/username';
import type { ChatRecord, ChatRow, Tx, Vault } from './schema';

export const PREVIEW_CHARS = 80;
const STORE = 'chats';

export function emptyChat(username: Username): ChatRecord {
  return { username, lastPreview: '', lastAt: 0, unread: 0, missing: 0 };
}

export function toChatRow(c: Conn, chat: ChatRecord): ChatRow {
  const { lastPreview, username, ...clear } = chat;
  return { ...clear, id: username, sealed: sealText(c, STORE, username, lastPreview) };
}

export function fromChatRow(c: Conn, row: ChatRow): ChatRecord {
  const { sealed, id, ...clear } = row;
  return { ...clear, username: id, lastPreview: openText(c, STORE, id, sealed) };
}

export async function listChats(vault: Vault): Promise<ChatRecord[]> {
  const all = await vault.db.getAllFromIndex(STORE, 'byLastAt');
  return all.reverse().map((r) => fromChatRow(vault.db, r));
}

export async function getChat(vault: Vault, username: Username): Promise<ChatRecord | undefined> {
  const row = await vault.db.get(STORE, username);
  return row && fromChatRow(vault.db, row);
}

/** Reads, changes and writes one chat inside `tx`. */
export async function updateChat(tx: Tx, username: Username, change: (c: ChatRecord) => ChatRecord): Promise<ChatRecord> {
  const store = tx.objectStore(STORE);
  const row = await store.get(username);
  const current = row ? fromChatRow(tx, row) : emptyChat(username);
  let next = change(current);
  // Unchanged and already stored: nothing to write (a fresh nonce would only churn the row).
  if (row && next === current) return current;
  // A deleted chat comes back to the list with its next message or notice (one moves its time,
  // its unread count or its preview; a late one older than the deletion may move only the last two).
  const moved = next.lastAt > current.lastAt || next.unread > current.unread || (next.lastPreview !== '' && next.lastPreview !== current.lastPreview);
  if (next.cleared && current.cleared && moved) {
    const { cleared: _cleared, ...shown } = next;
    next = shown;
  }
  await store.put(toChatRow(tx, next));
  return next;
}

export function preview(text: string): string {
  return text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS - 1) + '…' : text;
}
