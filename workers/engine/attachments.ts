/**
 * Files in a conversation (README "Attachments"; SECURITY.md P1, P40): seal a file under a fresh
 * key (crypto/attachment.ts), upload its blob (blob-client.ts), then queue the message that
 * carries blob id, key and digest (wire content kind 0x10) like a text (outbox.ts, P36: written
 * for the identity trusted now). Opening downloads the blob, checks its digest and stream, and
 * answers Tampered, never bytes, for a blob the host changed.
 *
 * Both directions stream (blob-stream.ts): the vault holds a couple of 1 MiB parts, never the
 * whole file or blob. A failed upload keeps its sealer and unconfirmed parts in memory for this
 * worker's lifetime, so "Retry" of the same transfer resumes where the host is instead of starting
 * over. The sender's own copy reopens from the host like anyone's (no plaintext is stored in
 * IndexedDB).
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { MAX_ATTACHMENT_BYTES, blobSize } from '../../src/lib/crypto/attachment';
import { allowedMime, isImageMime, isVoiceMime, shownName, type AttachmentContent } from '../../src/lib/wire/attachment-content';
import { encodeContent, newMessageId } from '../../src/lib/wire/content';
import type { OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { preview, updateChat } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { getMessage, putMessage } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { MessageRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { StreamUpload, downloadStream } from './blob-stream';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { messageEvent } from './views';
import { assertCanSend } from './trust';
import { armFor, sentExpiry, sentTimer } from './disappearing';

/** Uploads that failed part-way, by recipient and transfer id: a retry of the same file resumes them. */
const unfinished = new Map<string, StreamUpload>();
/** Failed uploads kept for a retry (each holds at most a few sealed parts). */
const MAX_UNFINISHED = 8;

/** The upload to run for `file` (a 1:1 chat's or a group's slot): the unfinished one of the same transfer and file, else a new one. */
export function uploadFor(slot: string, file: OutgoingFile): StreamUpload {
  const old = unfinished.get(slot);
  const size = file.bytes instanceof Uint8Array ? file.bytes.length : file.bytes.size;
  if (old && old.size === size) return old;
  old?.abandon();
  unfinished.delete(slot);
  while (unfinished.size >= MAX_UNFINISHED) {
    const [first] = unfinished;
    first![1].abandon();
    unfinished.delete(first![0]);
  }
  const up = new StreamUpload(file.bytes);
  unfinished.set(slot, up);
  return up;
}

/** What a chat list shows for a file: never the caption's absence as an empty line. */
export function attachmentPreview(a: Pick<AttachmentContent, 'mime' | 'name'>, caption: string): string {
  return preview(caption || (isImageMime(a.mime) ? `📷 Photo` : isVoiceMime(a.mime) ? '🎤 Voice message' : `📎 ${shownName(a.name)}`));
}

/** The upload of `slot` finished: nothing is kept for a retry. */
export function forgetUpload(slot: string): void {
  unfinished.delete(slot);
}

export async function sendAttachment(ctx: EngineContext, username: Username, file: OutgoingFile): Promise<MessageRecord> {
  const me = requireMe(ctx);
  if (username === me.username) return fail('InvalidArgument', 'not a chat with another user');
  if (!(file.bytes instanceof Uint8Array) && !(file.bytes instanceof Blob)) return fail('InvalidArgument', 'a file must be bytes or a Blob');
  const length = file.bytes instanceof Uint8Array ? file.bytes.length : file.bytes.size;
  if (length > MAX_ATTACHMENT_BYTES) return engineFail('TooLarge', `a file of ${length} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  assertCanSend(await getContact(ctx.vault, username));
  const total = blobSize(length);
  const slot = `${username}:${file.transfer}`;
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer: file.transfer, done, total });
  const upload = uploadFor(slot, file);
  const { blobId, key, digest, size } = await upload.run(ctx, emit);
  forgetUpload(slot);
  const mime = allowedMime(file.mime);
  const attachment: AttachmentContent = { kind: 'attachment', id: newMessageId(ctx.deps.rng), sentAt: 0, blobId, key, digest, size, mime, name: file.name, ...(file.thumbnail?.length ? { thumbnail: file.thumbnail } : {}) };
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
    await addOutbox(tx, { username, content, messageKey: sent.id, ...(identity ? { identity } : {}) });
    return m;
  });
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
  return openPointer(ctx, a, transfer);
}

/**
 * Downloads, checks and decrypts the file a pointer names (a 1:1 chat's or a group's). P45: a size
 * no sender could have uploaded is refused before anything is fetched or allocated, and the Blob
 * exists only once the digest, FINAL tag and padding checks passed; anything else is Tampered.
 */
export async function openPointer(ctx: EngineContext, a: Pick<AttachmentContent, 'blobId' | 'key' | 'digest' | 'size' | 'mime' | 'name'>, transfer: string): Promise<OpenedFile> {
  if (a.size > MAX_ATTACHMENT_BYTES) return engineFail('Tampered', `a file of ${a.size} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  const total = blobSize(a.size);
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer, done, total });
  try {
    return { bytes: await downloadStream(ctx, a, emit), mime: a.mime, name: a.name };
  } catch (e) {
    if (isProtocolError(e)) return engineFail('Tampered', `the file was changed in transit (${e.code})`);
    throw e;
  }
}
