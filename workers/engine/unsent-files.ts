/**
 * Files whose upload a closed tab cut off (README "Attachments (as built)", *Unsent files*). The
 * message that carries a file is written only once its blob is on the host, and the picked file
 * lives in the page's memory, so a tab closed (or a worker killed) during an upload loses the
 * upload; Retry needs the file again. What must not happen is that the person believes it was
 * sent. So every upload is noted first: a sealed `meta` value (P32: the file name is the person's
 * data) lists each one with its conversation, name, size and time, and the transaction that stores
 * the message takes its entry out.
 *
 * Whether an entry's upload is still running is told by the Web Lock `parley-upload:<vault>:<slot>`
 * that its worker holds from the note until the message is stored or the upload discarded; the
 * browser releases a closed tab's locks. An entry whose lock is free is a stopped upload, and the
 * conversation shows it ("Not sent: …") until the person dismisses it, attaches the same file
 * again, or cancels it in the tray. Entries of uploads still running, here or in another tab, are
 * never shown. Without a lock manager (the vault is then read-only, P18) only this worker's own
 * uploads count as running.
 *
 * Resuming. An entry also names the upload's message id and copy owner; once the host made the
 * blob, its id, the file's key and stream header; and as each part goes up, that part's offset
 * and hash (blob-stream.ts; all sealed like the rest). So when the same file (name and
 * size) is attached again in the same conversation, its stopped entry hands the new upload that
 * blob (`resumable`): the file is sealed again and each part up to where the host is compared with
 * its noted hash, and only the rest goes up (a different file fails the comparison and goes as a
 * new blob). An entry that goes for another reason (dismissed, its conversation deleted, sent again
 * as a new blob) takes any parts of its copy with it.
 * Knows nothing of the host: nothing here sends or fetches.
 */
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { ATTACHMENT_DIGEST_LEN, ATTACHMENT_KEY_LEN, STREAM_HEADER_LEN } from '../../src/lib/crypto/attachment';
import { allowedMime, isVoiceMime } from '../../src/lib/wire/attachment-content';
import type { FilePlaceView, UnsentFileView } from '../../src/lib/vault/views';
import { openJson, sealJson } from '../storage/record-seal';
import type { Tx, Vault } from '../storage/schema';
import { txDropFile } from '../storage/file-repo';
import { assertUsable, commit } from '../storage/vault';
import { holdWebLock, whenLockFree } from '../storage/web-lock';
import type { NotedPart, PriorUpload } from './blob-stream';
import { noteWithdrawals } from './blob-withdrawals';

export const UNSENT_META_KEY = 'unsentFiles';
/** Notes kept at most: past it the oldest go first (a person who never dismisses keeps a bounded list). */
export const MAX_UNSENT = 50;

interface Entry {
  slot: string;
  place: FilePlaceView;
  name: string;
  mime: string;
  size: number;
  at: number;
  /** The message the file was to go in, and our copy's owner (file-repo.ts). */
  messageId?: string;
  owner?: string;
  /** Once the host made the blob: its id, the file's key and stream header (base64url). */
  blobId?: string;
  key?: string;
  header?: string;
  /** Each part noted as its PUT goes: its offset and hash (blob-stream.ts partPrint, base64url), in blob order. */
  parts?: { at: number; hash: string }[];
}

/** What a new upload of the same file takes over from a stopped one. */
export interface ResumableUpload extends PriorUpload {
  messageId: string;
  owner: string;
}

const BLOB_FIELDS = ['blobId', 'key', 'header', 'parts'] as const;

/** Where a new upload's entry points: its message and copy. */
export interface UploadPlace {
  messageId: string;
  owner: string;
}

const lockName = (vault: Vault, slot: string): string => `parley-upload:${vault.name}:${slot}`;

/** The uploads this worker runs, per open vault, by slot: how to release each one's lock. */
const runs = new WeakMap<Vault, Map<string, () => void>>();
function running(vault: Vault): Map<string, () => void> {
  let m = runs.get(vault);
  if (!m) runs.set(vault, (m = new Map()));
  return m;
}

const samePlace = (a: FilePlaceView, b: FilePlaceView): boolean =>
  a.kind === 'chat' ? b.kind === 'chat' && a.username === b.username : b.kind === 'group' && a.id === b.id;

async function txEntries(tx: Tx): Promise<Entry[]> {
  const sealed = await tx.objectStore('meta').get(UNSENT_META_KEY);
  return sealed ? openJson<Entry[]>(tx, 'meta', UNSENT_META_KEY, sealed as never) : [];
}

async function txWrite(tx: Tx, entries: Entry[]): Promise<void> {
  const meta = tx.objectStore('meta');
  if (entries.length === 0) await meta.delete(UNSENT_META_KEY);
  else await meta.put(sealJson(tx, 'meta', UNSENT_META_KEY, entries), UNSENT_META_KEY);
}

/** Holds the slot's lock for as long as this worker runs the upload (at once without Web Locks). */
async function hold(vault: Vault, slot: string): Promise<void> {
  const own = running(vault);
  if (own.has(slot)) return;
  const lock = holdWebLock(vault.locks, lockName(vault, slot), 'exclusive');
  own.set(slot, lock.release);
  await lock.granted;
}

function release(vault: Vault, slot: string): void {
  const own = running(vault);
  own.get(slot)?.();
  own.delete(slot);
}

/** True if no worker runs the upload of `slot` now. */
function stopped(vault: Vault, slot: string): Promise<boolean> {
  if (running(vault).has(slot)) return Promise.resolve(false);
  return whenLockFree(vault.locks, lockName(vault, slot), () => Promise.resolve(true), false);
}

/**
 * Before an upload of `slot` starts (or is retried): takes its lock and notes it (`into`: its
 * message and copy; a retry keeps what the entry knew of its blob). A stopped entry of the same
 * file (name and size) in the same conversation goes: the person is sending it again; its copy
 * goes too unless the new upload took it over (the same owner).
 */
export async function noteUpload(vault: Vault, slot: string, place: FilePlaceView, file: { name: string; mime: string; size: number }, now: number, into: UploadPlace): Promise<void> {
  await hold(vault, slot);
  const dead = new Set<string>();
  for (const e of await commit(vault, txEntries)) if (e.slot !== slot && samePlace(e.place, place) && e.name === file.name && e.size === file.size && (await stopped(vault, e.slot))) dead.add(e.slot);
  await commit(vault, async (tx) => {
    const entries = await txEntries(tx);
    // What the entry knew of its blob stays: this slot's own (a retry), or the stopped entry's
    // whose upload this one took over (the same copy owner).
    const own = entries.find((e) => e.slot === slot && e.owner === into.owner) ?? entries.find((e) => dead.has(e.slot) && e.owner === into.owner);
    for (const e of entries) if (dead.has(e.slot) && e.owner && e.owner !== into.owner) await txDropFile(tx, e.owner);
    const kept = entries.filter((e) => e.slot !== slot && !dead.has(e.slot));
    const blob = own ? Object.fromEntries(BLOB_FIELDS.filter((k) => own[k] !== undefined).map((k) => [k, own[k]])) : {};
    await txWrite(tx, [...kept, { slot, place, name: file.name, mime: file.mime, size: file.size, at: now, ...into, ...blob }].slice(-MAX_UNSENT));
  });
}

/**
 * Changes `slot`'s entry, if it is still there, in a transaction on `meta` alone: a note per part
 * must not queue behind (or hold up) the copy's writes to `files`, as one over every store would.
 */
async function update(vault: Vault, slot: string, change: (e: Entry) => Entry): Promise<void> {
  assertUsable(vault);
  const tx = vault.db.transaction('meta', 'readwrite');
  const sealed = await tx.store.get(UNSENT_META_KEY);
  const entries = sealed ? openJson<Entry[]>(vault.db, 'meta', UNSENT_META_KEY, sealed as never) : [];
  const i = entries.findIndex((e) => e.slot === slot);
  if (i >= 0) {
    entries[i] = change(entries[i]!);
    await tx.store.put(sealJson(vault.db, 'meta', UNSENT_META_KEY, entries), UNSENT_META_KEY);
  }
  await tx.done;
}

/** The host made the blob of `slot`'s upload (or a new one after it lost the first): noted, with no part yet. */
export function noteBlob(vault: Vault, slot: string, blob: { blobId: string; key: Uint8Array; header: Uint8Array }): Promise<void> {
  return update(vault, slot, (e) => ({ ...e, blobId: blob.blobId, key: toBase64Url(blob.key), header: toBase64Url(blob.header), parts: [] }));
}

/** A part of `slot`'s blob is going up: its hash replaces any noted at or after its offset. */
export function notePart(vault: Vault, slot: string, part: NotedPart): Promise<void> {
  return update(vault, slot, (e) => ({ ...e, parts: [...(e.parts ?? []).filter((p) => p.at < part.at), { at: part.at, hash: toBase64Url(part.hash) }] }));
}

/**
 * The newest stopped upload of the same file (name and size) in `place` that the host made a blob
 * for; `own`'s entry counts as stopped (the caller holds no upload for that slot any more: the lock
 * dropped it, attachments.ts `forgetUnfinishedUploads`).
 */
export async function resumable(vault: Vault, place: FilePlaceView, file: { name: string; size: number }, own?: string): Promise<ResumableUpload | undefined> {
  const entries = (await commit(vault, txEntries)).filter((e) => samePlace(e.place, place) && e.name === file.name && e.size === file.size);
  for (const e of entries.sort((a, b) => b.at - a.at)) {
    if (!e.messageId || !e.owner || !e.blobId || !e.key || !e.header || (e.slot !== own && !(await stopped(vault, e.slot)))) continue;
    return {
      messageId: e.messageId,
      owner: e.owner,
      blobId: e.blobId,
      key: fromBase64Url(e.key, ATTACHMENT_KEY_LEN),
      header: fromBase64Url(e.header, STREAM_HEADER_LEN),
      parts: (e.parts ?? []).map((p) => ({ at: p.at, hash: fromBase64Url(p.hash, ATTACHMENT_DIGEST_LEN) }))
    };
  }
  return undefined;
}

/** In the transaction that stores the file's message: its upload is done. Call `uploadDone` after the commit. */
export async function txUploadSent(tx: Tx, slot: string): Promise<void> {
  const entries = await txEntries(tx);
  if (entries.some((e) => e.slot === slot)) await txWrite(tx, entries.filter((e) => e.slot !== slot));
}

/** After the message of `slot` is stored (or the upload discarded): its lock goes. */
export function uploadDone(vault: Vault, slot: string): void {
  release(vault, slot);
}

/** True if `slot` is the upload of `transfer` (slots end with their page's transfer id, attachments.ts slotOf). */
export const isSlotOf = (slot: string, transfer: string): boolean => slot.endsWith(`:${transfer}`);

/**
 * Forgets the entry of `transfer`'s upload, with its copy, and lets its lock go (the person
 * cancelled it in the tray). The blobs those uploads had made on the host are noted for deletion
 * there in the same transaction (blob-withdrawals.ts); true if there were any, for the caller to
 * ask for a pass.
 */
export async function forgetTransfer(vault: Vault, transfer: string, now: number): Promise<boolean> {
  const { gone, ids } = await commit(vault, async (tx) => {
    const entries = await txEntries(tx);
    const gone = entries.filter((e) => isSlotOf(e.slot, transfer));
    for (const e of gone) if (e.owner) await txDropFile(tx, e.owner);
    if (gone.length) await txWrite(tx, entries.filter((e) => !gone.includes(e)));
    const ids = blobIdsOf(gone);
    await noteWithdrawals(tx, ids, now);
    return { gone, ids };
  });
  for (const e of gone) release(vault, e.slot);
  return ids.length > 0;
}

const blobIdsOf = (entries: readonly { blobId?: string }[]): string[] => entries.flatMap((e) => (e.blobId ? [e.blobId] : []));

/** The stopped uploads of one conversation, oldest first. */
export async function unsentFiles(vault: Vault, place: FilePlaceView): Promise<UnsentFileView[]> {
  const out: UnsentFileView[] = [];
  for (const e of await commit(vault, txEntries)) {
    if (!samePlace(e.place, place) || !(await stopped(vault, e.slot))) continue;
    out.push({ id: e.slot, name: e.name, size: e.size, at: e.at, voice: isVoiceMime(allowedMime(e.mime)), resumes: e.blobId !== undefined });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * Removes a stopped upload's entry and its copy; one still running (here or in another tab) stays.
 * The blob it had made on the host is noted for deletion there in the same transaction
 * (blob-withdrawals.ts); true if there was one, for the caller to ask for a pass.
 */
export async function dismissUnsent(vault: Vault, slot: string, now: number): Promise<boolean> {
  if (!(await stopped(vault, slot))) return false;
  return commit(vault, async (tx) => {
    const entry = (await txEntries(tx)).find((e) => e.slot === slot);
    if (entry?.owner) await txDropFile(tx, entry.owner);
    await txUploadSent(tx, slot);
    const ids = entry ? blobIdsOf([entry]) : [];
    await noteWithdrawals(tx, ids, now);
    return ids.length > 0;
  });
}

/** Every note of a conversation the person deleted (chat-delete.ts), with its copy: nothing of it stays at rest. */
export async function txForgetPlace(tx: Tx, place: FilePlaceView): Promise<void> {
  const entries = await txEntries(tx);
  const kept = entries.filter((e) => !samePlace(e.place, place));
  for (const e of entries) if (!kept.includes(e) && e.owner) await txDropFile(tx, e.owner);
  if (kept.length !== entries.length) await txWrite(tx, kept);
}
