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
 * A download writes a row at -2 first (the blob it fetches and its length) and the mark's
 * transaction deletes it: a download that did not finish (the host unreachable, the tab closed)
 * keeps its parts under that row, and the next open resumes after them (`resumePoint`) instead of
 * fetching the whole blob again. Parts of an upload never marked complete, having no such row, are
 * removed at a later start when no tab is writing a copy (sweepUnfinishedFiles, copy-lock.ts).
 * Knows nothing of the host or crypto.
 */
import { holdCopyLock, whenNoCopyWriter, type CopyHold } from './copy-lock';
import type { FileMark, FileResume, Tx, Vault } from './schema';

export type { FileMark, FilePart, FileResume, FileRow } from './schema';

export const FILES = 'files';

export const messageOwner = (key: string): string => `m:${key}`;
export const groupOwner = (key: string): string => `g:${key}`;

/** Where a download's row (FileResume) and a copy's mark (FileMark) sit, before every part. */
export const RESUME_AT = -2;
export const MARK_AT = -1;

export const partsOf = (owner: string, from = 0) => IDBKeyRange.bound([owner, from], [owner, Number.MAX_SAFE_INTEGER]);
const allOf = (owner: string) => IDBKeyRange.bound([owner, RESUME_AT], [owner, Number.MAX_SAFE_INTEGER]);

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
  /** Where each part given starts, in order (a resumed download's kept parts first). */
  readonly #offsets: number[];

  /**
   * `download`: this copy is a download of that blob, resumable (its FileResume row is written
   * before the first part); `kept`: the offsets of the parts an earlier open of it left.
   */
  constructor(
    private readonly vault: Vault,
    readonly owner: string,
    private readonly download?: { blobId: string; total: number; kept: readonly number[] }
  ) {
    this.#offsets = [...(download?.kept ?? [])];
  }

  /** Takes the copy lock and, for a download, writes its FileResume row (once; `write` calls it). */
  async begin(): Promise<void> {
    if (this.#hold || this.#failed) return;
    this.#hold = holdCopyLock(this.vault);
    await this.#hold.granted;
    if (!this.download) return;
    const row: FileResume = { owner: this.owner, at: RESUME_AT, blobId: this.download.blobId, total: this.download.total };
    await this.vault.db.put(FILES, row).catch(() => {
      this.#failed = true;
    });
  }

  async write(at: number, bytes: Uint8Array): Promise<void> {
    if (this.#failed) return;
    await this.begin();
    if (this.#failed) return;
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

/** Marks the copy of `mark.owner` complete; a download's FileResume row goes in the same transaction. */
export async function txMarkFile(tx: Tx, mark: Omit<FileMark, 'at'>): Promise<void> {
  const store = tx.objectStore(FILES);
  await store.put({ ...mark, at: MARK_AT });
  await store.delete([mark.owner, RESUME_AT]);
}

export async function getFileMark(vault: Vault, owner: string): Promise<FileMark | undefined> {
  const row = await vault.db.get(FILES, [owner, MARK_AT]);
  return row?.at === MARK_AT ? (row as FileMark) : undefined;
}

export async function setReleased(vault: Vault, owner: string): Promise<void> {
  const tx = vault.db.transaction(FILES, 'readwrite');
  const row = await tx.store.get([owner, MARK_AT]);
  if (row?.at === MARK_AT) await tx.store.put({ ...(row as FileMark), released: true });
  await tx.done;
}

/**
 * The share of `blobId` (`total` bytes) an unfinished download of it kept under `owner`, below 1:
 * its parts counted (keys only, `part` bytes each but the blob's last), 0 without its FileResume
 * row. An estimate for the page: the next open checks what is really there (resumePoint).
 */
export async function keptShare(vault: Vault, owner: string, blobId: string, total: number, part: number): Promise<number> {
  const tx = vault.db.transaction(FILES, 'readonly');
  const row = await tx.store.get([owner, RESUME_AT]);
  const parts = row?.at === RESUME_AT && (row as FileResume).blobId === blobId && total > 0 ? await tx.store.count(partsOf(owner)) : 0;
  await tx.done;
  // Below 1 even when every part is here: only a complete copy's mark says whole.
  return Math.min(parts * part, total * 0.99) / total;
}

/** Where a download of `blobId` starts: after the parts an unfinished earlier one kept (`kept`, their offsets). */
export interface ResumePoint {
  from: number;
  kept: number[];
}

export const FROM_START: ResumePoint = Object.freeze({ from: 0, kept: [] }) as ResumePoint;

/**
 * Before a download of `blobId` (`total` bytes, fetched in `part`-byte parts) into `owner`'s copy,
 * in one transaction: if an earlier download of that same blob left a FileResume row, its parts
 * from offset 0 on, each where the one before ended, are kept and the download resumes after them;
 * anything past the first gap goes. Otherwise every row of `owner` goes (a stale mark included; the
 * caller restores a `removed` one if this download fails). A resumed part is checked again by the
 * opener like any other (a damaged one fails the open, and the caller starts once more from 0).
 */
export async function resumePoint(vault: Vault, owner: string, blobId: string, total: number, part: number): Promise<ResumePoint> {
  const tx = vault.db.transaction(FILES, 'readwrite');
  const store = tx.store;
  const row = await store.get([owner, RESUME_AT]);
  const same = row?.at === RESUME_AT && (row as FileResume).blobId === blobId && (row as FileResume).total === total;
  const kept: number[] = [];
  let from = 0;
  if (same) {
    const keys = (await store.getAllKeys(partsOf(owner))) as [string, number][];
    for (const [, at] of keys) {
      if (at !== from || from >= total) break;
      kept.push(at);
      from = Math.min(from + part, total);
    }
    await store.delete([owner, MARK_AT]);
    await store.delete(partsOf(owner, from));
  } else {
    await store.delete(allOf(owner));
  }
  await tx.done;
  return { from, kept };
}

/** A local copy whose parts do not tile its blob (the caller falls back to the host). */
export class LocalCopyError extends Error {}

/**
 * The parts of `owner`'s copy in blob order up to `until` (the whole blob, `total`, by default),
 * read one at a time; LocalCopyError as soon as they leave a gap or overlap or fall short.
 */
export async function* localParts(vault: Vault, owner: string, total: number, until = total): AsyncGenerator<Uint8Array> {
  if (until <= 0) return;
  const keys = (await vault.db.getAllKeys(FILES, IDBKeyRange.bound([owner, 0], [owner, until - 1]))) as [string, number][];
  let end = 0;
  for (const key of keys) {
    const row = await vault.db.get(FILES, key);
    if (key[1] !== end || !row || !('bytes' in row)) throw new LocalCopyError(`the local copy has no part at ${end}`);
    end += row.bytes.length;
    yield row.bytes;
  }
  if (end !== until) throw new LocalCopyError(`the local copy holds ${end} of ${until} of ${total} bytes`);
}

/**
 * Removes the parts of every copy never marked complete and not a resumable download (no FileResume
 * row: an upload cut off), unless some tab's CopyWriter is writing one now (copy-lock.ts): then
 * nothing is swept until a later start (answers 0). Without Web Locks a copy another tab is still
 * writing loses its parts too; its mark is then refused (CopyWriter.txWhole). A resumable
 * download's parts stay until its message goes (P44), the user removes them (file-usage.ts), or an
 * open finds the host no longer has the blob.
 */
export async function sweepUnfinishedFiles(vault: Vault): Promise<number> {
  return whenNoCopyWriter(vault, () => sweepUnmarked(vault), 0);
}

async function sweepUnmarked(vault: Vault): Promise<number> {
  // One key per copy is read, not every part: a FileResume row (-2) and the mark (-1) sort first,
  // so an owner whose first key is a part has neither, and the cursor then jumps past the owner's
  // remaining keys.
  const tx = vault.db.transaction(FILES, 'readwrite');
  let swept = 0;
  let cursor = await tx.store.openKeyCursor();
  while (cursor) {
    const [owner, at] = cursor.key as [string, number];
    if (at >= 0) {
      await tx.store.delete(allOf(owner));
      swept++;
    }
    cursor = await cursor.continue([owner, Infinity]);
  }
  await tx.done;
  return swept;
}
