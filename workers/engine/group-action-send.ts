/**
 * Message actions in groups, sending side (README "Groups": message actions; SECURITY.md P47,
 * P19, P21): a reply, a reaction, an edit or a delete for everyone is one group text (version 3
 * when it names a target's author, wire/group-content.ts) encrypted once under our sender key and
 * queued for the same single upload as any group message (flushGroupOutgoing), after the same
 * checks: we are a member, not behind a head a member showed us (GroupOutOfDate, P19), and our
 * sender key rotated first if someone who held it left (P21). The local change and the queued
 * upload commit together. Delete for me changes this browser only and sends nothing.
 *
 * Only our own messages can be edited or deleted for everyone, within ACTION_WINDOW_MS (P47; no
 * admin delete). Receiving is group-actions.ts's.
 */
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { fail } from '../../src/lib/codec/errors';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { encodeContent, isOneEmoji, MAX_TEXT_BYTES, newMessageId, type Content } from '../../src/lib/wire/content';
import { encodeGroupText, MAX_MENTIONS } from '../../src/lib/wire/group-content';
import { preview } from '../storage/chat-repo';
import { deleteGroupMessageRow } from '../storage/group-message-delete';
import { putGroup, putGroupMessage, txGetGroup, txGetGroupMessage, type GroupMessageRecord, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { distributeSenderKey } from './group-apply';
import { edit, erase, react } from './group-actions';
import { MAX_GROUP_TEXT_CHARS } from './group-messages';
import { groupRecipients } from './group-recipients';
import { withdrawQueued } from './group-withdraw';
import { catchUpBeforeSend, sendableInTx } from './group-sendable';
import { engineFail } from './errors';
import { ACTION_WINDOW_MS } from './message-actions';
import { noteWithdrawals } from './blob-withdrawals';

/** What one action sends, after its local change: the content and the group record to store. */
interface Plan {
  content: Content;
  group: GroupRecord;
  targetAuthor?: Username;
  mentions?: Username[];
  /** A reply's new row (its key names the upload). */
  row?: GroupMessageRecord;
}

function checkGroupId(id: string): void {
  if (!/^[0-9a-f]{64}$/.test(id)) fail('InvalidArgument', `group id of ${id.length} characters is not 64 hex digits`);
}

function checkText(text: string): void {
  if (text.length === 0 || text.length > MAX_GROUP_TEXT_CHARS || new TextEncoder().encode(text).length > MAX_TEXT_BYTES) {
    fail('InvalidArgument', `text of ${text.length} characters, expected 1..${MAX_GROUP_TEXT_CHARS}`);
  }
}

function checkMentions(g: GroupRecord, mentioned: readonly string[]): Username[] {
  const wanted = [...new Set(mentioned.map((u) => asUsername(u)))];
  if (wanted.length > MAX_MENTIONS) fail('InvalidArgument', `${wanted.length} mentions exceed ${MAX_MENTIONS}`);
  if (wanted.some((u) => !findMember(g.history.head, address(u)))) fail('InvalidArgument', 'a mention names someone who is not a member');
  return wanted;
}

/** A message of group `g` by its view id (the row key); never a notice, never another group's. */
async function targetIn(tx: Tx, g: GroupRecord, key: string): Promise<GroupMessageRecord> {
  const m = await txGetGroupMessage(tx, key);
  if (!m || m.groupId !== g.id || m.direction === 'system') return fail('InvalidArgument', 'no such message in this group');
  if (m.deleted) return fail('InvalidArgument', 'the message was deleted');
  return m;
}

/** Ours, within the window: the only messages we may edit or delete for everyone (P47). */
function checkOwn(m: GroupMessageRecord, now: number): void {
  if (m.direction !== 'out') fail('InvalidArgument', 'only your own messages can be edited or deleted for everyone');
  if (now - m.sentAt > ACTION_WINDOW_MS) fail('InvalidArgument', 'messages older than 24 hours cannot be changed for everyone');
}

/**
 * The shared path: checks, rotation (P21), the action's local change (`step`; undefined = nothing
 * changed, nothing sent), one encryption and the queued upload, in one transaction.
 */
async function sendInGroup(ctx: EngineContext, id: string, step: (tx: Tx, g: GroupRecord, me: Username) => Promise<Plan | undefined>): Promise<GroupMessageRecord | undefined> {
  const me = requireMe(ctx);
  checkGroupId(id);
  await catchUpBeforeSend(ctx, id);
  const row = await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      // P42: acting in a group request (reply, reaction, edit, delete) accepts it, as writing does.
      const stored = await sendableInTx(ctx, tx, id, me.username);
      const head = stored.history.head;
      const distributed = await distributeSenderKey(ctx, tx, me, stored);
      const plan = await step(tx, distributed, me.username);
      if (!plan) {
        await putGroup(tx, distributed);
        return undefined;
      }
      const g = plan.group;
      const text = encodeGroupText({
        headVersion: head.version,
        headHash: stateHash(head),
        content: encodeContent(plan.content),
        ...(plan.mentions?.length ? { mentions: plan.mentions } : {}),
        ...(plan.targetAuthor !== undefined ? { targetAuthor: plan.targetAuthor } : {})
      });
      const { state, message } = groupEncrypt(g.our!, text);
      // Members we blocked are left out, as from our sender key (group-recipients.ts).
      const to = await groupRecipients(tx, head, me.username);
      const messageKey = plan.row?.key ?? `${id}:act:${newMessageId(ctx.deps.rng)}`;
      await putGroup(tx, { ...g, our: state, outgoing: [...g.outgoing, { messageKey, body: message, to }] });
      return plan.row ?? null;
    })
  );
  ctx.events.emit({ type: 'group', id });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  return row ?? undefined;
}

/** A text replying to any member's message `quoteKey` (a view id) of group `id`. */
export async function sendGroupReply(ctx: EngineContext, id: string, quoteKey: string, text: string, mentioned: readonly string[] = []): Promise<GroupMessageRecord> {
  checkText(text);
  const row = await sendInGroup(ctx, id, async (tx, g, me) => {
    const quoted = await targetIn(tx, g, quoteKey);
    const mentions = checkMentions(g, mentioned);
    const now = ctx.deps.now();
    const sentAt = Math.max(g.lastAt + 1, now);
    const msgId = newMessageId(ctx.deps.rng);
    const to = await groupRecipients(tx, g.history.head, me);
    const m: GroupMessageRecord = {
      key: `${id}:${msgId}`,
      groupId: id,
      id: msgId,
      sender: me,
      direction: 'out',
      body: text,
      sentAt,
      receivedAt: now,
      status: 'queued',
      recipients: to,
      quote: quoted.key,
      ...(mentions.length > 0 ? { mentions } : {})
    };
    await putGroupMessage(tx, m);
    const targetAuthor = quoted.direction === 'out' ? me : asUsername(quoted.sender);
    return { content: { kind: 'text', id: msgId, sentAt, text, quote: quoted.id }, targetAuthor, mentions, row: m, group: { ...g, lastAt: sentAt, lastPreview: preview(text) } };
  });
  return row!;
}

/** Our reaction to a message of group `id` ('' takes it back); replaces our previous one. */
export async function reactInGroup(ctx: EngineContext, id: string, key: string, emoji: string): Promise<void> {
  if (emoji !== '' && !isOneEmoji(emoji)) fail('InvalidArgument', 'a reaction is one emoji');
  await sendInGroup(ctx, id, async (tx, g, me) => {
    const m = await targetIn(tx, g, key);
    if (!(await react(tx, m, me, emoji))) return undefined;
    const targetAuthor = m.direction === 'out' ? me : asUsername(m.sender);
    return { content: { kind: 'reaction', target: m.id, emoji }, targetAuthor, group: g };
  });
}

/** A new text (and mentions) for our own message of group `id`, within ACTION_WINDOW_MS. */
export async function editGroupMessage(ctx: EngineContext, id: string, key: string, text: string, mentioned: readonly string[] = []): Promise<void> {
  checkText(text);
  await sendInGroup(ctx, id, async (tx, g) => {
    const m = await targetIn(tx, g, key);
    const at = ctx.deps.now();
    checkOwn(m, at);
    const mentions = checkMentions(g, mentioned);
    const group = await edit(tx, g, m, text, at, mentions);
    return { content: { kind: 'edit', target: m.id, sentAt: at, text }, mentions, group };
  });
}

/** Deletes our own message of group `id` for every member, within ACTION_WINDOW_MS. */
export async function deleteGroupMessageForEveryone(ctx: EngineContext, id: string, key: string): Promise<void> {
  let blobId: string | undefined;
  await sendInGroup(ctx, id, async (tx, g, me) => {
    const m = await targetIn(tx, g, key);
    checkOwn(m, ctx.deps.now());
    blobId = m.attachment?.blobId;
    // Still queued (the host was out of reach): it never leaves, and the delete names it (group-withdraw.ts).
    const { group, withdrawn } = withdrawQueued(await erase(tx, g, m, me), m.key);
    // A file's blob goes from the host too, noted with the delete (P44; wire/blob-api.ts).
    if (blobId) await noteWithdrawals(tx, [blobId], ctx.deps.now());
    return { content: { kind: 'delete', target: m.id, ...(withdrawn ? { withdrawn } : {}) }, group };
  });
  if (blobId) ctx.kickWithdrawals();
}

/** Removes one message of group `id` from this browser only (P44: row and search entry); nothing is sent. */
export async function deleteGroupMessageForMe(ctx: EngineContext, id: string, key: string): Promise<void> {
  const me = requireMe(ctx);
  checkGroupId(id);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g) engineFail('NoSuchGroup', 'no such group');
      const m = await txGetGroupMessage(tx, key);
      if (!m || m.groupId !== id || m.direction === 'system') fail('InvalidArgument', 'no such message in this group');
      // Unread and in the preview: the counters and the preview forget it as a delete for everyone would.
      const next = await erase(tx, g, m, me.username);
      await deleteGroupMessageRow(tx, key);
      await putGroup(tx, next.lastPreview === g.lastPreview ? next : { ...next, lastPreview: '' });
    })
  );
  ctx.events.emit({ type: 'group', id });
  ctx.events.emit({ type: 'chats' });
}
