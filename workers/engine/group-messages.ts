/**
 * Group messages (README "Groups"; SECURITY.md P19, P20, P21).
 *
 * Send: one sender-key encryption (`groupEncrypt`) for the whole group, committed with the
 * advanced sender key and the message row in one transaction (the offline queue: `outgoing` in
 * the group record), then ONE upload that the host fans out to every member's mailbox
 * (`groupSend`). A retry re-sends the same bytes; a duplicate is refused by the receiver's chain.
 * If a member's message showed a newer head than ours, we first fetch the state blob; if we
 * still cannot catch up, sending waits (GroupOutOfDate): a removal withheld from us must not let
 * the removed member read what we write next (P19, P21).
 *
 * Receive: the type byte 0x03 is the group one (P20: never a 1:1 envelope's), so the inbox hands
 * it here. The sender's key is found by (host-claimed sender, distribution id); the signature,
 * chain and AEAD decide (`groupDecrypt`); a sender who is no longer a member is refused; gaps are
 * counted and shown; the message, the new chain state and the counters commit together.
 */
import { uploadStateBlob } from './group-sync';
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { forgetSkipped, groupDecrypt, groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { peekGroupMessage } from '../../src/lib/crypto/group/sender-key-message';
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';
import { fail, isCodedError } from '../../src/lib/codec/errors';
import { decodeContent, encodeContent, newMessageId } from '../../src/lib/wire/content';
import { decodeGroupText, encodeGroupText, MAX_MENTIONS } from '../../src/lib/wire/group-content';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { preview } from '../storage/chat-repo';
import { putGroup, putGroupMessage, txGetGroup, txGetGroupMessage, txListGroups, type GroupMessageRecord, type GroupRecord } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { txGetContact } from '../storage/contact-repo';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { distributeSenderKey, putNotice } from './group-apply';
import { checkSealedGroupSender, deliverGroupUpload } from './group-sealed';
import type { SenderCertificate } from '../../src/lib/crypto/certificates';
import { v3SealKeys } from './group-seal-keys';
import { queueGroupReceipt } from './group-receipts';
import { groupRecipients } from './group-recipients';
import { catchUpBeforeSend, sendableInTx } from './group-sendable';
import { applyHeldGroupActions, isGroupAction, receiveGroupAction, replyFields } from './group-actions';
import { shownGroupContent } from './group-attachments';
import { jumpedWithdrawn } from './group-withdraw';
import { isEngineError } from './errors';
import { underChangedKey } from './trust';
import { unarchiveOnMessage } from './chat-flags';
import type { Envelope } from './transport';

export const MAX_GROUP_TEXT_CHARS = 16_000;
/** As for 1:1 (inbox.ts): a sender clock far ahead must not pin the group to the top. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The outbox's flush report, as far as group uploads add to it. */
export interface GroupFlushReport {
  sent: number;
  held: Map<string, string>;
  unavailable: boolean;
}

export async function sendGroupText(ctx: EngineContext, id: string, text: string, mentioned: readonly string[] = []): Promise<GroupMessageRecord> {
  const me = requireMe(ctx);
  if (text.length === 0 || text.length > MAX_GROUP_TEXT_CHARS) fail('InvalidArgument', `text of ${text.length} characters, expected 1..${MAX_GROUP_TEXT_CHARS}`);
  const wanted = [...new Set(mentioned.map((u) => asUsername(u)))];
  if (wanted.length > MAX_MENTIONS) fail('InvalidArgument', `${wanted.length} mentions exceed ${MAX_MENTIONS}`);
  await catchUpBeforeSend(ctx, id);
  const m = await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const stored = await sendableInTx(ctx, tx, id, me.username);
      const head = stored.history.head;
      if (wanted.some((u) => !findMember(head, address(u)))) fail('InvalidArgument', 'a mention names someone who is not a member');
      const mentions = wanted.length > 0 ? { mentions: wanted } : {};
      const g = await distributeSenderKey(ctx, tx, me, stored);
      const now = ctx.deps.now();
      const sentAt = Math.max(g.lastAt + 1, now);
      const msgId = newMessageId(ctx.deps.rng);
      const content = encodeContent({ kind: 'text', id: msgId, sentAt, text });
      const { state, message } = groupEncrypt(g.our!, encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content, ...mentions }));
      const key = `${id}:${msgId}`;
      // Members we blocked are left out, as from our sender key (group-recipients.ts).
      const to = await groupRecipients(tx, head, me.username);
      const m: GroupMessageRecord = { key, groupId: id, id: msgId, sender: me.username, direction: 'out', body: text, sentAt, receivedAt: now, status: 'queued', recipients: to, ...mentions };
      await putGroupMessage(tx, m);
      await putGroup(tx, { ...g, our: state, lastAt: sentAt, lastPreview: preview(text), outgoing: [...g.outgoing, { messageKey: key, body: message, to }] });
      return m;
    })
  );
  ctx.events.emit({ type: 'group', id });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  return m;
}

/** Uploads queued group messages (after the pairwise outbox, so sender keys go first). */
export async function flushGroupOutgoing(ctx: EngineContext, report: GroupFlushReport): Promise<void> {
  requireMe(ctx);
  if (!ctx.transport.groupSend) return;
  const groups = await commit(ctx.vault, (tx) => txListGroups(tx));
  for (const g of groups) {
    // A master key we made with a send of ours (a leave's, group-key-epochs.ts): the blob at the
    // new key's address, and the handoff at the old one, go up with the send.
    if (g.handoff) await uploadStateBlob(ctx, g.id);
    for (const o of g.outgoing) {
      try {
        // P41: sealed (v3 with seal keys, else v2) when every member's token is at hand (group-sealed.ts).
        if (o.to.length > 0) {
          const sealKeys = v3SealKeys(g, o.to);
          await deliverGroupUpload(ctx, o.to, o.body, sealKeys ? { group: g.id, sealKeys } : undefined);
        }
      } catch (e) {
        if (isEngineError(e, 'Unavailable')) {
          report.unavailable = true;
          return;
        }
        if (!isCodedError(e)) throw e;
        report.held.set(`group:${g.id}`, e.code);
      }
      await commit(ctx.vault, async (tx) => {
        const now = await txGetGroup(tx, g.id);
        if (now) await putGroup(tx, { ...now, outgoing: now.outgoing.filter((x) => x.messageKey !== o.messageKey) });
        const m = await txGetGroupMessage(tx, o.messageKey);
        if (m && m.status === 'queued') await putGroupMessage(tx, { ...m, status: report.held.has(`group:${g.id}`) ? 'failed' : 'sent' });
      });
      report.sent++;
      ctx.events.emit({ type: 'group', id: g.id });
    }
  }
}

export type GroupReceiveOutcome = { stored: boolean; events: EngineEvent[]; code?: string; sync?: string };

/**
 * Decrypts and stores one group message; refusals come back as a code (the caller acks). A sealed
 * one's certificate (`sealedFrom`) is checked against the same read of the groups
 * (group-sealed.ts), so the check and the decryption see one state and the groups are read once.
 */
export async function receiveGroupEnvelope(ctx: EngineContext, env: Envelope, sealedFrom?: SenderCertificate): Promise<GroupReceiveOutcome> {
  const me = requireMe(ctx);
  const header = peekGroupMessage(env.body);
  return commit(ctx.vault, async (tx): Promise<GroupReceiveOutcome> => {
    const groups = await txListGroups(tx);
    let g: GroupRecord | undefined;
    let idx = -1;
    for (const x of groups) {
      idx = x.theirs.findIndex((t) => t.theirAddress.username === env.sender && bytesEqual(t.distributionId, header.distributionId));
      if (idx >= 0) {
        g = x;
        break;
      }
    }
    if (sealedFrom) checkSealedGroupSender(g, groups, env.sender, sealedFrom);
    // A key we were never given: its sender may have rotated after a change we have not seen.
    if (!g) {
      const member = groups.find((x) => x.our && findMember(x.history.head, address(env.sender)));
      return { stored: false, events: [], code: 'NoSenderKey', ...(member ? { sync: member.id } : {}) };
    }
    if (!findMember(g.history.head, address(env.sender))) return { stored: false, events: [], code: 'NotMember' };
    const d = groupDecrypt(g.theirs[idx]!, env.body, ctx.deps);
    const gt = decodeGroupText(d.plaintext);
    const content = decodeContent(gt.content);
    // A text, a file (group-attachments.ts, P45) or a message action (P47); any other kind is a newer client's.
    const shown = shownGroupContent(content);
    if (!shown && !isGroupAction(content)) return { stored: false, events: [], code: 'UnsupportedVersion' };
    const theirs = g.theirs.map((t, i) => (i === idx ? d.state : t));
    // Blocking stops their messages to us, in groups too (as Signal): the chain moves on (no gap
    // shows after an unblock), nothing is stored, counted or acknowledged.
    const contact = await txGetContact(tx, env.sender);
    if (contact?.blocked) {
      await putGroup(tx, { ...g, theirs });
      return { stored: false, events: [], code: 'Blocked' };
    }
    const now = ctx.deps.now();
    const behind = gt.headVersion > g.history.head.version;
    let next: GroupRecord = { ...g, theirs, seenVersion: Math.max(g.seenVersion, gt.headVersion) };
    // P36/P3: a sender key given under a changed safety number not accepted yet: as in a 1:1
    // chat, its messages are flagged and never sort above what is shown, its actions are dropped.
    const keyFrom = g.keyFrom?.[toHex(g.theirs[idx]!.distributionId)];
    const changedKey = keyFrom !== undefined && underChangedKey(contact, keyFrom);
    // Message actions (group-actions.ts, P47): a reaction, edit or delete changes a row, stores none.
    if (isGroupAction(content)) next = changedKey ? next : await receiveGroupAction(ctx, tx, next, env.sender as Username, content, gt.targetAuthor, gt.mentions);
    else if (shown && (content.kind === 'text' || content.kind === 'attachment') && !(await txGetGroupMessage(tx, `${g.id}:${env.sender}:${content.id}`))) {
      const key = `${g.id}:${env.sender}:${content.id}`;
      const claimed = Math.min(content.sentAt, now + MAX_CLOCK_SKEW_MS);
      const sentAt = changedKey ? Math.max(claimed, next.lastAt + 1) : claimed;
      // Mentions name members only: anyone else a sender lists is dropped, never shown or counted.
      const mentions = [...new Set(gt.mentions ?? [])].filter((u) => findMember(g.history.head, address(u)));
      const reply = content.kind === 'text' ? replyFields(g.id, me.username, content, gt.targetAuthor) : {};
      await putGroupMessage(tx, { key, groupId: g.id, id: content.id, sender: env.sender, direction: 'in', body: shown.body, sentAt, receivedAt: now, status: 'received', ...(mentions.length > 0 ? { mentions } : {}), ...(shown.attachment ? { attachment: shown.attachment } : {}), ...reply, ...(changedKey ? { keyChanged: true as const } : {}) });
      const newest = sentAt >= next.lastAt;
      const mentionsUnread = (next.mentionsUnread ?? 0) + (mentions.includes(me.username) ? 1 : 0);
      // README "Chat list": a new message brings an archived group back, unless it is muted.
      next = { ...unarchiveOnMessage(next), unread: next.unread + 1, lastAt: newest ? sentAt : next.lastAt, lastPreview: newest ? preview(shown.preview) : next.lastPreview, ...(mentionsUnread > 0 ? { mentionsUnread } : {}) };
      // Receipts per member: a delivery receipt to the sender only, pairwise (group-receipts.ts);
      // none while the group is a request (P42): Accept sends them (group-request-state.ts).
      if (!g.requestFrom) await queueGroupReceipt(tx, env.sender as Username, g.id, 'delivered', [content.id]);
      next = await applyHeldGroupActions(ctx, tx, next, env.sender as Username, content.id);
    }
    // P21: iterations jumped over are missing messages, shown in the conversation; one that this
    // very delete names as withdrawn before it left is not (group-withdraw.ts).
    const withdrawn = content.kind === 'delete' && !changedKey && jumpedWithdrawn(g.theirs[idx]!, header.iteration, content.withdrawn) ? content.withdrawn!.n : undefined;
    if (withdrawn !== undefined) next = { ...next, theirs: next.theirs.map((t, i) => (i === idx ? forgetSkipped(t, withdrawn, now) : t)) };
    const skipped = d.skipped - (withdrawn !== undefined ? 1 : 0);
    if (skipped > 0) {
      next = { ...next, missing: next.missing + skipped };
      await putNotice(ctx, tx, g, 'gap', env.sender, next.lastAt - 1);
    }
    if (d.late) next = { ...next, missing: Math.max(0, next.missing - 1) };
    await putGroup(tx, next);
    return { stored: true, events: [{ type: 'group', id: g.id }, { type: 'chats' }], ...(behind ? { sync: g.id } : {}) };
  });
}
