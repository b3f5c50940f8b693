/**
 * The outbox: outgoing content in send order. An item is first `content` (not yet encrypted);
 * the engine encrypts it and, in ONE transaction, stores the ciphertext here with the advanced
 * session, so a retry re-sends the same ciphertext and never re-runs the ratchet (P34).
 * The not-yet-encrypted content is sealed at rest (P32); its associated data names the
 * recipient, because the row's own key (an auto-increment seq) is not known before `add`.
 */
import { openBytes, sealBytes, type Conn } from './record-seal';
import type { OutboxRecord, OutboxRow, Tx, Vault } from './schema';
import type { Username } from '../../src/lib/codec/username';
import { txGetContact } from './contact-repo';
import { bytesEqual } from '../../src/lib/codec/bytes';

const STORE = 'outbox';

export function toOutboxRow(c: Conn, item: OutboxRecord): OutboxRow {
  const { content, username, ...clear } = item;
  return content ? { ...clear, to: username, sealed: sealBytes(c, STORE, username, content) } : { ...clear, to: username };
}

export function fromOutboxRow(c: Conn, row: OutboxRow): OutboxRecord {
  const { sealed, to, ...clear } = row;
  return sealed ? { ...clear, username: to, content: openBytes(c, STORE, to, sealed) } : { ...clear, username: to };
}

/**
 * Queues an item. P36: every item is bound to the identity trusted for its recipient when it is
 * queued (unless the caller named one), so whatever was queued before a key change (a group
 * welcome or sender key, a profile key, a receipt, a call signal) is never encrypted to the new
 * key: the outbox drops it instead (outbox.ts `dropStale`). A recipient with no contact yet is
 * bound at its first encryption.
 */
export async function addOutbox(tx: Tx, item: OutboxRecord): Promise<number> {
  const identity = item.identity ?? (item.ciphertext ? undefined : (await txGetContact(tx, item.username))?.identity);
  return tx.objectStore(STORE).add(toOutboxRow(tx, identity ? { ...item, identity } : item));
}

/**
 * Queues `item`, or folds its content into the newest queued item when that one is still
 * unencrypted, for the same recipient, bound to the same identity (P36), carries no message of
 * ours, and `merge` can combine the two (receipts from one receive page or one read: one envelope
 * for a burst, as Signal batches them). `merge` answers undefined to refuse.
 */
export async function addOrMerge(tx: Tx, item: OutboxRecord & { content: Uint8Array }, merge: (queued: Uint8Array, next: Uint8Array) => Uint8Array | undefined): Promise<void> {
  const cursor = await tx.objectStore(STORE).openCursor(null, 'prev');
  const row = cursor?.value;
  if (cursor && row && row.to === item.username && row.sealed && !row.ciphertext && !row.messageKey && !row.resendOf) {
    const last = fromOutboxRow(tx, row);
    const identity = item.identity ?? (await txGetContact(tx, item.username))?.identity;
    const sameKey = last.identity === undefined ? identity === undefined : identity !== undefined && bytesEqual(last.identity, identity);
    const merged = sameKey ? merge(last.content!, item.content) : undefined;
    if (merged) {
      await cursor.update(toOutboxRow(tx, { ...last, content: merged }));
      return;
    }
  }
  await addOutbox(tx, item);
}

export async function listOutbox(vault: Vault): Promise<OutboxRecord[]> {
  return (await vault.db.getAll(STORE)).map((r) => fromOutboxRow(vault.db, r));
}

/** Whether anything waits in the outbox for `username` (read without opening the sealed content). */
export async function hasOutboxFor(vault: Vault, username: Username): Promise<boolean> {
  return (await vault.db.getAll(STORE)).some((r) => r.to === username);
}

export async function putOutbox(tx: Tx, item: OutboxRecord): Promise<void> {
  await tx.objectStore(STORE).put(toOutboxRow(tx, item));
}

/** Whether item `seq` still waits (not sent, and not withdrawn by a delete for everyone, maybe in another tab). */
export async function isQueued(vault: Vault, seq: number): Promise<boolean> {
  return (await vault.db.getKey(STORE, seq)) !== undefined;
}

export async function deleteOutbox(tx: Tx, seq: number): Promise<void> {
  await tx.objectStore(STORE).delete(seq);
}

/**
 * Drops the not-yet-encrypted outbox item of message `messageKey`, if it has one (a message deleted
 * for everyone before it left: its text is never sent, P44). True if one was dropped.
 */
export async function dropUnencrypted(tx: Tx, messageKey: string): Promise<boolean> {
  return (await dropUnencryptedOf(tx, new Set([messageKey]), 1)) > 0;
}

/**
 * Takes message `messageKey`'s item out of the outbox, encrypted or not, with any resend of it
 * (retry.ts) waiting there: the message was deleted for everyone (P44, P47). `neverLeft`: its own
 * item was not encrypted yet, so nothing of it can have reached anyone. `ciphertexts`: the
 * encryptions taken out, whose ratchet headers the delete names.
 */
export async function withdrawUnsent(tx: Tx, messageKey: string): Promise<{ neverLeft: boolean; ciphertexts: Uint8Array[] }> {
  const ciphertexts: Uint8Array[] = [];
  let neverLeft = false;
  let cursor = await tx.objectStore(STORE).openCursor();
  while (cursor) {
    const row = cursor.value;
    if (row.messageKey === messageKey || row.resendOf === messageKey) {
      if (row.ciphertext) ciphertexts.push(row.ciphertext);
      else if (row.messageKey === messageKey) neverLeft = true;
      await cursor.delete();
    }
    cursor = await cursor.continue();
  }
  return { neverLeft, ciphertexts };
}

/**
 * Drops the not-yet-encrypted outbox items of the messages in `keys` (a deleted chat's), at most
 * `limit`, in one pass over the outbox inside `tx`: an item another tab encrypted meanwhile keeps
 * its ciphertext and goes. Answers how many were dropped.
 */
export async function dropUnencryptedOf(tx: Tx, keys: ReadonlySet<string>, limit = Infinity): Promise<number> {
  let dropped = 0;
  let cursor = await tx.objectStore(STORE).openCursor();
  while (cursor && dropped < limit) {
    const key = cursor.value.messageKey;
    if (key !== undefined && keys.has(key) && !cursor.value.ciphertext) {
      await cursor.delete();
      dropped++;
    }
    cursor = await cursor.continue();
  }
  return dropped;
}
