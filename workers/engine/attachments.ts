/**
 * Files in a conversation (README "Attachments"; SECURITY.md P1, P40): seal a file under a fresh
 * key (crypto/attachment.ts), upload its blob (blob-client.ts), then queue the message that
 * carries blob id, key and digest (wire content kind 0x10) like a text (outbox.ts, P36: written
 * for the identity trusted now). Opening downloads the blob, checks its digest and stream, and
 * answers Tampered, never bytes, for a blob the host changed.
 *
 * Both directions stream (blob-stream.ts up, ranged-download.ts down): the vault holds a few
 * parts (4 MiB up, 1 MiB down), never the whole file or blob. A failed upload keeps its sealer and unconfirmed parts in memory for this
 * worker's lifetime, so "Retry" of the same transfer resumes where the host is instead of starting
 * over. One cut off with its worker is shown as not sent after a reload (unsent-files.ts), and
 * resumes where the host is when the same file is attached again (`startUpload`, blob-stream.ts).
 *
 * Every file sent or opened here is kept as this browser's own copy of its blob (ciphertext, never
 * plaintext; storage/file-repo.ts), marked complete in the transaction that stores the sent
 * message, or once a download passed every check. Later opens read the copy, not the host. Once a
 * recipient holds its copy it posts its release token (crypto/blob-release.ts), anonymously like
 * the download itself, and the host drops the blob when every recipient did (wire/blob-api.ts).
 * Nothing is fetched or released without the user opening the file: an automatic fetch on arrival
 * would tie this browser's address to the blob, and so to its uploader, for a host that watches.
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { MAX_ATTACHMENT_BYTES, blobSize } from '../../src/lib/crypto/attachment';
import { releaseToken } from '../../src/lib/crypto/blob-release';
import { toHex } from '../../src/lib/codec/bytes';
import { BLOB_API, type BlobRelease } from '../../src/lib/wire/blob-api';
import { allowedMime, isImageMime, isVoiceMime, shownName, type AttachmentContent } from '../../src/lib/wire/attachment-content';
import { encodeContent, newMessageId } from '../../src/lib/wire/content';
import type { FilePlaceView, OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { preview, updateChat } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { getMessage, putMessage, txGetMessage } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { MessageRecord, Tx, Vault } from '../storage/schema';
import { commit } from '../storage/vault';
import { FROM_START, LocalCopyError, dropFile, getFileMark, keptShare, localParts, messageOwner, resumePoint, setReleased, txMarkFile } from '../storage/file-repo';
import { UPLOAD_PART_BYTES } from '../../src/lib/wire/blob-api';
import { StreamUpload, type UploadTarget } from './blob-stream';
import { downloadStream, openParts, stopIfLocked } from './ranged-download';
import { downloader } from './blob-client';
import { requireMe, type EngineContext } from './context';
import { engineFail, isEngineError } from './errors';
import { messageEvent } from './views';
import { assertCanSend } from './trust';
import { armFor, sentExpiry, sentTimer } from './disappearing';
import { forgetTransfer, isSlotOf, noteBlob, notePart, noteUpload, resumable, txUploadSent, uploadDone } from './unsent-files';

/** Uploads that failed part-way, by recipient and transfer id: a retry of the same file resumes them. */
const unfinishedOf = new WeakMap<Vault, Map<string, StreamUpload>>();
/** Per open vault (tests run several engines in one process; a browser worker holds one). */
function unfinishedIn(vault: Vault): Map<string, StreamUpload> {
  let m = unfinishedOf.get(vault);
  if (!m) unfinishedOf.set(vault, (m = new Map()));
  return m;
}
/** Failed uploads kept for a retry (each holds at most a few sealed parts). */
const MAX_UNFINISHED = 8;

/**
 * The upload to run for `file` in `place` (a 1:1 chat's or a group's slot), noted as unsent until
 * its message is stored (unsent-files.ts): the unfinished one of the same transfer and file (a
 * Retry), else one that takes over a stopped upload of the same file in that place (a tab closed
 * in the middle: blob-stream.ts resumes it where the host is, if the file compares equal), else a
 * new one for the message `target` makes of a fresh message id.
 */
export async function startUpload(ctx: EngineContext, slot: string, place: FilePlaceView, file: OutgoingFile, target: (messageId: string) => UploadTarget): Promise<StreamUpload> {
  const size = file.bytes instanceof Uint8Array ? file.bytes.length : file.bytes.size;
  const unfinished = unfinishedIn(ctx.vault);
  let up = unfinished.get(slot);
  if (!up || up.size !== size) {
    up?.abandon();
    unfinished.delete(slot);
    while (unfinished.size >= MAX_UNFINISHED) {
      const [first] = unfinished;
      first![1].abandon();
      unfinished.delete(first![0]);
    }
    // No upload of this slot is held here (none yet, or the lock dropped it): its own note may be taken over.
    const prior = await resumable(ctx.vault, place, { name: file.name, size }, slot).catch(() => undefined);
    // A stopped upload is taken over only into the same copy (its owner follows from its message id).
    const aim = prior && target(prior.messageId);
    const takeOver = prior && aim?.owner === prior.owner ? prior : undefined;
    const at = takeOver ? aim! : target(newMessageId(ctx.deps.rng));
    up = new StreamUpload(file.bytes, { ...at, onBlob: (blob) => noteBlob(ctx.vault, slot, blob), onPart: (part) => notePart(ctx.vault, slot, part) }, takeOver);
    unfinished.set(slot, up);
  }
  // Noted before any byte goes: a tab closed from here on leaves a visible "Not sent". A note that
  // cannot be written (storage full) costs only the notice, never the send.
  await noteUpload(ctx.vault, slot, place, { name: file.name, mime: file.mime, size }, ctx.deps.now(), { messageId: up.target.messageId, owner: up.target.owner }).catch(() => undefined);
  return up;
}

/** What a chat list shows for a file: never the caption's absence as an empty line. */
export function attachmentPreview(a: Pick<AttachmentContent, 'mime' | 'name'>, caption: string): string {
  return preview(caption || (isImageMime(a.mime) ? `📷 Photo` : isVoiceMime(a.mime) ? '🎤 Voice message' : `📎 ${shownName(a.name)}`));
}

/** The vault locked (memory-secrets.ts, P46): no upload is kept for a retry; each forgets its key. */
export function forgetUnfinishedUploads(vault: Vault): void {
  const unfinished = unfinishedOf.get(vault);
  if (!unfinished) return;
  for (const up of unfinished.values()) up.forget();
  unfinishedOf.delete(vault);
}

/** The upload of `slot` finished: nothing is kept for a retry. */
export function forgetUpload(ctx: EngineContext, slot: string): void {
  unfinishedIn(ctx.vault).delete(slot);
}

/** The upload slot of a transfer: one per picked file and conversation (a retry reuses it). */
export function slotOf(place: FilePlaceView, transfer: string): string {
  return place.kind === 'chat' ? `${place.username}:${transfer}` : `group:${place.id}:${transfer}`;
}

/** The person gave up the upload of `transfer` (the tray's Cancel): what it holds goes, and it is not listed as unsent. */
export async function discardUpload(ctx: EngineContext, transfer: string): Promise<void> {
  const unfinished = unfinishedIn(ctx.vault);
  for (const [slot, up] of unfinished) {
    if (!isSlotOf(slot, transfer)) continue;
    up.abandon();
    unfinished.delete(slot);
  }
  // Its unfinished blob goes from the host too, freeing one of the account's upload slots.
  if (await forgetTransfer(ctx.vault, transfer, ctx.deps.now())) ctx.kickWithdrawals();
}

export async function sendAttachment(ctx: EngineContext, username: Username, file: OutgoingFile): Promise<MessageRecord> {
  const me = requireMe(ctx);
  if (username === me.username) return fail('InvalidArgument', 'not a chat with another user');
  if (!(file.bytes instanceof Uint8Array) && !(file.bytes instanceof Blob)) return fail('InvalidArgument', 'a file must be bytes or a Blob');
  const length = file.bytes instanceof Uint8Array ? file.bytes.length : file.bytes.size;
  if (length > MAX_ATTACHMENT_BYTES) return engineFail('TooLarge', `a file of ${length} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  assertCanSend(await getContact(ctx.vault, username));
  const total = blobSize(length);
  const slot = slotOf({ kind: 'chat', username }, file.transfer);
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer: file.transfer, done, total });
  // The message key of an outgoing 1:1 message is its id (our copy's owner); the peer is the one recipient.
  const upload = await startUpload(ctx, slot, { kind: 'chat', username }, file, (id) => ({ messageId: id, owner: messageOwner(id), recipients: [username] }));
  const { blobId, key, digest, size } = await upload.run(ctx, emit);
  // Our copy of the blob is whole (else the message goes without one: storage full).
  const copy = await upload.kept();
  forgetUpload(ctx, slot);
  const mime = allowedMime(file.mime);
  const attachment: AttachmentContent = { kind: 'attachment', id: upload.target.messageId, sentAt: 0, blobId, key, digest, size, mime, name: file.name, ...(file.thumbnail?.length ? { thumbnail: file.thumbnail } : {}) };
  const caption = file.caption ?? '';
  const contact = await getContact(ctx.vault, username);
  assertCanSend(contact);
  const now = ctx.deps.now();
  const m = await commit(ctx.vault, async (tx) => {
    const chat = await updateChat(tx, username, (c) => ({ ...c, lastAt: Math.max(c.lastAt + 1, now), lastPreview: attachmentPreview(attachment, caption) }));
    const sent = { ...attachment, sentAt: chat.lastAt };
    // Encoded now so a bad name or thumbnail is refused before anything is stored.
    // P44: it carries the chat's disappearing timer, and its clock starts now (disappearing.ts).
    const expiry = sentExpiry(chat, now);
    const content = encodeContent({ ...sent, ...(caption ? { caption } : {}), ...sentTimer(chat) });
    const identity = contact?.identity;
    const m: MessageRecord = { key: sent.id, id: sent.id, username, direction: 'out', body: caption, sentAt: sent.sentAt, receivedAt: now, status: 'queued', attachment: sent, ...(identity ? { identity } : {}), ...expiry };
    await putMessage(tx, m);
    if (copy && (await copy.txWhole(tx))) await txMarkFile(tx, { owner: upload.target.owner, blobId, total, released: true });
    await addOutbox(tx, { username, content, messageKey: sent.id, ...(identity ? { identity } : {}) });
    await txUploadSent(tx, slot);
    return m;
  });
  uploadDone(ctx.vault, slot);
  ctx.events.emit(messageEvent(m));
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  armFor(ctx, [m]);
  return m;
}

export async function openAttachment(ctx: EngineContext, username: Username, key: string, transfer: string): Promise<OpenedFile> {
  requireMe(ctx);
  const m = await getMessage(ctx.vault, key);
  const a = m?.username === username ? m.attachment : undefined;
  if (!a) return fail('InvalidArgument', 'no such file in this chat');
  return openPointer(ctx, a, transfer, { owner: messageOwner(key), holds: async (tx) => (await txGetMessage(tx, key))?.attachment?.blobId === a.blobId });
}

/**
 * How much of the file of 1:1 message `key` this browser holds (our copy, file-repo.ts): 1 the
 * whole file, so opening it needs no download; 0 for a file never opened here, a copy the user
 * removed, or a message that is not this chat's; in between, the parts a stopped download kept.
 */
export async function attachmentHeld(ctx: EngineContext, username: Username, key: string): Promise<number> {
  const m = await getMessage(ctx.vault, key);
  const a = m?.username === username ? m.attachment : undefined;
  return a ? copyHeld(ctx, messageOwner(key), a.blobId, blobSize(a.size)) : 0;
}

/**
 * The share of blob `blobId` (`total` bytes) held under `owner`: 1 for a complete copy not removed
 * to free space, else what a stopped download of it kept (file-repo.ts keptShare), else 0.
 */
export async function copyHeld(ctx: EngineContext, owner: string, blobId: string, total: number): Promise<number> {
  const mark = await getFileMark(ctx.vault, owner);
  if (mark !== undefined && !mark.removed && mark.blobId === blobId) return 1;
  return keptShare(ctx.vault, owner, blobId, total, UPLOAD_PART_BYTES);
}

type Pointer = Pick<AttachmentContent, 'blobId' | 'key' | 'digest' | 'size' | 'mime' | 'name'>;

/** Where a file's copy is kept: its owner (file-repo.ts), and whether its message still points at the file. */
export interface CopyPlace {
  owner: string;
  holds: (tx: Tx) => Promise<boolean>;
}

/**
 * Checks and decrypts the file a pointer names (a 1:1 chat's or a group's), from our copy (`owner`,
 * file-repo.ts) when we hold one, else from the host. P45: a size no sender could have uploaded is
 * refused before anything is fetched or allocated, and the Blob exists only once the digest, FINAL
 * tag and padding checks passed; a host blob that fails them is Tampered. A copy that fails them
 * (a damaged disk) is dropped and the host asked instead.
 * A download that stops on the way (the host unreachable or failing, the address's download limit,
 * the tab closed) keeps the parts it opened, and the next open resumes after them: those parts
 * are read back and checked again by the opener, and only the rest is asked of the host. If a
 * resumed download fails a check (a kept part damaged, or the host's), everything is dropped and
 * the file fetched once more from the first byte, so Tampered always speaks of the host's bytes.
 * Nothing is kept when the host no longer has the blob, for a blob that fails a check, or once the
 * message no longer points at the file.
 */
export async function openPointer(ctx: EngineContext, a: Pointer, transfer: string, place: CopyPlace): Promise<OpenedFile> {
  const { owner } = place;
  const me = requireMe(ctx);
  if (a.size > MAX_ATTACHMENT_BYTES) return engineFail('Tampered', `a file of ${a.size} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  const total = blobSize(a.size);
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer, done, total });
  const opened = (bytes: Blob): OpenedFile => ({ bytes, mime: a.mime, name: a.name });
  const mark = await getFileMark(ctx.vault, owner);
  // The user removed this copy to free space (file-usage.ts): the host is asked, and if it no
  // longer has the file the answer says so, and the mark stays for the next open.
  const removed = mark?.removed && mark.blobId === a.blobId ? mark : undefined;
  const keepRemoved = async (): Promise<void> => {
    if (removed) await commit(ctx.vault, async (tx) => void ((await place.holds(tx)) && (await txMarkFile(tx, removed)))).catch(() => undefined);
  };
  if (mark && !mark.removed && mark.blobId === a.blobId && mark.total === total) {
    try {
      const bytes = await openParts(a, localParts(ctx.vault, owner, total), emit, undefined, () => stopIfLocked(ctx));
      if (!mark.released) void release(ctx, owner, a, me.username);
      return opened(bytes);
    } catch (e) {
      if (isEngineError(e, 'Locked')) throw e;
      // A copy with a part missing (LocalCopyError), damaged (a ProtocolError) or unreadable.
    }
  }
  // No copy, or one that does not open: resume what an earlier download kept, else start clean.
  let resume = await resumePoint(ctx.vault, owner, a.blobId, total, UPLOAD_PART_BYTES).catch(() => FROM_START);
  let got: Awaited<ReturnType<typeof downloadStream>> | undefined;
  while (!got) {
    try {
      got = await downloadStream(ctx, a, owner, emit, resume);
    } catch (e) {
      // Locked under it (P46): what it kept stays for the open after unlocking.
      if (isEngineError(e, 'Locked')) throw e;
      const damaged = isProtocolError(e) || e instanceof LocalCopyError;
      if (damaged && resume.from > 0) {
        // The kept parts or the host's: once more from nothing, so only the host's bytes are judged.
        await dropFile(ctx.vault, owner).catch(() => undefined);
        resume = FROM_START;
        continue;
      }
      if (damaged || isEngineError(e, 'FileGone') || !(await keepsPartial(ctx, place))) await dropFile(ctx.vault, owner).catch(() => undefined);
      await keepRemoved();
      if (damaged) return engineFail('Tampered', `the file was changed in transit (${isProtocolError(e) ? e.code : 'local copy'})`);
      if (removed && isEngineError(e, 'FileGone')) return engineFail('FileRemoved', 'the file was removed from this browser and the host no longer has it');
      throw e;
    }
  }
  // Marked only while its message still points at the file (a delete while it downloaded,
  // for me or for everyone, drops the parts).
  // No copy (storage full): nothing is released, so the host keeps the blob for the next open.
  const copy = got.copy;
  const kept =
    copy !== undefined &&
    (await commit(ctx.vault, async (tx) => {
      if (!(await place.holds(tx)) || !(await copy.txWhole(tx))) return false;
      await txMarkFile(tx, { owner, blobId: a.blobId, total, released: false });
      return true;
    }));
  if (kept) void release(ctx, owner, a, me.username);
  else {
    await dropFile(ctx.vault, owner).catch(() => undefined);
    await keepRemoved();
  }
  return opened(got.bytes);
}

/**
 * After a download stopped for a reason that may pass: whether its kept parts stay for the next
 * open (file-repo.ts FileResume), that is, whether the message still points at the file (a delete
 * while it downloaded takes them, P44).
 */
async function keepsPartial(ctx: EngineContext, place: CopyPlace): Promise<boolean> {
  try {
    return await commit(ctx.vault, (tx) => place.holds(tx));
  } catch {
    return false;
  }
}

/**
 * Tells the host we hold our copy (wire/blob-api.ts release), as nobody, like the download. Best
 * effort: a failure leaves the copy unreleased, and the next open tries again; the host's own
 * retention drops the blob in the end either way.
 */
async function release(ctx: EngineContext, owner: string, a: Pointer, username: string): Promise<void> {
  try {
    const body: BlobRelease = { token: toHex(releaseToken(a.key, username)) };
    const res = await downloader(ctx)(`${BLOB_API.prefix}${a.blobId}${BLOB_API.releaseSuffix}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (res.ok) await setReleased(ctx.vault, owner);
  } catch {
    // Retried at the next open.
  }
}
