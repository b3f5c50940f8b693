/**
 * Receiving (DESIGN.md §5; SECURITY.md P3, P12, P13, P14, P15, P34, P36):
 *
 *   blocked sender?  -> ack, drop unread (no receipt, no state change)
 *   decrypt (receive-crypto.ts, no writes)
 *   a key the user rejected? -> refused (RejectedIdentity): no session kept, nothing shown
 *   ONE transaction: message + chat + new session state + consumed prekeys deleted + handshake
 *                    remembered + contact change + gap markers + delivery receipt queued
 *   then ack.
 *
 * A crash before the commit changes nothing and the host redelivers; a crash after the commit
 * and before the ack makes the host redeliver a message whose key is gone: the ratchet answers
 * DuplicateMessage and we ack again, so it shows once. A message that cannot be read is recorded
 * with its code (failures store + event), marked in the conversation where it arrived if it
 * claims to come from a contact (gaps.ts, P14), and acked so one bad envelope never blocks the
 * mailbox; if a resend could fix it, the contact is asked (retry.ts, rate-limited).
 *
 * Ordering (P36): a text is placed by its sender's timestamp, so a late message slots into place
 * (P14) — except one that came under a changed key the user has not accepted: it is flagged and
 * never placed above what the conversation already shows, whatever time it claims.
 */
import { isCodedError } from '../../src/lib/codec/errors';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { decodeContent, type AttachmentContent, type ReceiptContent, type TextContent } from '../../src/lib/wire/content';
import { attachmentPreview } from './attachments';
import { getContact, putContact, txGetContact } from '../storage/contact-repo';
import { unarchiveOnMessage } from './chat-flags';
import { preview, updateChat } from '../storage/chat-repo';
import { incomingKey, newestSentAt, putMessage, txGetMessage } from '../storage/message-repo';
import { deleteConsumed } from '../storage/prekey-repo';
import { putSessions, sealSessions } from '../storage/session-repo';
import type { FailureRecord, MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { clearMarker, markGaps, markUndecryptable } from './gaps';
import { notice, NoticeKind } from './notices';
import { applyReceipt, queueReceipt } from './receipts';
import { decryptEnvelope } from './receive-crypto';
import { envelopeRef } from './refs';
import { refreshProfile, storeTheirKey } from './profiles';
import { rememberAccepted } from './replay-guard';
import type { Envelope } from './transport';
import { noteUndecryptable, queueResends, resendsFor } from './retry';
import { isRejected, observeIdentity, underChangedKey } from './trust';
import { messageEvent, statusEvent } from './views';
import { engineFail, isEngineError } from './errors';
import type { Username } from '../../src/lib/codec/username';
import { GROUP_MESSAGE_TYPE } from '../../src/lib/crypto/group/sender-key-message';
import { receiveGroupEnvelope, type GroupReceiveOutcome } from './group-messages';
import { receiveGroupUpdate } from './group-updates';
import { syncFromBlob } from './group-sync';

/** Undecryptable-envelope records kept for diagnostics. */
export const MAX_FAILURES = 200;
/** How far ahead of ours a sender's clock may be before its timestamps are clamped. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Failures a resend in a fresh session could repair (a lost or mismatched session, a damaged envelope). */
const RETRYABLE = new Set(['NotInitialized', 'InvalidMac', 'MissingPrekey', 'InvalidMessage']);
/** Failures that are refusals, not losses: acked and recorded, never shown as a missing message. */
const SILENT = new Set(['ReplayedPreKeyMessage', 'RejectedIdentity']);

export type ReceiveOutcome = 'stored' | 'duplicate' | 'dropped' | 'failed';

/** Handles one envelope end to end; call inside ctx.serial. Infrastructure errors propagate unacked. */
export async function receiveEnvelope(ctx: EngineContext, env: Envelope): Promise<ReceiveOutcome> {
  requireMe(ctx);
  // P20: the group type byte is neither 1:1 envelope type; each path decodes only its own.
  if (env.body[0] === GROUP_MESSAGE_TYPE) return receiveGroup(ctx, env);
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
  let newProfileKey = false;
  try {
    const d = await decrypted;
    const identity = encodeIdentityPublic(d.sessions[0]!.theirIdentity);
    if (isRejected(contact, identity)) engineFail('RejectedIdentity', 'the message comes from a key the user rejected');
    const content = decodeContent(d.plaintext);
    // Call signals are latency-bound and stored nowhere: hand them over as soon as they are
    // authenticated. If the commit below fails, the envelope is redelivered and the controller
    // ignores the repeated call id; the ratchet state is committed exactly as for any message.
    if (content.kind === 'call') ctx.events.emit({ type: 'call', username: env.sender, signal: content.signal });
    const record = await sealSessions(ctx.vault, env.sender, d.sessions);
    // A contact asks for what it could not decrypt (retry.ts): read before the commit.
    const resends = content.kind === 'retry' ? await resendsFor(ctx, env.sender, identity, content) : [];
    resent = resends.length;
    events = await commit(ctx.vault, async (tx) => {
      const out: EngineEvent[] = [];
      await putSessions(tx, record);
      ctx.faults.midReceiveCommit?.();
      let trusted = await txGetContact(tx, env.sender);
      if (d.accepted) {
        await deleteConsumed(tx, d.accepted.consumed);
        await rememberAccepted(tx, d.accepted.baseKey);
        const decision = observeIdentity(trusted, env.sender, d.accepted.identity);
        if (decision.changed) await putContact(tx, decision.contact);
        trusted = decision.contact;
        if (decision.identityChanged) {
          await putMessage(tx, notice(ctx, env.sender, NoticeKind.identityChanged));
          out.push({ type: 'identity', username: env.sender });
        }
      }
      let at = ctx.deps.now();
      if (content.kind === 'text' && content.profileKey) newProfileKey = await storeTheirKey(tx, env.sender, content.profileKey);
      if (content.kind === 'text' || content.kind === 'resent') {
        const stored = await storeText(ctx, tx, env, content, underChangedKey(trusted, identity));
        out.push(...stored.events);
        at = stored.at;
      } else if (content.kind === 'attachment') {
        const { caption, ...attachment } = content;
        const stored = await storeText(ctx, tx, env, { id: content.id, sentAt: content.sentAt, text: caption ?? '' }, underChangedKey(trusted, identity), attachment);
        out.push(...stored.events);
        at = stored.at;
      } else if (content.kind === 'call') {
        // emitted above, before the commit
      } else if (content.kind === 'retry') await queueResends(tx, resends);
      else if (content.kind === 'profileKey') newProfileKey = await storeTheirKey(tx, env.sender, content.key);
      else if (content.kind === 'group') {
        const u = await receiveGroupUpdate(ctx, tx, env.sender, content.update);
        out.push(...u.events);
        if (u.refused) out.push({ type: 'receive-error', username: env.sender, code: u.refused });
      }
      else if (content.kind === 'receipt') out.push(...(await receiveReceipt(tx, env.sender, content)));
      // P14: this message is not missing any more; what it revealed missing is marked before it.
      let markers = (await clearMarker(tx, env.sender, d.ref)) ? 1 : 0;
      if (content.kind === 'resent' && (await clearMarker(tx, env.sender, content.ref))) markers++;
      markers += await markGaps(tx, env.sender, d.gaps, at - 1);
      if (markers > 0) out.push({ type: 'message', username: env.sender, id: 'gap' }, { type: 'chats' });
      return out;
    });
    outcome = 'stored';
  } catch (e) {
    // StorageLost (P33) is about our vault, not the envelope: leave it unacked for after restore.
    if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
    outcome = e.code === 'DuplicateMessage' ? 'duplicate' : 'failed';
    if (outcome === 'failed') events = await recordUnreadable(ctx, env, e.code, contact !== undefined);
  }
  ctx.faults.beforeAck?.();
  await ack(ctx, env);
  for (const e of events) ctx.events.emit(e);
  // A stored text queued a delivery receipt; a group update may have queued our sender key.
  if (events.some((e) => e.type === 'message' || e.type === 'group') || resent > 0) ctx.kickOutbox();
  // P43: their profile opens with the key they just shared; fetched outside the receive path.
  if (newProfileKey) void refreshProfile(ctx, env.sender).catch(() => undefined);
  return outcome;
}

/** A group message (group-messages.ts): stored, or recorded as a failure with its code; acked either way. */
async function receiveGroup(ctx: EngineContext, env: Envelope): Promise<ReceiveOutcome> {
  let r: GroupReceiveOutcome;
  try {
    r = await receiveGroupEnvelope(ctx, env);
  } catch (e) {
    if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
    r = { stored: false, events: [], code: e.code };
  }
  if (!r.stored && r.code !== 'DuplicateMessage') {
    const failure = { sender: env.sender, serverId: env.serverId, code: r.code ?? 'Internal', at: ctx.deps.now() };
    await commit(ctx.vault, (tx) => recordFailure(tx, failure));
    r.events.push({ type: 'receive-error', username: env.sender, code: failure.code });
  }
  await ack(ctx, env);
  for (const e of r.events) ctx.events.emit(e);
  // Behind a member's head, or a key we were never given: fetch the blob after this step (P19).
  if (r.sync) void syncFromBlob(ctx, r.sync).catch(() => undefined);
  return r.stored ? 'stored' : r.code === 'DuplicateMessage' ? 'duplicate' : 'failed';
}

/**
 * An envelope that could not be read: recorded; if it claims to come from a contact, marked in
 * the conversation (P14) and, when a resend could repair it, asked for again (P36, rate-limited).
 * Envelopes claiming a stranger as sender create nothing: the host could name anyone.
 */
async function recordUnreadable(ctx: EngineContext, env: Envelope, code: string, fromContact: boolean): Promise<EngineEvent[]> {
  const visible = fromContact && !SILENT.has(code);
  const ref = envelopeRef(env.body);
  const now = ctx.deps.now();
  const marked = await commit(ctx.vault, async (tx) => {
    await recordFailure(tx, { sender: env.sender, serverId: env.serverId, code, at: now });
    return visible ? markUndecryptable(tx, env.sender, ref, now, ctx.deps.rng) : false;
  });
  if (visible && ref && RETRYABLE.has(code)) noteUndecryptable(ctx, env.sender, ref);
  const events: EngineEvent[] = [{ type: 'receive-error', username: env.sender, code }];
  if (marked) events.push({ type: 'message', username: env.sender, id: 'gap' }, { type: 'chats' });
  return events;
}

/** Stores a text (or a resent one) once; answers its events and the sort position it took. */
async function storeText(ctx: EngineContext, tx: Tx, env: Envelope, c: Omit<TextContent, 'kind'>, changedKey: boolean, attachment?: AttachmentContent): Promise<{ events: EngineEvent[]; at: number }> {
  const key = incomingKey(env.sender, c.id);
  const now = ctx.deps.now();
  // Same content id again (a resend re-encrypted by the sender): already on screen.
  const existing = await txGetMessage(tx, key);
  if (existing) return { events: [], at: existing.sentAt };
  // A sender clock far in the future must not pin this chat to the top forever.
  const claimed = Math.min(c.sentAt, now + MAX_CLOCK_SKEW_MS);
  // P36: under a changed key, no claimed time may put a message above the history shown.
  const sentAt = changedKey ? Math.max(claimed, (await newestSentAt(tx, env.sender)) + 1) : claimed;
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
    read: false,
    ...(sentAt !== claimed ? { claimedAt: claimed } : {}),
    ...(changedKey ? { keyChanged: true } : {}),
    ...(attachment ? { attachment } : {})
  };
  await putMessage(tx, m);
  await updateChat(tx, env.sender, (chat) => {
    const newest = sentAt >= chat.lastAt;
    return {
      ...unarchiveOnMessage(chat),
      unread: chat.unread + 1,
      lastAt: newest ? sentAt : chat.lastAt,
      lastPreview: newest ? (attachment ? attachmentPreview(attachment, c.text) : preview(c.text)) : chat.lastPreview
    };
  });
  await queueReceipt(tx, env.sender, 'delivered', [c.id]);
  return {
    events: [messageEvent(m), { type: 'chats' }],
    at: sentAt
  };
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
