/**
 * Files and voice notes in groups (README "Groups": files in groups; SECURITY.md P45, P21, P19).
 *
 * Send: the file is sealed under a fresh key and its blob uploaded ONCE, streamed in parts as in
 * 1:1 (attachments.ts `startUpload`, blob-stream.ts), then the pointer — blob id, key, digest, size, allow-listed type,
 * name, thumbnail or waveform, caption: an attachment content (wire kind 0x10) — goes to every
 * member in ONE sender-key message (`GroupText` around it, wire/group-content.ts), so one upload
 * of the file and one of the message serve the whole group. The pointer is encrypted under our
 * sender key as the members are NOW: `distributeSenderKey` rotates first if anyone who held our
 * key was removed or left, so a former member never gets the pointer of a file sent after (P21).
 * Membership is checked before the upload and again in the transaction that queues the message.
 *
 * Open: stream the blob down, checking its digest and every chunk as 1:1 does (ranged-download.ts);
 * anything the host changed is `Tampered`, never bytes (P45). As in 1:1 the blob is kept as our
 * copy (file-repo.ts) and released; its release hashes name the members we send to at upload
 * time, so a member added between upload and send may find the blob gone once all the others
 * released it, as it would any file past retention.
 *
 * Receive: `shownGroupContent` tells group-messages.ts what a text or a file shows; a file keeps
 * its pointer in the sealed message row (group-repo.ts). Owns no state beyond the upload-resume
 * slots; knows nothing of the UI.
 */
import { fail } from '../../src/lib/codec/errors';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { MAX_ATTACHMENT_BYTES, blobSize } from '../../src/lib/crypto/attachment';
import { allowedMime, type AttachmentContent } from '../../src/lib/wire/attachment-content';
import { encodeContent, type Content } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import type { OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { getGroupMessage, putGroup, putGroupMessage, txGetGroup, txGetGroupMessage, type GroupMessageRecord } from '../storage/group-repo';
import { groupOwner, txMarkFile } from '../storage/file-repo';
import { commit } from '../storage/vault';
import { attachmentPreview, copyHeld, forgetUpload, openPointer, slotOf, startUpload } from './attachments';
import { txUploadSent, uploadDone } from './unsent-files';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { distributeSenderKey } from './group-apply';
import { groupRecipients } from './group-recipients';
import { catchUpBeforeSend, requireSendable, sendableInTx } from './group-sendable';

/** What a group message shows: a text, or a file with its caption; anything else is not shown. */
export function shownGroupContent(content: Content): { body: string; preview: string; attachment?: AttachmentContent } | undefined {
  if (content.kind === 'text') return { body: content.text, preview: content.text };
  if (content.kind !== 'attachment') return undefined;
  // Groups have no disappearing timer: one a sender put on the file is dropped with the caption.
  const { caption, expireTimer: _timer, timerSetAt: _setting, ...attachment } = content;
  return { body: caption ?? '', preview: attachmentPreview(attachment, caption ?? ''), attachment };
}

export async function sendGroupAttachment(ctx: EngineContext, id: string, file: OutgoingFile): Promise<GroupMessageRecord> {
  const me = requireMe(ctx);
  if (!(file.bytes instanceof Uint8Array) && !(file.bytes instanceof Blob)) return fail('InvalidArgument', 'a file must be bytes or a Blob');
  const length = file.bytes instanceof Uint8Array ? file.bytes.length : file.bytes.size;
  if (length > MAX_ATTACHMENT_BYTES) return engineFail('TooLarge', `a file of ${length} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  await catchUpBeforeSend(ctx, id);
  // P21/P19: nothing is uploaded for a group we may not write to now.
  requireSendable(me.username, await commit(ctx.vault, (tx) => txGetGroup(tx, id)));

  const total = blobSize(length);
  const slot = slotOf({ kind: 'group', id }, file.transfer);
  const emit = (done: number) => ctx.events.emit({ type: 'transfer', transfer: file.transfer, done, total });
  // Streamed as in 1:1 (blob-stream.ts): a couple of 1 MiB parts in memory; Retry of the same transfer resumes.
  // Whom the host keeps the blob for (their release hashes): the members we would send to now.
  const members = () =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      return g ? groupRecipients(tx, g.history.head, me.username) : [];
    });
  const recipients = await members();
  const upload = await startUpload(ctx, slot, { kind: 'group', id }, file, (messageId) => ({ messageId, owner: groupOwner(`${id}:${messageId}`), recipients }));
  const { blobId, key, digest, size } = await upload.run(ctx, emit);
  // A member who joined while the file went up is listed too, before the pointer goes: unlisted,
  // the others' releases would delete the blob before they fetched it.
  await upload.listAlso(ctx, await members());
  // Our copy of the blob is whole (else the message goes without one: storage full).
  const copy = await upload.kept();
  forgetUpload(ctx, slot);
  const pointer: AttachmentContent = { kind: 'attachment', id: upload.target.messageId, sentAt: 0, blobId, key, digest, size, mime: allowedMime(file.mime), name: file.name, ...(file.thumbnail?.length ? { thumbnail: file.thumbnail } : {}) };
  const caption = file.caption ?? '';

  // As sendGroupText (group-messages.ts): one sender-key encryption, committed with the advanced
  // key, the message row and the queued upload. Undefined if a member the blob does not list came
  // in since (a state that arrived in between): they are listed first, and it is tried again.
  const commitSend = () =>
    ctx.serial(() =>
      commit(ctx.vault, async (tx) => {
        const stored = await sendableInTx(ctx, tx, id, me.username);
        const head = stored.history.head;
        // Members we blocked are left out, as from our sender key (group-recipients.ts).
        const to = await groupRecipients(tx, head, me.username);
        if (!to.every((u) => upload.lists(u))) return undefined;
        const g = await distributeSenderKey(ctx, tx, me, stored);
        const now = ctx.deps.now();
        const sent: AttachmentContent = { ...pointer, sentAt: Math.max(g.lastAt + 1, now) };
        // Encoded now so a bad name or thumbnail is refused before anything is stored.
        const content = encodeContent({ ...sent, ...(caption ? { caption } : {}) });
        const { state, message } = groupEncrypt(g.our!, encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content }));
        const key = `${id}:${sent.id}`;
        const m: GroupMessageRecord = { key, groupId: id, id: sent.id, sender: me.username, direction: 'out', body: caption, sentAt: sent.sentAt, receivedAt: now, status: 'queued', recipients: to, attachment: sent };
        await putGroupMessage(tx, m);
        if (copy && (await copy.txWhole(tx))) await txMarkFile(tx, { owner: upload.target.owner, blobId, total, released: true });
        await putGroup(tx, { ...g, our: state, lastAt: sent.sentAt, lastPreview: attachmentPreview(sent, caption), outgoing: [...g.outgoing, { messageKey: key, body: message, to }] });
        await txUploadSent(tx, slot);
        return m;
      })
    );
  let m = await commitSend();
  for (let round = 0; !m && round < 3; round++) {
    await upload.listAlso(ctx, await members());
    m = await commitSend();
  }
  if (!m) return engineFail('Unavailable', 'the group kept changing while the file was sent; try again');
  uploadDone(ctx.vault, slot);
  ctx.events.emit({ type: 'group', id });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  return m;
}

/** Checks and decrypts the file of group message `key`, from our copy or the host (ours too: nothing decrypted is kept, P46). */
export async function openGroupAttachment(ctx: EngineContext, id: string, key: string, transfer: string): Promise<OpenedFile> {
  requireMe(ctx);
  const m = await commit(ctx.vault, (tx) => txGetGroupMessage(tx, key));
  const a = m?.groupId === id ? m.attachment : undefined;
  if (!a) return fail('InvalidArgument', 'no such file in this group');
  return openPointer(ctx, a, transfer, { owner: groupOwner(key), holds: async (tx) => (await txGetGroupMessage(tx, key))?.attachment?.blobId === a.blobId });
}

/** How much of the file of group message `key` this browser holds (attachments.ts attachmentHeld). */
export async function groupAttachmentHeld(ctx: EngineContext, id: string, key: string): Promise<number> {
  // A read-only get: every group file bubble asks on mount, so this must not queue behind writes.
  const m = await getGroupMessage(ctx.vault, key);
  const a = m?.groupId === id ? m.attachment : undefined;
  return a ? copyHeld(ctx, groupOwner(key), a.blobId, blobSize(a.size)) : 0;
}
