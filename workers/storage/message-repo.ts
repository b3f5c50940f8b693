/**
 * Messages, ordered per chat by the sender's timestamp so a late message (P14) slots into place.
 * Incoming messages are keyed by `${sender}:${content id}`: that key is the dedupe key that makes
 * a re-delivered envelope show once (P13). The body is sealed at rest (P32, record-seal.ts);
 * everything else stays clear for the indexes and the status logic inside transactions.
 */
import { messageOwner, txDropFile } from './file-repo';
import { openBytes, sealBytes, type Conn } from './record-seal';
import { decodeContent, encodeContent } from '../../src/lib/wire/content';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { engineFail } from '../engine/errors';
import { forgetMessage, indexMessage } from './search-repo';
import type { MessageExtras, MessageRecord, MessageRow, MessageStatus, Tx, Vault } from './schema';
import type { Username } from '../../src/lib/codec/username';

const STORE = 'messages';

/**
 * A file's sealed value starts with 0xFF, a byte no UTF-8 text starts with, then its content
 * (wire/attachment-content.ts, caption as body): the key and digest stay inside the one sealed
 * field, so the data key rotation (P46) re-seals them with the rest.
 */
const ATTACHMENT_MARK = 0xff;
/**
 * A message with actions (replies, reactions, edits: schema.ts MessageExtras) starts with 0xFE, then
 * JSON `{ extras, inner }` where `inner` is the base64url of the value it would have without them.
 */
const RICH_MARK = 0xfe;

function withMark(mark: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = mark;
  out.set(bytes, 1);
  return out;
}

function sealedBody(m: MessageRecord): Uint8Array {
  if (!m.attachment) return new TextEncoder().encode(m.body);
  const content = encodeContent({ ...m.attachment, ...(m.body ? { caption: m.body } : {}) });
  const out = new Uint8Array(content.length + 1);
  out[0] = ATTACHMENT_MARK;
  out.set(content, 1);
  return out;
}

export function toMessageRow(c: Conn, m: MessageRecord): MessageRow {
  const { body: _body, username, attachment: _attachment, extras, ...clear } = m;
  const inner = sealedBody(m);
  // Replies, reactions and edits are sealed in the same value as the body (schema.ts MessageExtras).
  const plain = extras ? withMark(RICH_MARK, new TextEncoder().encode(JSON.stringify({ extras, inner: toBase64Url(inner) }))) : inner;
  return { ...clear, chatId: username, sealed: sealBytes(c, STORE, m.key, plain) };
}

export function fromMessageRow(c: Conn, row: MessageRow): MessageRecord {
  const { sealed, chatId, ...clear } = row;
  const plain = openBytes(c, STORE, row.key, sealed);
  if (plain[0] !== RICH_MARK) return { ...clear, username: chatId, ...bodyOf(plain) };
  let rich: { extras: MessageExtras; inner: string };
  try {
    rich = JSON.parse(new TextDecoder().decode(plain.subarray(1))) as { extras: MessageExtras; inner: string };
  } catch {
    return engineFail('StorageLost', `a sealed message of ${plain.length} bytes is not readable`);
  }
  return { ...clear, username: chatId, ...bodyOf(fromBase64Url(rich.inner, plain.length)), extras: rich.extras };
}

function bodyOf(plain: Uint8Array): Pick<MessageRecord, 'body' | 'attachment'> {
  if (plain[0] !== ATTACHMENT_MARK) return { body: new TextDecoder().decode(plain) };
  const content = decodeContent(plain.subarray(1));
  if (content.kind !== 'attachment') return { body: '' };
  const { caption, ...attachment } = content;
  return { body: caption ?? '', attachment };
}

/**
 * Deletes one message row, its search entry and our copy of its file in the same transaction
 * (P44: no copy of it stays). Every path that removes a message row goes through here.
 */
export async function deleteMessage(tx: Tx, key: string): Promise<void> {
  await tx.objectStore(STORE).delete(key);
  await forgetMessage(tx, key);
  await txDropFile(tx, messageOwner(key));
}

export function incomingKey(sender: Username, id: string): string {
  return `${sender}:${id}`;
}

/** Where a page ends: a message's sort position (its `sentAt`, then its key, the index's own order). */
export interface PagePosition {
  sentAt: number;
  key: string;
}

export interface RecordPage {
  /** Oldest first. */
  records: MessageRecord[];
  /** True if the chat has messages before the first of `records`. */
  older: boolean;
}

/**
 * The `limit` messages of a chat just before `before` (the newest when absent), oldest first.
 * Walks the byChat index ([chatId, sentAt], ties in key order) backwards and opens only the rows
 * it returns, so a page costs the same in a chat of ten messages or ten thousand.
 */
export async function pageMessages(vault: Vault, username: Username, limit: number, before?: PagePosition): Promise<RecordPage> {
  const range = IDBKeyRange.bound([username, 0], [username, before?.sentAt ?? Number.MAX_SAFE_INTEGER]);
  const tx = vault.db.transaction(STORE, 'readonly');
  const rows: MessageRow[] = [];
  let older = false;
  let cursor = await tx.store.index('byChat').openCursor(range, 'prev');
  while (cursor) {
    const row = cursor.value;
    // Rows at `before`'s own time sort by key: only those with a smaller key come before it.
    if (!before || row.sentAt < before.sentAt || row.key < before.key) {
      if (rows.length === limit) {
        older = true;
        break;
      }
      rows.push(row);
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return { records: rows.reverse().map((r) => fromMessageRow(vault.db, r)), older };
}

/** One message by its key, or undefined. */
export async function getMessage(vault: Vault, key: string): Promise<MessageRecord | undefined> {
  const row = await vault.db.get(STORE, key);
  return row && fromMessageRow(vault.db, row);
}

export async function listMessages(vault: Vault, username: Username): Promise<MessageRecord[]> {
  const rows = await vault.db.getAllFromIndex(STORE, 'byChat', IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]));
  return rows.map((r) => fromMessageRow(vault.db, r));
}

export async function txGetMessage(tx: Tx, key: string): Promise<MessageRecord | undefined> {
  const row = await tx.objectStore(STORE).get(key);
  return row && fromMessageRow(tx, row);
}

/** Writes a message row; its search entry follows in the same transaction (an edit replaces the old words). */
export async function putMessage(tx: Tx, m: MessageRecord): Promise<void> {
  await tx.objectStore(STORE).put(toMessageRow(tx, m));
  await indexMessage(tx, m);
}

const RANK: Record<MessageStatus, number> = { blocked: 0, failed: 0, stale: 0, queued: 0, sent: 1, delivered: 2, read: 3, received: 0 };

/** Moves an outgoing message's status forward only (a late "delivered" never undoes "read"). */
export async function advanceStatus(tx: Tx, key: string, status: 'sent' | 'delivered' | 'read'): Promise<MessageRecord | undefined> {
  const m = await txGetMessage(tx, key);
  if (!m || m.direction !== 'out' || RANK[m.status] >= RANK[status]) return undefined;
  const next = { ...m, status };
  await putMessage(tx, next);
  return next;
}

/** The sort key (`sentAt`) of the chat's last entry, or 0 for an empty chat. */
export async function newestSentAt(tx: Tx, username: Username): Promise<number> {
  const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
  const cursor = await tx.objectStore(STORE).index('byChat').openKeyCursor(range, 'prev');
  return cursor ? (cursor.key as [string, number])[1] : 0;
}

/**
 * Incoming messages of a chat not yet read, newest first. With `expected` (the chat's unread
 * count, exact while reads and receives are serialised) the walk stops once it found that many,
 * so marking a long chat read opens only its unread rows; direction and read state are clear
 * fields, so the rows passed over are never opened.
 */
export async function unreadIncoming(vault: Vault, username: Username, expected = Infinity): Promise<MessageRecord[]> {
  const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
  const tx = vault.db.transaction(STORE, 'readonly');
  const rows: MessageRow[] = [];
  let cursor = await tx.store.index('byChat').openCursor(range, 'prev');
  while (cursor && rows.length < expected) {
    if (cursor.value.direction === 'in' && !cursor.value.read) rows.push(cursor.value);
    cursor = await cursor.continue();
  }
  await tx.done;
  return rows.map((r) => fromMessageRow(vault.db, r));
}
