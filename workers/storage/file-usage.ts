/**
 * What this browser's file copies take, per conversation, and removing a conversation's copies to
 * free space (README "Attachments": Manage storage). The copies are file-repo.ts's; a removed copy
 * leaves its mark behind flagged `removed`, with no parts, so opening the file later asks the host
 * and, if the host no longer has it, says the user removed it here rather than "gone". The mark
 * goes with its message like every row of the copy (P44). The parts an unfinished download keeps
 * for its next open (file-repo.ts FileResume) take space too: they are counted, and removed with
 * the rest.
 *
 * Which conversation a copy belongs to is read from its message row's clear field (`chatId`,
 * `groupId`): the owner key alone does not name it for a message we sent. Knows nothing of the
 * host or crypto.
 */
import type { IDBPTransaction } from 'idb';
import type { Username } from '../../src/lib/codec/username';
import type { FileMark, FileResume, Vault, VaultSchema } from './schema';
import { FILES, MARK_AT, RESUME_AT, partsOf } from './file-repo';

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

/** What a copy takes here: a complete one (its mark), or the parts an unfinished download kept. */
type Held = { kind: 'whole'; mark: FileMark } | { kind: 'partial'; row: FileResume; bytes: number };

/**
 * Calls `each` with every complete copy's mark, not yet removed, and every unfinished download
 * that kept parts, with its conversation. One or two keys per copy are read (its FileResume row
 * and mark sort first, then the cursor jumps past the owner's parts), so a walk costs the number
 * of files, not of parts (an unfinished download's are counted by key, sizeOfParts).
 */
async function walkCopies(tx: Tx, each: (held: Held, place: FilePlace) => Promise<void> | void): Promise<void> {
  const store = tx.objectStore(FILES);
  let cursor = await store.openKeyCursor();
  while (cursor) {
    const [owner, at] = cursor.key as [string, number];
    const mark = at === MARK_AT || at === RESUME_AT ? await store.get([owner, MARK_AT]) : undefined;
    const resume = at === RESUME_AT ? await store.get([owner, RESUME_AT]) : undefined;
    let held: Held | undefined;
    if (mark?.at === MARK_AT && !(mark as FileMark).removed) held = { kind: 'whole', mark: mark as FileMark };
    else if (resume?.at === RESUME_AT) {
      const row = resume as FileResume;
      const bytes = await sizeOfParts(tx, owner);
      if (bytes > 0) held = { kind: 'partial', row, bytes };
    }
    const place = held ? await placeOf(tx, owner) : undefined;
    if (held && place) await each(held, place);
    cursor = await cursor.continue([owner, Infinity]);
  }
}

/**
 * Bytes of an unfinished download's parts: they follow each other from its first offset, so they
 * span from there to the end of the last one. Keys only, and the last part's value: counting a
 * large download kept here reads one part, not all of them.
 */
async function sizeOfParts(tx: Tx, owner: string): Promise<number> {
  const store = tx.objectStore(FILES);
  const keys = (await store.getAllKeys(partsOf(owner))) as [string, number][];
  const last = keys[keys.length - 1];
  if (!last) return 0;
  const row = await store.get(last);
  return row && 'bytes' in row ? last[1] + row.bytes.length - keys[0]![1] : 0;
}

const heldBytes = (h: Held): number => (h.kind === 'whole' ? h.mark.total : h.bytes);

/** Every conversation that has copies here, largest first. */
export async function fileUsage(vault: Vault): Promise<PlaceUsage[]> {
  const tx = vault.db.transaction([FILES, 'messages', 'groupMessages'], 'readonly');
  const by = new Map<string, PlaceUsage>();
  await walkCopies(tx, (held, place) => {
    const k = placeKey(place);
    const u = by.get(k) ?? { place, files: 0, bytes: 0 };
    u.files++;
    u.bytes += heldBytes(held);
    by.set(k, u);
  });
  await tx.done;
  return [...by.values()].sort((a, b) => b.bytes - a.bytes || placeKey(a.place).localeCompare(placeKey(b.place)));
}

/**
 * Drops the parts of every copy of `place` in one transaction and flags each mark `removed`; an
 * unfinished download's kept parts go with its FileResume row (its next open starts from the
 * first byte; one still running keeps no copy, the file still opens). The messages stay. Answers
 * what was freed. An upload still writing a copy is untouched (it has no mark yet), and a copy
 * marked after this is kept.
 */
export async function removePlaceFiles(vault: Vault, place: FilePlace): Promise<{ files: number; bytes: number }> {
  const tx = vault.db.transaction([FILES, 'messages', 'groupMessages'], 'readwrite');
  const want = placeKey(place);
  const store = tx.objectStore(FILES);
  const freed = { files: 0, bytes: 0 };
  await walkCopies(tx, async (held, at) => {
    if (placeKey(at) !== want) return;
    if (held.kind === 'whole') {
      await store.delete(partsOf(held.mark.owner));
      await store.put({ ...held.mark, removed: true });
    } else {
      await store.delete(partsOf(held.row.owner));
      await store.delete([held.row.owner, RESUME_AT]);
    }
    freed.files++;
    freed.bytes += heldBytes(held);
  });
  await tx.done;
  return freed;
}
