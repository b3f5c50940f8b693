/**
 * Delivery and read receipts (issue 3 "Delivery and read receipts travel end-to-end encrypted"):
 * a receipt is ordinary Content queued in the outbox, so it is ratchet-encrypted like a text.
 * Receipts only move an outgoing message's status forward, and only for messages in the chat
 * with the receipt's sender (someone else cannot mark Bob's messages read).
 */
import { encodeContent, MAX_RECEIPT_IDS, type ReceiptContent } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { getChat, updateChat } from '../storage/chat-repo';
import { advanceStatus, putMessage, txGetMessage, unreadIncoming } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';

export async function queueReceipt(tx: Tx, to: string, receipt: 'delivered' | 'read', ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
    await addOutbox(tx, { to, content: encodeContent({ kind: 'receipt', receipt, ids: ids.slice(i, i + MAX_RECEIPT_IDS) }) });
  }
}

/** Applies a receipt from `sender`; returns the messages whose status moved. */
export async function applyReceipt(tx: Tx, sender: string, c: ReceiptContent): Promise<MessageRecord[]> {
  const changed: MessageRecord[] = [];
  for (const id of c.ids) {
    const m = await txGetMessage(tx, id);
    if (!m || m.chatId !== sender) continue;
    const next = await advanceStatus(tx, id, c.receipt);
    if (next) changed.push(next);
  }
  return changed;
}

/** Marks every unread incoming message of a chat read and queues one read receipt for them. */
export async function markRead(ctx: EngineContext, chatId: string): Promise<number> {
  const unread = await unreadIncoming(ctx.vault, chatId);
  const chat = await getChat(ctx.vault, chatId);
  if (unread.length === 0 && (chat?.unread ?? 0) === 0) return 0;
  const contact = await getContact(ctx.vault, chatId);
  await commit(ctx.vault, async (tx) => {
    for (const m of unread) await putMessage(tx, { ...m, read: true });
    await updateChat(tx, chatId, (c) => ({ ...c, unread: 0 }));
    // Blocked contacts get no receipts.
    if (!contact?.blocked && unread.length > 0) await queueReceipt(tx, chatId, 'read', unread.map((m) => m.id));
  });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  return unread.length;
}
