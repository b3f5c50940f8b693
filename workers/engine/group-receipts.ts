/**
 * Receipts per member in a group (README "Groups": receipts; DESIGN.md §5 receipts travel end to
 * end encrypted). A member that stores a group message queues a delivery receipt, and reading
 * the group (`markGroupRead`) queues a read receipt, each to that message's SENDER only, pairwise
 * inside the 1:1 ratchet as content kind 0x15 (sealed as any 1:1 receipt, P41). Never to a blocked
 * person; no read receipts at all with the read-receipts switch off, and then a member's read
 * receipt counts only as delivered (as 1:1, receipts.ts).
 *
 * Applying one changes nothing unless: the group is ours, the receipt's sender is a CURRENT member
 * and was sent the message, and the id names one of OUR messages in that group. A member's state
 * only moves forward (delivered -> read), so a replayed or reordered receipt changes nothing.
 * Knows nothing of the host or the UI.
 */
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { decodeContent, encodeContent, MAX_RECEIPT_IDS, type GroupReceiptContent } from '../../src/lib/wire/content';
import type { GroupReceiptView } from '../../src/lib/vault/group-views';
import { txGetContact } from '../storage/contact-repo';
import { putGroup, putGroupMessage, txGetGroup, txGetGroupMessage, txUnreadGroupMessages, type GroupMessageRecord, type GroupReceiptState } from '../storage/group-repo';
import { addOrMerge } from '../storage/outbox-repo';
import type { Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import type { EngineEvent } from './events';
import { txPrivacySettings } from './privacy-settings';

/** Queues receipts for `ids` of `to`'s messages in group `groupId` (chunks of MAX_RECEIPT_IDS); none to a blocked person. */
export async function queueGroupReceipt(tx: Tx, to: Username, groupId: string, receipt: GroupReceiptState, ids: string[]): Promise<void> {
  if (ids.length === 0 || (await txGetContact(tx, to))?.blocked) return;
  for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
    await addOrMerge(tx, { username: to, content: encodeContent({ kind: 'groupReceipt', groupId, receipt, ids: ids.slice(i, i + MAX_RECEIPT_IDS) }) }, mergeGroupReceipts);
  }
}

/** Two queued receipts of one kind for one group as one, while the ids fit (a burst from one member). */
function mergeGroupReceipts(queued: Uint8Array, next: Uint8Array): Uint8Array | undefined {
  const a = decodeContent(queued);
  const b = decodeContent(next);
  if (a.kind !== 'groupReceipt' || b.kind !== 'groupReceipt' || a.receipt !== b.receipt || a.groupId !== b.groupId) return undefined;
  const ids = [...new Set([...a.ids, ...b.ids])];
  return ids.length <= MAX_RECEIPT_IDS ? encodeContent({ kind: 'groupReceipt', groupId: a.groupId, receipt: a.receipt, ids }) : undefined;
}

const rank = (s: GroupReceiptState | undefined): number => (s === 'read' ? 2 : s === 'delivered' ? 1 : 0);

/** Applies a receipt from `sender` (authenticated by the ratchet); answers the events of what moved. */
export async function applyGroupReceipt(tx: Tx, sender: Username, c: GroupReceiptContent): Promise<EngineEvent[]> {
  const g = await txGetGroup(tx, c.groupId);
  if (!g || !findMember(g.history.head, address(sender))) return [];
  const state: GroupReceiptState = c.receipt === 'read' && (await txPrivacySettings(tx)).readReceipts ? 'read' : 'delivered';
  let moved = false;
  for (const id of new Set(c.ids)) {
    // Our own messages are keyed `<group>:<id>`; theirs carry the sender in the key and never match.
    const m = await txGetGroupMessage(tx, `${g.id}:${id}`);
    if (!m || m.direction !== 'out' || m.groupId !== g.id || !m.recipients?.includes(sender)) continue;
    if (rank(m.receipts?.[sender]) >= rank(state)) continue;
    await putGroupMessage(tx, { ...m, receipts: { ...m.receipts, [sender]: state } });
    moved = true;
  }
  return moved ? [{ type: 'group', id: g.id }] : [];
}

/**
 * Marks the group's unread messages read; queues one read receipt per sender (if the switch is on
 * and we are still a member), and clears the "@" of unread mentions.
 */
export async function markGroupRead(ctx: EngineContext, id: string): Promise<void> {
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g || (g.unread === 0 && !g.mentionsUnread)) return;
      const unread = await txUnreadGroupMessages(tx, id, g.unread);
      for (const m of unread) await putGroupMessage(tx, { ...m, read: true });
      const { mentionsUnread: _cleared, ...rest } = g;
      await putGroup(tx, { ...rest, unread: 0 });
      const member = ctx.me && findMember(g.history.head, address(ctx.me.username));
      // P42: a group request gets no read receipt; accepting acknowledges what was read.
      if (!member || g.requestFrom || !(await txPrivacySettings(tx)).readReceipts) return;
      const bySender = new Map<Username, string[]>();
      for (const m of unread) bySender.set(m.sender as Username, [...(bySender.get(m.sender as Username) ?? []), m.id]);
      for (const [sender, ids] of bySender) await queueGroupReceipt(tx, sender, id, 'read', ids.reverse());
    })
  );
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
}

/** What the sender's view shows of one of its messages: counts and each recipient's state. */
export function receiptView(m: GroupMessageRecord): GroupReceiptView | undefined {
  if (m.direction !== 'out' || !m.recipients) return undefined;
  const members = m.recipients.map((username) => ({ username, state: m.receipts?.[username] ?? ('sent' as const) }));
  return {
    of: members.length,
    delivered: members.filter((x) => x.state !== 'sent').length,
    read: members.filter((x) => x.state === 'read').length,
    members
  };
}
