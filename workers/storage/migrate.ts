/**
 * Schema v1 -> v2 (P32): v1 stored message bodies, chat previews, outbox content and contacts in
 * the clear. The v2 upgrade only marks the vault (schema.ts: a versionchange transaction cannot
 * wait for WebCrypto); `migrateClearRows` then seals every clear row in ONE readwrite transaction,
 * synchronously with the data key, and clears the mark in the same transaction — so a crash
 * midway leaves the marked v1 rows and the next open simply runs it again. Rows already sealed
 * are left alone, which makes it idempotent. Knows nothing of what the rows mean.
 */
import { toChatRow } from './chat-repo';
import { toContactRow } from './contact-repo';
import { toMessageRow } from './message-repo';
import { toOutboxRow } from './outbox-repo';
import type { StoreValue } from 'idb';
import { Meta, type ChatRecord, type ContactRecord, type MessageRecord, type OutboxRecord, type Tx, type VaultSchema } from './schema';

type UserStore = 'messages' | 'chats' | 'contacts' | 'outbox';
/** A v1 row as read back: its v1 Record type, not yet known to be clear. */
type Legacy = Record<string, unknown>;

/** Rewrites each row `reseal` returns a sealed form for (undefined: already sealed); returns the count. */
async function sealRows<S extends UserStore>(tx: Tx, store: S, reseal: (v: Legacy) => StoreValue<VaultSchema, S> | undefined): Promise<number> {
  let n = 0;
  let cursor = await tx.objectStore(store).openCursor();
  while (cursor) {
    const row = reseal(cursor.value as unknown as Legacy);
    if (row) {
      await cursor.update(row);
      n++;
    }
    cursor = await cursor.continue();
  }
  return n;
}

/** A legacy row as its record: the person's field under the record's name. */
function renamed<R>(v: Legacy, field: string): R {
  const { [field]: username, ...rest } = v;
  return { ...rest, username } as R;
}

export async function migrateClearRows(tx: Tx): Promise<number> {
  let n = 0;
  // v1 rows name the person as the rows still do (chatId, id, to); the records call it `username`.
  n += await sealRows(tx, 'messages', (v) => (typeof v.body === 'string' ? toMessageRow(tx, renamed<MessageRecord>(v, 'chatId')) : undefined));
  n += await sealRows(tx, 'chats', (v) => (typeof v.lastPreview === 'string' ? toChatRow(tx, renamed<ChatRecord>(v, 'id')) : undefined));
  n += await sealRows(tx, 'contacts', (v) => (!('sealed' in v) ? toContactRow(tx, v as unknown as ContactRecord) : undefined));
  n += await sealRows(tx, 'outbox', (v) => (v.content instanceof Uint8Array ? toOutboxRow(tx, renamed<OutboxRecord>(v, 'to')) : undefined));
  await tx.objectStore('meta').delete(Meta.migrateRows);
  return n;
}
