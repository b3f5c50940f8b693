/**
 * Delivery and read receipts (DESIGN.md §5: receipts travel end-to-end encrypted):
 * a receipt is ordinary Content queued in the outbox, so it is ratchet-encrypted like a text.
 * Receipts only move an outgoing message's status forward, and only for messages in the chat
 * with the receipt's sender (someone else cannot mark Bob's messages read).
 *
 * Read receipts off (privacy setting, README "Read receipts"): we queue none, and a read receipt
 * from a contact moves our message to "delivered" only, as Signal (we keep no one's read state).
 * A read receipt only ever leaves from `markRead`, the page's call when the user has the chat open
 * and visible: receiving or replaying anything never sends one.
 */
import { decodeContent, encodeContent, MAX_RECEIPT_IDS, type ReceiptContent } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { getChat, updateChat } from '../storage/chat-repo';
import { advanceStatus, putMessage, txGetMessage, unreadIncoming } from '../storage/message-repo';
import { addOrMerge } from '../storage/outbox-repo';
import type { MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import type { Username } from '../../src/lib/codec/username';
import { armFor, readExpiry } from './disappearing';
import { txPrivacySettings } from './privacy-settings';

/** Queues receipts for `ids` (chunks of MAX_RECEIPT_IDS), folded into the same kind still queued for `username`. */
export async function queueReceipt(tx: Tx, username: Username, receipt: 'delivered' | 'read', ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
    await addOrMerge(tx, { username, content: encodeContent({ kind: 'receipt', receipt, ids: ids.slice(i, i + MAX_RECEIPT_IDS) }) }, mergeReceipts);
  }
}

/** Two queued receipts of one kind as one, while the ids fit one receipt (a page of deliveries). */
export function mergeReceipts(queued: Uint8Array, next: Uint8Array): Uint8Array | undefined {
  const a = decodeContent(queued);
  const b = decodeContent(next);
  if (a.kind !== 'receipt' || b.kind !== 'receipt' || a.receipt !== b.receipt) return undefined;
  const ids = [...new Set([...a.ids, ...b.ids])];
  return ids.length <= MAX_RECEIPT_IDS ? encodeContent({ kind: 'receipt', receipt: a.receipt, ids }) : undefined;
}

/** Applies a receipt from `sender`; returns the messages whose status moved. */
export async function applyReceipt(tx: Tx, sender: Username, c: ReceiptContent): Promise<MessageRecord[]> {
  const changed: MessageRecord[] = [];
  const status = c.receipt === 'read' && !(await txPrivacySettings(tx)).readReceipts ? 'delivered' : c.receipt;
  for (const id of c.ids) {
    const m = await txGetMessage(tx, id);
    if (!m || m.username !== sender) continue;
    const next = await advanceStatus(tx, id, status);
    if (next) changed.push(next);
  }
  return changed;
}

/** Marks every unread incoming message of a chat read and queues one read receipt for them. */
export function markRead(ctx: EngineContext, username: Username): Promise<number> {
  // Serialised with receiving, so the chat's unread count is exact and bounds the walk.
  return ctx.serial(() => markChatRead(ctx, username));
}

async function markChatRead(ctx: EngineContext, username: Username): Promise<number> {
  const chat = await getChat(ctx.vault, username);
  if ((chat?.unread ?? 0) === 0) return 0;
  const unread = await unreadIncoming(ctx.vault, username, chat!.unread);
  const contact = await getContact(ctx.vault, username);
  const now = ctx.deps.now();
  await commit(ctx.vault, async (tx) => {
    // P44: reading starts a disappearing message's clock (disappearing.ts).
    for (const m of unread) await putMessage(tx, { ...m, read: true, ...readExpiry(m, now) });
    await updateChat(tx, username, (c) => ({ ...c, unread: 0 }));
    // Blocked contacts and message requests (P42) get no receipts; none at all with read receipts off.
    const allowed = !contact?.blocked && !contact?.request && (await txPrivacySettings(tx)).readReceipts;
    if (allowed && unread.length > 0) await queueReceipt(tx, username, 'read', unread.map((m) => m.id));
  });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  armFor(ctx, unread.map((m) => ({ ...m, ...readExpiry(m, now) })));
  return unread.length;
}
