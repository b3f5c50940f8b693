/**
 * Sending (DESIGN.md §5 "Outgoing messages queue in IndexedDB and are sent when the socket is
 * up"). `queueText` writes the message and its outbox item in one transaction, whether or not we
 * are online. `flushOutbox` walks the outbox in order:
 *
 *   item without ciphertext -> get a trusted session (sessions.ts), encrypt it and the items
 *                              queued after it for the same contact (send-page.ts), and store
 *                              the ciphertexts WITH the advanced session in one transaction
 *   item with ciphertext    -> send; once the host has it, delete the item, mark "sent"
 *
 * A retry re-sends the stored ciphertext and never re-runs the ratchet; a duplicate that reaches
 * the peer is dropped there (P13), so each message shows once. Per recipient order is kept: an
 * item that cannot go (untrusted identity) holds back the later items for that recipient only.
 *
 * P36: a text records the identity it was written for, and is encrypted to that identity or not
 * at all. If the contact's key changed in between, it becomes `stale` ("not sent — safety number
 * changed") and leaves the outbox; only the user's "send again" (`sendAgain`) re-queues it for
 * the new key. Each encryption's ref (refs.ts) is kept on the message, so a retry request can
 * name it (retry.ts).
 */
import { fail, isCodedError } from '../../src/lib/codec/errors';
import { bytesEqual } from '../../src/lib/codec/bytes';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { encodeContent, newMessageId } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { preview, updateChat } from '../storage/chat-repo';
import { advanceStatus, putMessage, txGetMessage } from '../storage/message-repo';
import { addOutbox, deleteOutbox, isQueued, listOutbox, putOutbox } from '../storage/outbox-repo';
import type { MessageRecord, OutboxRecord } from '../storage/schema';
import { putSessions } from '../storage/session-repo';
import { encryptRun } from './send-page';
import { commit } from '../storage/vault';
import { deliver } from './sealed-send';
import { asUsername } from '../../src/lib/codec/username';
import { messageEvent, statusEvent } from './views';
import { requireMe, type EngineContext } from './context';
import { sendingSessions } from './sessions';
import { assertCanSend } from './trust';
import { isEngineError } from './errors';
import { envelopeRef, refKey } from './refs';
import { profileKeyToShare } from './profiles';
import { markProfileKeyShared } from './group-profile-key';
import { flushGroupOutgoing } from './group-messages';
import { forgetUndeliveredGroupUpdate } from './group-stale-key';
import { payWelcomesOwedTo } from './group-welcome-owed';
import type { Username } from '../../src/lib/codec/username';
import { acceptInTx } from './requests';
import { armFor, sentExpiry, sentTimer, withQuoteExpiry } from './disappearing';
import { saveNote } from './note-to-self';

/** Encryptions of one message remembered for retry requests (its first send plus resends). */
export const MAX_SENT_VIA = 4;

export const MAX_TEXT_CHARS = 16_000;

/** `quoteKey`: a reply to that message of this chat (README "Message actions"). */
export async function queueText(ctx: EngineContext, raw: string, text: string, quoteKey?: string): Promise<MessageRecord> {
  const me = requireMe(ctx);
  const username = asUsername(raw);
  // Note to self: stored here, sent nowhere (note-to-self.ts); replies to notes are not offered.
  if (username === me.username && quoteKey === undefined) return saveNote(ctx, text, MAX_TEXT_CHARS);
  if (username === me.username) fail('InvalidArgument', 'not a chat with another user');
  if (text.length === 0 || text.length > MAX_TEXT_CHARS) fail('InvalidArgument', `text of ${text.length} characters, expected 1..${MAX_TEXT_CHARS}`);
  const contact = await getContact(ctx.vault, username);
  assertCanSend(contact);
  const now = ctx.deps.now();
  const id = newMessageId(ctx.deps.rng);
  const body = text;
  let quotedRecord: MessageRecord | undefined;
  const m = await commit(ctx.vault, async (tx) => {
    // Writing to someone accepts their request (P42), so the text below gives them our profile key.
    await acceptInTx(tx, username);
    // Strictly after the chat's last message, so a burst sent within one millisecond keeps its order.
    const chat = await updateChat(tx, username, (c) => ({ ...c, lastAt: Math.max(c.lastAt + 1, now), lastPreview: preview(body) }));
    const sentAt = chat.lastAt;
    const quoted = quoteKey === undefined ? undefined : await txGetMessage(tx, quoteKey);
    if (quoteKey !== undefined && (!quoted || quoted.username !== username || quoted.direction === 'system' || quoted.extras?.deleted)) {
      fail('InvalidArgument', 'a reply quotes a message of its chat');
    }
    quotedRecord = quoted;
    // P43: whoever we write to gets our profile key (once per key version), inside the text; it
    // gives them the delivery token for sealed mail to us (P41).
    const profileKey = await profileKeyToShare(ctx, tx, username);
    // P44: it carries the chat's disappearing timer, and its clock starts now (disappearing.ts).
    const expiry = sentExpiry(chat, now);
    const content = encodeContent({ kind: 'text', id, sentAt, text: body, ...(profileKey ? { profileKey } : {}), ...(quoted ? { quote: quoted.id } : {}), ...sentTimer(chat) });
    // Written for the identity trusted now (P36); a first message to a new contact binds at encryption.
    const identity = contact?.identity;
    const m: MessageRecord = await withQuoteExpiry(tx, { key: id, id, username, direction: 'out', body, sentAt, receivedAt: now, status: 'queued', ...(identity ? { identity } : {}), ...(quoted ? { extras: { quote: quoted.key } } : {}), ...expiry });
    await putMessage(tx, m);
    await addOutbox(tx, { username, content, messageKey: id, ...(identity ? { identity } : {}) });
    return m;
  });
  ctx.events.emit(messageEvent(m, quotedRecord));
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  armFor(ctx, [m]);
  return m;
}

export interface FlushReport {
  sent: number;
  /** Recipients held back, with the code why (UntrustedIdentity, Blocked…). A Map: usernames include "constructor" and "__proto__". */
  held: Map<string, string>;
  /** True if the host was unreachable: try again later. */
  unavailable: boolean;
}

/** Sends what can be sent now. Call inside ctx.serial and only in the driver tab. */
export async function flushOutbox(ctx: EngineContext): Promise<FlushReport> {
  requireMe(ctx);
  const report: FlushReport = { sent: 0, held: new Map(), unavailable: false };
  const queue = await listOutbox(ctx.vault);
  /** Items a run already encrypted and stored, by seq (encryptItem). */
  const encrypted = new Map<number, OutboxRecord>();
  for (const item of queue) {
    if (report.held.has(item.username)) continue;
    try {
      const ready = item.ciphertext ? item : (encrypted.get(item.seq!) ?? (await encryptItem(ctx, item, queue, encrypted)));
      if (ready === WITHDRAWN) {
        // The queue listed here is out of date: list it again in a flush of its own.
        ctx.kickOutbox();
        return report;
      }
      if (!ready) continue;
      // Read again just before it goes: a delete for everyone (this tab or another) may have
      // withdrawn it since the queue was listed, and then its text must not leave (P47).
      if (!(await isQueued(ctx.vault, ready.seq!))) continue;
      // Sealed when we hold their delivery token (P41), else authenticated.
      await deliver(ctx, ready.username, ready.ciphertext!, { ...(ready.identity ? { identity: ready.identity } : {}), implicit: !ready.messageKey });
      const changed = await commit(ctx.vault, async (tx) => {
        await deleteOutbox(tx, ready.seq!);
        return ready.messageKey ? advanceStatus(tx, ready.messageKey, 'sent') : undefined;
      });
      emitStatus(ctx, changed);
      report.sent++;
    } catch (e) {
      if (isEngineError(e, 'Unavailable')) {
        report.unavailable = true;
        return report;
      }
      if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
      report.held.set(item.username, e.code);
      await holdItem(ctx, item, e.code);
    }
  }
  // Group messages after the pairwise items, so a sender key reaches members before its messages.
  await flushGroupOutgoing(ctx, report);
  return report;
}

/** encryptItem's answer when the listed queue is out of date (an item of the run was withdrawn). */
const WITHDRAWN = Symbol('withdrawn');

/** Queued items for one contact encrypted in one run and one transaction (send-page.ts), at most. */
export const MAX_SEND_RUN = 64;

/**
 * Encrypts an item on the current session and stores the ciphertext with the advanced session.
 * The items queued after it for the same contact, written for the same identity, are encrypted
 * in the same run (send-page.ts) and stored in the same transaction; they go into `encrypted`.
 * Undefined when the item was written for another identity than the session's (P36): it is then
 * taken out of the outbox and its message marked `stale`, and nothing is encrypted. WITHDRAWN when
 * an item of the run left the outbox since it was listed (nothing is stored).
 */
async function encryptItem(ctx: EngineContext, item: OutboxRecord, queue: readonly OutboxRecord[], encrypted: Map<number, OutboxRecord>): Promise<OutboxRecord | undefined | typeof WITHDRAWN> {
  const sessions = await sendingSessions(ctx, item.username);
  const theirs = encodeIdentityPublic(sessions[0]!.theirIdentity);
  if (item.identity && !bytesEqual(item.identity, theirs)) {
    await dropStale(ctx, item);
    return undefined;
  }
  const run = [item];
  for (const next of queue) {
    if (run.length >= MAX_SEND_RUN) break;
    if (next.seq! <= item.seq! || next.username !== item.username || next.ciphertext || encrypted.has(next.seq!)) continue;
    // P36: an item for another identity ends the run; it is dropped in its own turn, in order.
    if (next.identity && !bytesEqual(next.identity, theirs)) break;
    run.push(next);
  }
  const { messages, write } = await encryptRun(ctx.vault, item.username, sessions, run.map((i) => i.content!), ctx.deps);
  // The identity is kept with each ciphertext: a sealed send seals to that same key (P41).
  // A resend keeps naming its message once encrypted, so a delete for everyone can still withdraw it.
  const readies = run.map((it, k): OutboxRecord => ({ seq: it.seq!, username: it.username, ciphertext: messages[k]!, identity: theirs, ...(it.messageKey ? { messageKey: it.messageKey } : {}), ...(it.resendOf ? { resendOf: it.resendOf } : {}) }));
  const stored = await commit(ctx.vault, async (tx) => {
    // P47: an item withdrawn since the queue was listed (a delete for everyone, maybe in another
    // tab) must not come back encrypted. Then nothing is stored: the session does not advance, so
    // no message number goes missing, and the rest of the run is encrypted again in its own turn.
    for (const it of run) if ((await tx.objectStore('outbox').getKey(it.seq!)) === undefined) return false;
    await putSessions(tx, write);
    for (const [k, it] of run.entries()) {
      await putOutbox(tx, readies[k]!);
      await markProfileKeyShared(tx, it.username, it.content!);
      const ref = envelopeRef(messages[k]!);
      const sentKey = it.messageKey ?? it.resendOf;
      const m = sentKey ? await txGetMessage(tx, sentKey) : undefined;
      if (m && ref) {
        const sentVia = [...(m.sentVia ?? []), refKey(ref)].slice(-MAX_SENT_VIA);
        await putMessage(tx, { ...m, identity: m.identity ?? theirs, sentVia });
      }
    }
    return true;
  });
  if (!stored) return WITHDRAWN;
  for (const r of readies.slice(1)) encrypted.set(r.seq!, r);
  return readies[0];
}

/**
 * P36: an item written for an identity the contact no longer has is never encrypted. A dropped
 * group welcome is owed anew (group-stale-key.ts): a fresh one queued now goes in the next run.
 */
async function dropStale(ctx: EngineContext, item: OutboxRecord): Promise<void> {
  const me = requireMe(ctx);
  let welcomed = false;
  const changed = await commit(ctx.vault, async (tx) => {
    await deleteOutbox(tx, item.seq!);
    if (item.content) welcomed = await forgetUndeliveredGroupUpdate(tx, me, item.username, item.content);
    const m = item.messageKey ? await txGetMessage(tx, item.messageKey) : undefined;
    if (!m || m.status === 'stale') return undefined;
    const next: MessageRecord = { ...m, status: 'stale' };
    await putMessage(tx, next);
    return next;
  });
  emitStatus(ctx, changed);
  if (welcomed) ctx.kickOutbox();
}

/**
 * An item the engine may not send now. Blocked contacts' receipts are dropped (no receipts to
 * blocked users); a text stays queued, its status showing why, until the user acts.
 */
async function holdItem(ctx: EngineContext, item: OutboxRecord, code: string): Promise<void> {
  const dropPermanently = code === 'NoSuchUser' || (code === 'Blocked' && !item.messageKey);
  const changed = await commit(ctx.vault, async (tx) => {
    if (dropPermanently) await deleteOutbox(tx, item.seq!);
    if (!item.messageKey) return undefined;
    const m = await txGetMessage(tx, item.messageKey);
    const status = dropPermanently ? 'failed' : 'blocked';
    if (!m || m.status === status) return undefined;
    const next: MessageRecord = { ...m, status };
    await putMessage(tx, next);
    return next;
  });
  emitStatus(ctx, changed);
}

/**
 * "Send again" for a text that was not sent because the contact's key changed (P36): the user's
 * deliberate choice to send it to the key trusted now. It is re-dated to now, so it moves to the
 * end of the conversation (where the other side will show it too).
 */
export async function sendAgain(ctx: EngineContext, username: Username, key: string): Promise<MessageRecord> {
  const contact = await getContact(ctx.vault, username);
  assertCanSend(contact);
  if (!contact) fail('InvalidArgument', 'no such contact');
  const now = ctx.deps.now();
  const m = await commit(ctx.vault, async (tx) => {
    const old = await txGetMessage(tx, key);
    if (!old || old.username !== username || old.direction !== 'out' || old.status !== 'stale') {
      fail('InvalidArgument', 'only a message not sent because of a key change can be sent again');
    }
    const chat = await updateChat(tx, username, (c) => ({ ...c, lastAt: Math.max(c.lastAt + 1, now), lastPreview: preview(old.body) }));
    const next: MessageRecord = { ...old, sentAt: chat.lastAt, receivedAt: now, status: 'queued', identity: contact.identity, sentVia: [] };
    await putMessage(tx, next);
    const content = encodeContent({ kind: 'text', id: old.id, sentAt: next.sentAt, text: old.body });
    await addOutbox(tx, { username, content, messageKey: key, identity: contact.identity });
    return next;
  });
  ctx.events.emit(messageEvent(m));
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
  return m;
}

/**
 * After the user accepts, re-verifies or rejects a key change, or unblocks: held texts for
 * `username` go back to "queued", and groups owing them a welcome dropped under an earlier key
 * send the current one if that key is now accepted (group-welcome-owed.ts, P36).
 */
export async function releaseHeld(ctx: EngineContext, username: Username): Promise<void> {
  await payWelcomesOwedTo(ctx, username);
  const items = (await listOutbox(ctx.vault)).filter((i) => i.username === username && i.messageKey);
  await commit(ctx.vault, async (tx) => {
    for (const i of items) {
      const m = await txGetMessage(tx, i.messageKey!);
      if (m?.status === 'blocked') await putMessage(tx, { ...m, status: 'queued' });
    }
  });
  ctx.kickOutbox();
}

function emitStatus(ctx: EngineContext, m: MessageRecord | undefined): void {
  const e = m && statusEvent(m);
  if (e) ctx.events.emit(e);
}
