/**
 * Files in a conversation (README "Attachments"; SECURITY.md P1, P40): seal a file under a fresh
 * key (crypto/attachment.ts), upload its blob (blob-client.ts), then queue the message that
 * carries blob id, key and digest (wire content kind 0x10) like a text (outbox.ts, P36: written
 * for the identity trusted now). Opening downloads the blob, checks its digest and stream, and
 * answers Tampered, never bytes, for a blob the host changed.
 *
 * A failed upload keeps its sealed blob and blob id in memory for this worker's lifetime, so
 * "Retry" with the same file resumes where the host is instead of starting over. The sender's
 * own copy reopens from the host like anyone's (no plaintext is stored in IndexedDB).
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import { toHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { MAX_ATTACHMENT_BYTES, blobSize, openAttachment as openBlob, sealAttachment, type SealedAttachment } from '../../src/lib/crypto/attachment';
import { sodium } from '../../src/lib/crypto/sodium';
import { allowedMime, isImageMime, isVoiceMime, shownName, type AttachmentContent } from '../../src/lib/wire/attachment-content';
import { encodeContent, newMessageId } from '../../src/lib/wire/content';
import type { OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { preview, updateChat } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { getMessage, putMessage } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { MessageRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { downloadBlob, uploadBlob } from './blob-client';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { messageEvent } from './views';
import { assertCanSend } from './trust';
import { armFor, sentExpiry } from './disappearing';
import type { TimerSeconds } from '../../src/lib/wire/disappearing-content';

/** Uploads that failed part-way, by recipient and file digest: a retry resumes them. */
const unfinished = new Map<string, { sealed: SealedAttachment; blobId?: string }>();

/** What a chat list shows for a file: never the caption's absence as an empty line. */
export function attachmentPreview(a: Pick<AttachmentContent, 'mime' | 'name'>, caption: string): string {
  return preview(caption || (isImageMime(a.mime) ? `📷 Photo` : isVoiceMime(a.mime) ? '🎤 Voice message' : `📎 ${shownName(a.name)}`));
}

export async function sendAttachment(ctx: EngineContext, username: Username, file: OutgoingFile): Promise<MessageRecord> {
  const me = requireMe(ctx);
  if (username === me.username) return fail('InvalidArgument', 'not a chat with another user');
  if (!(file.bytes instanceof Uint8Array)) return fail('InvalidArgument', 'a file must be bytes');
  if (file.bytes.length > MAX_ATTACHMENT_BYTES) return engineFail('TooLarge', `a file of ${file.bytes.length} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  assertCanSend(await getContact(ctx.vault, username));
  const total = blobSize(file.bytes.length);
  const slot = `${username}:${toHex(sodium().crypto_generichash(32, file.bytes, null))}`;
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer: file.transfer, done, total });
  const pending = unfinished.get(slot) ?? { sealed: sealAttachment(file.bytes) };
  unfinished.set(slot, pending);
  const blobId = await uploadBlob(ctx, pending.sealed.blob, pending.blobId, emit, (id) => (pending.blobId = id));
  unfinished.delete(slot);
  const { key, digest, size } = pending.sealed;
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
    const content = encodeContent({ ...sent, ...(caption ? { caption } : {}), ...(expiry.expireTimer ? { expireTimer: expiry.expireTimer as TimerSeconds } : {}) });
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
  const total = blobSize(a.size);
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer, done, total });
  const blob = await downloadBlob(ctx, a.blobId, total, emit);
  try {
    return { bytes: openBlob(a, blob), mime: a.mime, name: a.name };
  } catch (e) {
    if (isProtocolError(e)) return engineFail('Tampered', `the file was changed in transit (${e.code})`);
    throw e;
  }
}
