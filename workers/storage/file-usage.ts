/**
 * What this browser's file copies take, per conversation, and removing a conversation's copies to
 * free space (README "Attachments": Manage storage). The copies are file-repo.ts's; a removed copy
 * leaves its mark behind flagged `removed`, with no parts, so opening the file later asks the host
 * and, if the host no longer has it, says the user removed it here rather than "gone". The mark
 * goes with its message like every row of the copy (P44).
 *
 * Which conversation a copy belongs to is read from its message row's clear field (`chatId`,
 * `groupId`): the owner key alone does not name it for a message we sent. Knows nothing of the
 * host or crypto.
 */
import type { IDBPTransaction } from 'idb';
import type { Username } from '../../src/lib/codec/username';
import type { FileMark, Vault, VaultSchema } from './schema';
import { FILES } from './file-repo';

/** A conversation: a 1:1 chat by the peer's username, or a group by its id. */
export type FilePlace = { kind: 'chat'; username: Username } | { kind: 'group'; id: string };

export interface PlaceUsage {
  place: FilePlace;
  files: number;
  /** Bytes on disk: the padded blob size of each copy. */
  bytes: number;
}

type Tx = IDBPTransaction<VaultSchema, ('files' | 'messages' | 'groupMessages')[], IDBTransactionMode>;

const placeKey = (p: FilePlace): string => (p.kind === 'chat' ? `c:${p.username}` : `g:${p.id}`);

/** The conversation a copy's owner (file-repo.ts messageOwner / groupOwner) belongs to, if its message is still there. */
async function placeOf(tx: Tx, owner: string): Promise<FilePlace | undefined> {
  const key = owner.slice(2);
  if (owner.startsWith('m:')) {
    const row = await tx.objectStore('messages').get(key);
    return row ? { kind: 'chat', username: row.chatId } : undefined;
  }
  if (owner.startsWith('g:')) {
    const row = await tx.objectStore('groupMessages').get(key);
    return row ? { kind: 'group', id: row.groupId } : undefined;
  }
  return undefined;
}

/**
 * Calls `each` with every complete copy's mark, not yet removed, and its conversation. One key per
 * copy is read (the mark sorts first, then the cursor jumps past the owner's parts), so a walk
 * costs the number of files, not of parts.
 */
async function walkCopies(tx: Tx, each: (mark: FileMark, place: FilePlace) => Promise<void> | void): Promise<void> {
  let cursor = await tx.objectStore(FILES).openKeyCursor();
  while (cursor) {
    const [owner, at] = cursor.key as [string, number];
    if (at === -1) {
      const mark = await tx.objectStore(FILES).get([owner, -1]);
      const place = mark && 'blobId' in mark && !mark.removed ? await placeOf(tx, owner) : undefined;
      if (place && mark && 'blobId' in mark) await each(mark, place);
    }
    cursor = await cursor.continue([owner, Infinity]);
  }
}

/** Every conversation that has copies here, largest first. */
export async function fileUsage(vault: Vault): Promise<PlaceUsage[]> {
  const tx = vault.db.transaction([FILES, 'messages', 'groupMessages'], 'readonly');
  const by = new Map<string, PlaceUsage>();
  await walkCopies(tx, (mark, place) => {
    const k = placeKey(place);
    const u = by.get(k) ?? { place, files: 0, bytes: 0 };
    u.files++;
    u.bytes += mark.total;
    by.set(k, u);
  });
  await tx.done;
  return [...by.values()].sort((a, b) => b.bytes - a.bytes || placeKey(a.place).localeCompare(placeKey(b.place)));
}

/**
 * Drops the parts of every copy of `place` in one transaction and flags each mark `removed`; the
 * messages stay. Answers what was freed. A transfer still writing a copy is untouched (it has no
 * mark yet), and a copy marked after this is kept.
 */
export async function removePlaceFiles(vault: Vault, place: FilePlace): Promise<{ files: number; bytes: number }> {
  const tx = vault.db.transaction([FILES, 'messages', 'groupMessages'], 'readwrite');
  const want = placeKey(place);
  const store = tx.objectStore(FILES);
  const freed = { files: 0, bytes: 0 };
  await walkCopies(tx, async (mark, at) => {
    if (placeKey(at) !== want) return;
    await store.delete(IDBKeyRange.bound([mark.owner, 0], [mark.owner, Number.MAX_SAFE_INTEGER]));
    await store.put({ ...mark, removed: true });
    freed.files++;
    freed.bytes += mark.total;
  });
  await tx.done;
  return freed;
}
