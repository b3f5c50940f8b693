/**
 * Message actions in groups, receiving side and the changes themselves (README "Groups": message
 * actions; SECURITY.md P47, P19, P21): replies, reactions, edits and deletes for everyone that
 * arrive as a group text's content (wire/group-content.ts version 3, the 1:1 kinds 0x0A..0x0D).
 *
 * Who may act (P47): an action reaches this module only from receiveGroupEnvelope, i.e. opened by
 * a CURRENT member's sender key in one group (P21: a removed member's key is gone and their
 * messages are refused as NotMember; the host cannot forge one, and a pairwise 0x0A..0x0C is the
 * 1:1 module's and only ever reaches 1:1 rows). Targets are looked up inside that group only:
 * `${group}:${author}:${id}` (or `${group}:${id}` for ours), so a message of another group is out
 * of reach. An edit or delete from S names S's own message, `${group}:${S}:${id}`, nothing else —
 * no member, admins included, can edit or delete another's message (there is no admin delete).
 * A reaction may name any member's message, one per member (a new one replaces theirs).
 * An action for a message we do not hold is held for HOLD_MS (at most MAX_HELD; sealed in a meta
 * row, kept across a reload, held-actions.ts), as 1:1 does, and applied if that message arrives;
 * replays are refused by the sender-key chain before anything here runs. No action is counted
 * unread or gets a receipt.
 *
 * Owns the rules and the row changes; sending is group-action-send.ts's; storage shapes are
 * group-repo.ts's.
 */
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import { fail } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import type { EditVersionView } from '../../src/lib/vault/views';
import type { Content, DeleteContent, EditContent, ReactionContent, TextContent } from '../../src/lib/wire/content';
import { preview } from '../storage/chat-repo';
import { groupOwner, txDropFile } from '../storage/file-repo';
import { fromGroupMessageRow, putGroupMessage, txGetGroupMessage, type GroupMessageRecord, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import { requireMe, type EngineContext } from './context';
import { addHeld, HELD_GROUP_META, takeHeld } from './held-actions';
import { DELETED_PREVIEW, MAX_EDIT_HISTORY, RECEIVE_WINDOW_MS } from './message-actions';
import { entryOf, withEntry } from '../../src/lib/codec/by-name';

export type GroupActionContent = ReactionContent | EditContent | DeleteContent;

export function isGroupAction(c: Content): c is GroupActionContent {
  return c.kind === 'reaction' || c.kind === 'edit' || c.kind === 'delete';
}

/** The local key of the message with content id `id` that `author` wrote in group `groupId`. */
export function groupTargetKey(groupId: string, me: string, author: string, id: string): string {
  return author === me ? `${groupId}:${id}` : `${groupId}:${author}:${id}`;
}

/** A received reply's fields: the quoted message's key in this group (kept even if it is not here). */
export function replyFields(groupId: string, me: string, c: TextContent, targetAuthor: Username | undefined): { quote?: string } {
  // A reply must say whose message it quotes; one that does not keeps its text, without a quote.
  return c.quote !== undefined && targetAuthor !== undefined ? { quote: groupTargetKey(groupId, me, targetAuthor, c.quote) } : {};
}

// ---- held actions (held-actions.ts: a sealed meta row, so a reload keeps them) ----

type Held = { groupId: string; sender: Username; targetAuthor?: Username; mentions?: Username[]; content: GroupActionContent; at: number };

/**
 * Actions held for the message `id` that `author` just sent in `g` (receiveGroupEnvelope, same
 * transaction): applied in the order they came, the stale ones forgotten. Only actions that came
 * in this group and name this author match (P47): the edit or delete of S reaches only S's own
 * message, never one with the same id from another member or another group.
 */
export async function applyHeldGroupActions(ctx: EngineContext, tx: Tx, g: GroupRecord, author: Username, id: string): Promise<GroupRecord> {
  const mine = await takeHeld<Held>(tx, HELD_GROUP_META, ctx.deps.now(), (h) =>
    h.groupId === g.id && h.content?.target === id && (h.content.kind === 'reaction' ? h.targetAuthor === author : h.sender === author)
  );
  let next = g;
  for (const h of mine) next = await receiveGroupAction(ctx, tx, next, h.sender, h.content, h.targetAuthor, h.mentions, false);
  return next;
}

// ---- receiving ----

/**
 * Applies an action from `sender`, a current member whose sender key opened it in group `g`.
 * Answers the group record with what the action changed (preview, unread); never queues a send.
 */
export async function receiveGroupAction(
  ctx: EngineContext,
  tx: Tx,
  g: GroupRecord,
  sender: Username,
  c: GroupActionContent,
  targetAuthor: Username | undefined,
  mentions: Username[] | undefined,
  mayHold = true
): Promise<GroupRecord> {
  const me = requireMe(ctx).username;
  // Edits and deletes: only the sender's own message in this group (P47); a reaction names its author.
  const author = c.kind === 'reaction' ? targetAuthor : sender;
  if (author === undefined) return g;
  const target = await txGetGroupMessage(tx, groupTargetKey(g.id, me, author, c.target));
  if (!target || target.groupId !== g.id) {
    if (mayHold) {
      const h: Held = { groupId: g.id, sender, content: c, at: ctx.deps.now(), ...(targetAuthor !== undefined ? { targetAuthor } : {}), ...(mentions !== undefined ? { mentions } : {}) };
      await addHeld<Held>(tx, HELD_GROUP_META, h);
    }
    return g;
  }
  if (target.direction === 'system' || target.deleted) return g;
  if (c.kind === 'reaction') {
    await react(tx, target, sender, c.emoji);
    return g;
  }
  if (target.direction !== 'in' || target.sender !== sender) return g;
  if (ctx.deps.now() - target.receivedAt > RECEIVE_WINDOW_MS) return g;
  if (c.kind === 'edit') {
    const members = mentions === undefined ? undefined : [...new Set(mentions)].filter((u) => findMember(g.history.head, address(u)));
    return edit(tx, g, target, c.text, c.sentAt, members);
  }
  return erase(tx, g, target, me);
}

/**
 * The versions of the edited message `key` of group `groupId`: the current text first, then the
 * earlier ones, newest first (README "Groups": message actions), for its author and every member
 * alike; none for a message never edited, and none once deleted for everyone (P44).
 */
export async function groupMessageEditHistory(ctx: EngineContext, groupId: string, key: string): Promise<EditVersionView[]> {
  requireMe(ctx);
  const row = await ctx.vault.db.get('groupMessages', key);
  const m = row && fromGroupMessageRow(ctx.vault.db, row);
  if (!m || m.groupId !== groupId || m.direction === 'system') fail('InvalidArgument', 'no such message in this group');
  if (m.deleted || m.editedAt === undefined) return [];
  return [{ text: m.body, at: m.editedAt }, ...(m.history ?? []).map(({ text, at }) => ({ text, at })).reverse()];
}

// ---- the changes (shared with the sending side) ----

/** One emoji per member: `who` replaces their previous reaction; '' takes it back. Answers whether it changed. */
export async function react(tx: Tx, m: GroupMessageRecord, who: string, emoji: string): Promise<boolean> {
  const had = entryOf(m.reactions, who);
  if (emoji === '' ? had === undefined : had === emoji) return false;
  // A changed reaction is re-added last, so it moves to the end.
  const reactions = withEntry(m.reactions, who, emoji === '' ? undefined : emoji);
  const { reactions: _old, ...rest } = m;
  await putGroupMessage(tx, Object.keys(reactions).length > 0 ? { ...rest, reactions } : rest);
  return true;
}

/**
 * The new text (and mentions, when the edit carries them); the old text joins the bounded
 * history. An edit older than the last one applied is ignored.
 */
export async function edit(tx: Tx, g: GroupRecord, m: GroupMessageRecord, text: string, at: number, mentions?: Username[]): Promise<GroupRecord> {
  if (at <= (m.editedAt ?? -1)) return g;
  const history = [...(m.history ?? []), { text: m.body, at: m.editedAt ?? m.sentAt }].slice(-MAX_EDIT_HISTORY);
  const { mentions: _was, ...rest } = m;
  const kept = mentions === undefined ? (m.mentions ? { mentions: m.mentions } : {}) : mentions.length > 0 ? { mentions } : {};
  await putGroupMessage(tx, { ...rest, ...kept, body: text, editedAt: at, history });
  return g.lastAt === m.sentAt ? { ...g, lastPreview: preview(text) } : g;
}

/** Delete for everyone: the text, its history, quote, mentions, reactions, file pointer and our copy of the file go; a tombstone stays (P44). */
export async function erase(tx: Tx, g: GroupRecord, m: GroupMessageRecord, me: string): Promise<GroupRecord> {
  const unread = m.direction === 'in' && !m.read;
  const { quote: _q, reactions: _r, history: _h, editedAt: _e, attachment: _a, mentions, ...rest } = m;
  await putGroupMessage(tx, { ...rest, body: '', deleted: true, ...(unread ? { read: true } : {}) });
  await txDropFile(tx, groupOwner(m.key));
  const mentioned = unread && !!mentions?.includes(me as Username);
  const mentionsUnread = Math.max(0, (g.mentionsUnread ?? 0) - (mentioned ? 1 : 0));
  const { mentionsUnread: _m, ...group } = g;
  return {
    ...group,
    ...(mentionsUnread > 0 ? { mentionsUnread } : {}),
    unread: unread ? Math.max(0, g.unread - 1) : g.unread,
    lastPreview: g.lastAt === m.sentAt ? DELETED_PREVIEW : g.lastPreview
  };
}
