/**
 * This browser's own copy of each file it sent or opened (README "Attachments"; SECURITY.md P32,
 * P44): the blob exactly as the host holds it, ciphertext under the file's key, so a file stays
 * readable after the host dropped it (every recipient released it, wire/blob-api.ts).
 *
 * Rows are keyed by [owner, offset]: `owner` names the message the file belongs to ('m:' + a 1:1
 * message key, 'g:' + a group message key: keys a sender cannot choose for another sender's
 * message), `offset` is where the part starts in the blob. The row at offset -1 marks the copy
 * complete: the blob id, its length, and whether our release was accepted. The key and digest stay
 * in the sealed message row only, so these rows open nothing by themselves, and they go with the
 * message: deleteMessage / deleteGroupMessageRow delete them in the same transaction (P44).
 * Parts of a copy never marked complete (an upload or download cut off by a closed tab) are
 * removed at a later start when no tab is writing a copy (sweepUnfinishedFiles, copy-lock.ts).
 * Knows nothing of the host or crypto.
 */
import { holdCopyLock, whenNoCopyWriter, type CopyHold } from './copy-lock';
import type { FileMark, Tx, Vault } from './schema';

export type { FileMark, FilePart, FileRow } from './schema';

export const FILES = 'files';

export const messageOwner = (key: string): string => `m:${key}`;
export const groupOwner = (key: string): string => `g:${key}`;

const partsOf = (owner: string) => IDBKeyRange.bound([owner, 0], [owner, Number.MAX_SAFE_INTEGER]);
const allOf = (owner: string) => IDBKeyRange.bound([owner, -1], [owner, Number.MAX_SAFE_INTEGER]);

/** Writes one part (its own transaction on this store only: a 1–4 MiB write never holds up a commit). */
export async function putFilePart(vault: Vault, owner: string, at: number, bytes: Uint8Array): Promise<void> {
  // A view is cloned with its whole buffer: only a part that is its whole buffer is stored as is.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  await vault.db.put(FILES, { owner, at, bytes: own });
}

/** Writes of one copy allowed in flight at once (each holds its part until IndexedDB took it). */
export const COPY_WRITES_IN_FLIGHT = 4;

/**
 * The parts of one copy written in blob order without holding up the transfer: each write is
 * started at once (IndexedDB runs a connection's writes to one store in the order they were made)
 * and waited for only when COPY_WRITES_IN_FLIGHT are still pending, so writing the copy overlaps
 * the network and the cipher instead of adding to them. The first failure (the storage quota)
 * ends the copy: later parts are not written, and `finish` answers false after dropping what was.
 */
export class CopyWriter {
  #pending: Promise<void>[] = [];
  #failed = false;
  /** The shared copy lock (copy-lock.ts), taken before the first write and given up by `finish`. */
  #hold: CopyHold | undefined;
  /** Where each part given starts, in order. */
  readonly #offsets: number[] = [];

  constructor(
    private readonly vault: Vault,
    readonly owner: string
  ) {}

  async write(at: number, bytes: Uint8Array): Promise<void> {
    if (this.#failed) return;
    if (!this.#hold) {
      this.#hold = holdCopyLock(this.vault);
      await this.#hold.granted;
    }
    this.#offsets.push(at);
    const w = putFilePart(this.vault, this.owner, at, bytes).catch(() => {
      this.#failed = true;
    });
    this.#pending.push(w);
    if (this.#pending.length >= COPY_WRITES_IN_FLIGHT) await this.#pending.shift();
  }

  /** Waits for every write; true if each succeeded, else what was written is dropped. */
  async finish(): Promise<boolean> {
    await Promise.all(this.#pending.splice(0));
    if (this.#failed) await dropFile(this.vault, this.owner).catch(() => undefined);
    // From here to the mark's transaction a sweep may run; txWhole then refuses the mark.
    this.#hold?.release();
    this.#hold = undefined;
    return !this.#failed;
  }

  /**
   * In the transaction that would mark the copy: true if the store still holds exactly the parts
   * written (another tab's start-up sweep may have taken an unmarked copy away meanwhile; marking
   * what is left would release a blob we do not hold).
   */
  async txWhole(tx: Tx): Promise<boolean> {
    if (this.#failed) return false;
    const keys = (await tx.objectStore(FILES).getAllKeys(partsOf(this.owner))) as [string, number][];
    return keys.length === this.#offsets.length && keys.every(([, at], i) => at === this.#offsets[i]);
  }
}

/** Forgets every part and the mark of `owner` (its own transaction). */
export async function dropFile(vault: Vault, owner: string): Promise<void> {
  await vault.db.delete(FILES, allOf(owner));
}

/** Forgets the file of `owner` inside the caller's transaction (message deletion, P44). */
export async function txDropFile(tx: Tx, owner: string): Promise<void> {
  await tx.objectStore(FILES).delete(allOf(owner));
}

export async function txMarkFile(tx: Tx, mark: Omit<FileMark, 'at'>): Promise<void> {
  await tx.objectStore(FILES).put({ ...mark, at: -1 });
}

export async function getFileMark(vault: Vault, owner: string): Promise<FileMark | undefined> {
  const row = await vault.db.get(FILES, [owner, -1]);
  return row && 'blobId' in row ? row : undefined;
}

export async function setReleased(vault: Vault, owner: string): Promise<void> {
  const tx = vault.db.transaction(FILES, 'readwrite');
  const row = await tx.store.get([owner, -1]);
  if (row && 'blobId' in row) await tx.store.put({ ...row, released: true });
  await tx.done;
}

/** A local copy whose parts do not tile its blob (the caller falls back to the host). */
export class LocalCopyError extends Error {}

/**
 * The parts of `owner`'s copy in blob order, read one at a time; LocalCopyError as soon as they
 * leave a gap or overlap or fall short of `total`.
 */
export async function* localParts(vault: Vault, owner: string, total: number): AsyncGenerator<Uint8Array> {
  const keys = (await vault.db.getAllKeys(FILES, partsOf(owner))) as [string, number][];
  let end = 0;
  for (const key of keys) {
    const row = await vault.db.get(FILES, key);
    if (key[1] !== end || !row || !('bytes' in row)) throw new LocalCopyError(`the local copy has no part at ${end}`);
    end += row.bytes.length;
    yield row.bytes;
  }
  if (end !== total) throw new LocalCopyError(`the local copy holds ${end} of ${total} bytes`);
}

/**
 * Removes the parts of every copy never marked complete, unless some tab's CopyWriter is writing
 * one now (copy-lock.ts): then nothing is swept until a later start (answers 0). Without Web Locks
 * a copy another tab is still writing loses its parts too; its mark is then refused
 * (CopyWriter.txWhole).
 */
export async function sweepUnfinishedFiles(vault: Vault): Promise<number> {
  return whenNoCopyWriter(vault, () => sweepUnmarked(vault), 0);
}

async function sweepUnmarked(vault: Vault): Promise<number> {
  // One key per copy is read, not every part: the mark sorts first (-1), so an owner whose first
  // key is a part has none, and the cursor then jumps past the owner's remaining keys.
  const tx = vault.db.transaction(FILES, 'readwrite');
  let swept = 0;
  let cursor = await tx.store.openKeyCursor();
  while (cursor) {
    const [owner, at] = cursor.key as [string, number];
    if (at !== -1) {
      await tx.store.delete(allOf(owner));
      swept++;
    }
    cursor = await cursor.continue([owner, Infinity]);
  }
  await tx.done;
  return swept;
}
