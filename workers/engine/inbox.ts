/**
 * Receiving (DESIGN.md §5; SECURITY.md P3, P12, P13, P14, P15, P34):
 *
 *   blocked sender?  -> ack, drop unread (no receipt, no state change)
 *   decrypt (receive-crypto.ts, no writes)
 *   ONE transaction: message + chat + new session state + consumed prekeys deleted + contact
 *                    change + delivery receipt queued
 *   then ack.
 *
 * A crash before the commit changes nothing and the host redelivers; a crash after the commit
 * and before the ack makes the host redeliver a message whose key is gone: the ratchet answers
 * DuplicateMessage and we ack again, so it shows once. A message that cannot be read is recorded
 * with its code (failures store + event) and acked so one bad envelope never blocks the mailbox.
 */
import { isCodedError } from '../../src/lib/codec/errors';
import { decodeContent, type ReceiptContent, type TextContent } from '../../src/lib/wire/content';
import { getContact, putContact, txGetContact } from '../storage/contact-repo';
import { preview, updateChat } from '../storage/chat-repo';
import { incomingKey, putMessage, txGetMessage } from '../storage/message-repo';
import { deleteConsumed } from '../storage/prekey-repo';
import { putSessions, sealSessions } from '../storage/session-repo';
import type { FailureRecord, MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { notice, NoticeKind } from './notices';
import { applyReceipt, queueReceipt } from './receipts';
import { decryptEnvelope } from './receive-crypto';
import type { Envelope } from './transport';
import { noteUndecryptable, queueResends, textsToResend } from './retry';
import { observeIdentity } from './trust';
import { statusEvent } from './views';
import { isEngineError } from './errors';
import type { Username } from '../../src/lib/codec/username';

/** Undecryptable-envelope records kept for diagnostics. */
export const MAX_FAILURES = 200;
/** How far ahead of ours a sender's clock may be before its timestamps are clamped. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export type ReceiveOutcome = 'stored' | 'duplicate' | 'dropped' | 'failed';

/** Handles one envelope end to end; call inside ctx.serial. Infrastructure errors propagate unacked. */
export async function receiveEnvelope(ctx: EngineContext, env: Envelope): Promise<ReceiveOutcome> {
  requireMe(ctx);
  // Decrypting writes nothing, so it runs alongside the block check (call set-up waits on this).
  const decrypted = decryptEnvelope(ctx, env);
  decrypted.catch(() => undefined); // awaited below, or dropped with the envelope
  const contact = await getContact(ctx.vault, env.sender);
  if (contact?.blocked) {
    await ack(ctx, env);
    return 'dropped';
  }
  let outcome: ReceiveOutcome;
  let events: EngineEvent[] = [];
  let resent = 0;
  try {
    const d = await decrypted;
    const content = decodeContent(d.plaintext);
    // Call signals are latency-bound and stored nowhere: hand them over as soon as they are
    // authenticated. If the commit below fails, the envelope is redelivered and the controller
    // ignores the repeated call id; the ratchet state is committed exactly as for any message.
    if (content.kind === 'call') ctx.events.emit({ type: 'call', username: env.sender, signal: content.signal });
    const record = await sealSessions(ctx.vault, env.sender, d.sessions);
    // A restored contact asks for what it could not decrypt (retry.ts): read before the commit.
    const resends = content.kind === 'retry' ? await textsToResend(ctx, env.sender, content) : [];
    resent = resends.length;
    events = await commit(ctx.vault, async (tx) => {
      const out: EngineEvent[] = [];
      await putSessions(tx, record);
      ctx.faults.midReceiveCommit?.();
      if (d.accepted) {
        await deleteConsumed(tx, d.accepted.consumed);
        const decision = observeIdentity(await txGetContact(tx, env.sender), env.sender, d.accepted.identity);
        if (decision.changed) await putContact(tx, decision.contact);
        if (decision.identityChanged) {
          await putMessage(tx, notice(ctx, env.sender, NoticeKind.identityChanged));
          out.push({ type: 'identity', username: env.sender });
        }
      }
      if (d.skipped > 0 || d.late) {
        await updateChat(tx, env.sender, (c) => ({ ...c, missing: Math.max(0, c.missing + d.skipped - (d.late ? 1 : 0)) }));
      }
      if (content.kind === 'text') out.push(...(await storeText(ctx, tx, env, content)));
      else if (content.kind === 'call') {
        // emitted above, before the commit
      }
      else if (content.kind === 'retry') await queueResends(tx, env.sender, resends);
      else out.push(...(await receiveReceipt(tx, env.sender, content)));
      return out;
    });
    outcome = 'stored';
  } catch (e) {
    // StorageLost (P33) is about our vault, not the envelope: leave it unacked for after restore.
    if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
    outcome = e.code === 'DuplicateMessage' ? 'duplicate' : 'failed';
    if (outcome === 'failed') {
      const code = e.code;
      await commit(ctx.vault, (tx) => recordFailure(tx, { sender: env.sender, serverId: env.serverId, code, at: ctx.deps.now() }));
      events = [{ type: 'receive-error', username: env.sender, code }];
      await noteUndecryptable(ctx, env.sender, env.serverId, env.receivedAt);
    }
  }
  ctx.faults.beforeAck?.();
  await ack(ctx, env);
  for (const e of events) ctx.events.emit(e);
  // A stored text queued a delivery receipt.
  if (events.some((e) => e.type === 'message') || resent > 0) ctx.kickOutbox();
  return outcome;
}

async function storeText(ctx: EngineContext, tx: Tx, env: Envelope, c: TextContent): Promise<EngineEvent[]> {
  const key = incomingKey(env.sender, c.id);
  // Same content id again (a resend re-encrypted by the sender): already on screen.
  if (await txGetMessage(tx, key)) return [];
  const now = ctx.deps.now();
  // A sender clock far in the future must not pin this chat to the top forever.
  const sentAt = Math.min(c.sentAt, now + MAX_CLOCK_SKEW_MS);
  const m: MessageRecord = {
    key,
    id: c.id,
    username: env.sender,
    direction: 'in',
    body: c.text,
    sentAt,
    receivedAt: now,
    status: 'received',
    serverId: env.serverId,
    read: false
  };
  await putMessage(tx, m);
  await updateChat(tx, env.sender, (chat) => {
    const newest = sentAt >= chat.lastAt;
    return {
      ...chat,
      unread: chat.unread + 1,
      lastAt: newest ? sentAt : chat.lastAt,
      lastPreview: newest ? preview(c.text) : chat.lastPreview
    };
  });
  await queueReceipt(tx, env.sender, 'delivered', [c.id]);
  return [
    { type: 'message', username: env.sender, id: key },
    { type: 'chats' }
  ];
}

async function receiveReceipt(tx: Tx, sender: Username, c: ReceiptContent): Promise<EngineEvent[]> {
  const changed = await applyReceipt(tx, sender, c);
  return changed.map(statusEvent).filter((e) => e !== undefined);
}

/** Keeps the newest MAX_FAILURES records: a hostile host cannot grow the vault without bound. */
async function recordFailure(tx: Tx, f: FailureRecord): Promise<void> {
  const store = tx.objectStore('failures');
  await store.add(f);
  const excess = (await store.count()) - MAX_FAILURES;
  if (excess <= 0) return;
  let cursor = await store.openCursor();
  for (let i = 0; i < excess && cursor; i++) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
}

async function ack(ctx: EngineContext, env: Envelope): Promise<void> {
  try {
    await ctx.transport.ack(hostAuth(requireMe(ctx)), env.serverId);
  } catch (e) {
    // Offline: the host redelivers on reconnect and the duplicate is acked then.
    if (!isEngineError(e, 'Unavailable')) throw e;
  }
}
