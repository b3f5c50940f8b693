/**
 * Receiving (DESIGN.md §5; SECURITY.md P3, P12, P13, P14, P15, P34, P36):
 *
 *   blocked sender?  -> ack, drop unread (no receipt, no state change)
 *   decrypt (receive-crypto.ts, no writes; on the sessions the page holds, session-page.ts)
 *   a key the user rejected? -> refused (RejectedIdentity): no session kept, nothing shown
 *   ONE transaction per page (`receiveEnvelopes`): each sender's final session state + per
 *                    envelope: message + chat + consumed prekeys deleted + handshake remembered
 *                    + contact change + gap markers + delivery receipt queued
 *   then ack each, in order.
 *
 * A crash before the commit changes nothing and the host redelivers the page; a crash after the commit
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
import { fail, isCodedError } from '../../src/lib/codec/errors';
import { bytesEqual } from '../../src/lib/codec/bytes';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { decodeContent, type AttachmentContent, type ReceiptContent, type TextContent } from '../../src/lib/wire/content';
import { attachmentPreview } from './attachments';
import { getContact, putContact, txGetContact } from '../storage/contact-repo';
import { unarchiveOnMessage } from './chat-flags';
import { preview, updateChat } from '../storage/chat-repo';
import { incomingKey, newestSentAt, putMessage, txGetMessage } from '../storage/message-repo';
import { deleteConsumed } from '../storage/prekey-repo';
import type { ContactRecord, MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { clearMarker, markGaps, markUndecryptable } from './gaps';
import { notice, NoticeKind } from './notices';
import { applyReceipt, queueReceipt } from './receipts';
import { applyGroupReceipt } from './group-receipts';
import { putSessionWrites, SessionPage } from './session-page';
import { envelopeRef, refKey } from './refs';
import { refreshProfile, storeTheirKey } from './profiles';
import { rememberAccepted } from './replay-guard';
import type { Envelope, SealedEnvelope } from './transport';
import { opensWithSealKeys, unseal, type Incoming } from './sealed-receive';
import { noteUndecryptable, queueResends, resendsFor } from './retry';
import { isRejected, observeIdentity, underChangedKey } from './trust';
import { messageEvent, statusEvent } from './views';
import { engineFail, isEngineError } from './errors';
import type { Username } from '../../src/lib/codec/username';
import { checkSenderMatchesSession } from '../../src/lib/crypto/sealed-sender';
import { callRings, isAcceptedContact, isRequest, missedCallRecord, privacySettings, putMissedCall } from './requests';
import type { MessageRef } from '../../src/lib/wire/content';
import { GROUP_MESSAGE_TYPE } from '../../src/lib/crypto/group/sender-key-message';
import { receiveGroupUpdate } from './group-updates';
import { uploadStateBlob } from './group-sync';
import { receiveGroup } from './group-receive';
import { ack, recordFailure, type ReceiveOutcome } from './receive-records';
import { applyHeld, isAction, quoteKey, receiveAction } from './message-actions';
import { receivedExpiry, receiveTimer, withQuoteExpiry } from './disappearing';
import { typingShown } from './typing';

/** How far ahead of ours a sender's clock may be before its timestamps are clamped. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Failures a resend in a fresh session could repair (a lost or mismatched session, a damaged envelope). */
const RETRYABLE = new Set(['NotInitialized', 'InvalidMac', 'MissingPrekey', 'InvalidMessage']);
/** Failures that are refusals, not losses: acked and recorded, never shown as a missing message. */
const SILENT = new Set(['ReplayedPreKeyMessage', 'RejectedIdentity']);

/** The most envelopes one page (one transaction) takes. */
export const MAX_PAGE = 64;

/** Handles one envelope end to end; call inside ctx.serial. Infrastructure errors propagate unacked. */
export async function receiveEnvelope(ctx: EngineContext, env: Envelope | SealedEnvelope): Promise<ReceiveOutcome> {
  let failure: unknown;
  const [outcome] = await receiveEnvelopes(ctx, [env], (_, e) => (failure = e));
  if (outcome === undefined) throw failure;
  return outcome;
}

/**
 * Handles a page of envelopes, in host order, with as few transactions as the rules allow; call
 * inside ctx.serial. Every 1:1 envelope is decrypted on the sessions the ones before it left
 * (held in memory, not yet written), then ONE transaction writes every sender's final sessions
 * (the head row and only the skipped-key rows that changed, session-repo.ts) with every
 * envelope's rows, and only after it commits is each envelope acked, in order (P34): a crash
 * before the commit leaves nothing written and the host redelivers the whole page, which then
 * decrypts from what is stored, so nothing is lost or decrypted twice (P12).
 *
 * A sealed envelope (P41) is opened first (sealed-receive.ts) and then is its inner message, in
 * the same page, from the certificate's username; its certificate must name the identity of the
 * session that decrypts it (P3). One that does not open is refused: recorded and acked with the
 * page. `onError` is given the envelope as the host sent it (sealed: no sender is known).
 *
 * A page ends early after an envelope that started a new session (the prekeys it consumed and
 * the handshake it used are then committed before anything else is decrypted, P13, P15) and
 * around a group envelope (group-messages.ts commits its own). An infrastructure error fails
 * that envelope, unacked, after the envelopes before it are committed (`onError`, to report it);
 * the ones after it start a new page. Answers each handled envelope's outcome, in order.
 */
export async function receiveEnvelopes(
  ctx: EngineContext,
  envs: readonly (Envelope | SealedEnvelope)[],
  onError: (env: Envelope | SealedEnvelope, e: unknown) => void
): Promise<(ReceiveOutcome | undefined)[]> {
  requireMe(ctx);
  const out: (ReceiveOutcome | undefined)[] = [];
  const failed = (received: Envelope | SealedEnvelope, e: unknown) => {
    onError(received, e);
    out.push(undefined);
  };
  /** Writes a page and acks it; false (nothing written, nothing reported) if its transaction failed and `retry`. */
  const settle = async (p: Page, retry: boolean): Promise<boolean> => {
    let events: EngineEvent[][];
    try {
      events = await writePage(ctx, p);
    } catch (e) {
      if (retry) return false;
      for (const item of p.items) failed(item.incoming.received, e);
      return true;
    }
    for (const [i, item] of p.items.entries()) {
      try {
        await announce(ctx, item, events[i]!);
        out.push(item.outcome);
      } catch (e) {
        // Committed but not acked: redelivered later, and then a duplicate (P34).
        for (const rest of p.items.slice(i)) failed(rest.incoming.received, e);
        break;
      }
    }
    return true;
  };
  let page = newPage();
  const flush = async () => {
    const p = page;
    page = newPage();
    if (p.items.length === 0 || (await settle(p, p.items.length > 1))) return;
    // The page's transaction failed, so none of it was written: each envelope is tried again
    // alone, from what is stored, so one that cannot be written never holds back the others.
    for (const { incoming } of p.items) {
      const one = newPage();
      try {
        one.items.push(await prepare(ctx, incoming, one));
      } catch (e) {
        failed(incoming.received, e);
        continue;
      }
      await settle(one, false);
    }
  };
  for (const received of envs) {
    let incoming: Incoming;
    // A v3 envelope opens only with a seal key we hold (group-seal-keys.ts): one that came earlier
    // in this page, with its sender's key, is written before the envelope is opened.
    if (opensWithSealKeys(received)) await flush();
    try {
      incoming = await unseal(ctx, received);
    } catch (e) {
      await flush();
      failed(received, e);
      continue;
    }
    // P20: the group type byte is neither 1:1 envelope type; each path decodes only its own. Group
    // traffic comes by the authenticated fan-out or sealed as sender-key content (P41, v2); a
    // group message sealed as a 1:1 one was refused when it was opened.
    if (incoming.group || (incoming.env.body[0] === GROUP_MESSAGE_TYPE && !incoming.from && incoming.refused === undefined)) {
      await flush();
      try {
        out.push(await receiveGroup(ctx, incoming.env, incoming.from));
      } catch (e) {
        failed(received, e);
      }
      continue;
    }
    try {
      page.items.push(await prepare(ctx, incoming, page));
    } catch (e) {
      await flush();
      failed(received, e);
      continue;
    }
    if (page.closed || page.items.length >= MAX_PAGE) await flush();
  }
  await flush();
  return out;
}

/** Envelopes decrypted and not yet written, with the sessions they leave per sender. */
interface Page {
  items: Prepared[];
  sessions: SessionPage;
  /** Set after an envelope that started a session: nothing more joins this page. */
  closed: boolean;
}

function newPage(): Page {
  return { items: [], sessions: new SessionPage(), closed: false };
}

/** One envelope, decrypted or refused, and what its part of the page's transaction writes. */
interface Prepared {
  incoming: Incoming;
  env: Envelope;
  outcome: ReceiveOutcome;
  /** Its rows, inside the page's transaction; answers the events to emit once it is acked. */
  write?(tx: Tx): Promise<EngineEvent[]>;
  /** Set by `write`: a profile key arrived (P43), fetched after the ack. */
  newProfileKey?: boolean;
  /** Resends queued for the sender (retry.ts). */
  resent?: number;
  /** A failure a resend could repair, asked for after the commit (retry.ts). */
  retry?: MessageRef;
  /** Events known before the commit (a failure's). */
  events?: EngineEvent[];
  /** A group whose blobs we reseal after the commit (a join by link we welcomed). */
  reseal?: string;
}

/** Decrypts one envelope on the page's sessions; writes nothing. Infrastructure errors propagate. */
async function prepare(ctx: EngineContext, incoming: Incoming, page: Page): Promise<Prepared> {
  const { env, from: sealedFrom } = incoming;
  // P41: a sealed envelope that did not open names no sender: recorded, nothing else changes.
  if (incoming.refused !== undefined) return unreadable(ctx, incoming, incoming.refused, false);
  // Decrypting writes nothing, so it runs alongside the block check (call set-up waits on this).
  const decrypted = page.sessions.decrypt(ctx, env);
  decrypted.catch(() => undefined); // awaited below, or dropped with the envelope
  const contact = await getContact(ctx.vault, env.sender);
  // No linked devices: nothing comes from our own username, so nothing can write into Note to self.
  if (contact?.blocked || env.sender === requireMe(ctx).username) return { incoming, env, outcome: 'dropped' };
  try {
    // P41 + P3: the certificate must name the identity we know for that username, before any
    // ratchet work (a host that signs certificates could otherwise speak for our contacts).
    if (sealedFrom && contact && !knownIdentity(contact, encodeIdentityPublic(sealedFrom.identity))) {
      fail('UntrustedIdentity', 'sealed sender certificate names another identity than the contact');
    }
    const d = await decrypted;
    if (sealedFrom) checkSenderMatchesSession(sealedFrom, { theirUsername: env.sender, theirIdentity: d.sessions[0]!.theirIdentity });
    const identity = encodeIdentityPublic(d.sessions[0]!.theirIdentity);
    if (isRejected(contact, identity)) engineFail('RejectedIdentity', 'the message comes from a key the user rejected');
    const content = decodeContent(d.plaintext);
    // Call signals are latency-bound and stored nowhere: hand them over as soon as they are
    // authenticated. If the commit below fails, the envelope is redelivered and the controller
    // ignores the repeated call id; the ratchet state is committed exactly as for any message.
    // P42: a call from a message request (or, with "calls only from contacts", from anyone we have
    // not written to or accepted) never rings and nothing answers it: a missed-call entry instead.
    const rings = content.kind === 'call' && callRings(contact, await privacySettings(ctx));
    if (content.kind === 'call' && rings) ctx.events.emit({ type: 'call', username: env.sender, signal: content.signal, contact: isAcceptedContact(contact) });
    // Typing notices are shown, never stored; the rules are typing.ts's.
    const showsTyping = content.kind === 'typing' && typingShown(contact, await privacySettings(ctx), content, underChangedKey(contact, identity), ctx.deps.now());
    // A contact asks for what it could not decrypt (retry.ts): read before the commit.
    const resends = content.kind === 'retry' ? await resendsFor(ctx, env.sender, identity, content) : [];
    // Only now does the page follow this envelope's sessions (a refused one changes nothing).
    page.sessions.follow(env.sender, d.sessions);
    if (d.accepted) page.closed = true;
    const item: Prepared = { incoming, env, outcome: 'stored', resent: resends.length };
    item.write = async (tx) => {
      const out: EngineEvent[] = [];
      let trusted = await txGetContact(tx, env.sender);
      if (d.accepted) {
        await deleteConsumed(tx, d.accepted.consumed);
        await rememberAccepted(tx, d.accepted.baseKey);
        const decision = observeIdentity(trusted, env.sender, d.accepted.identity);
        // P42: someone we never wrote to starts as a message request.
        if (!trusted) decision.contact = { ...decision.contact, request: true };
        if (decision.changed) await putContact(tx, decision.contact);
        trusted = decision.contact;
        if (decision.identityChanged) {
          await putMessage(tx, notice(ctx, env.sender, NoticeKind.identityChanged));
          out.push({ type: 'identity', username: env.sender });
        }
      }
      let at = ctx.deps.now();
      if (content.kind === 'text' && content.profileKey) item.newProfileKey = await storeTheirKey(tx, env.sender, content.profileKey);
      if (content.kind === 'text' || content.kind === 'resent') {
        const stored = await storeText(ctx, tx, env, content, underChangedKey(trusted, identity), isRequest(trusted));
        out.push(...stored.events);
        at = stored.at;
      } else if (content.kind === 'attachment') {
        const { caption, ...attachment } = content;
        const { expireTimer, timerSetAt: _setting, ...file } = attachment;
        const stored = await storeText(ctx, tx, env, { id: content.id, sentAt: content.sentAt, text: caption ?? '', ...(expireTimer ? { expireTimer } : {}) }, underChangedKey(trusted, identity), isRequest(trusted), file);
        out.push(...stored.events);
        at = stored.at;
      }
      // P44: the sender's chat setting the message was sent under, applied as a change would be
      // (so a change whose envelope was lost is learned here), its notice just before the message.
      // Dropped under a changed key, like a change.
      if ((content.kind === 'text' || content.kind === 'attachment') && content.timerSetAt !== undefined) {
        const setting = { kind: 'timer', seconds: content.expireTimer ?? 0, setAt: content.timerSetAt } as const;
        out.push(...(await receiveTimer(ctx, tx, env.sender, setting, underChangedKey(trusted, identity), at - 1)));
      }
      if (content.kind === 'call') {
        // emitted above, before the commit, if it rings; else an offer leaves a missed call (P42)
        const missed = rings ? undefined : missedCallRecord(env.sender, content.signal, ctx.deps.now());
        if (missed) {
          await putMissedCall(tx, missed);
          out.push(messageEvent(missed), { type: 'chats' });
        }
      } else if (content.kind === 'retry') await queueResends(tx, resends);
      else if (content.kind === 'profileKey') item.newProfileKey = await storeTheirKey(tx, env.sender, content.key);
      else if (content.kind === 'group') {
        const u = await receiveGroupUpdate(ctx, tx, env.sender, content.update, identity);
        out.push(...u.events);
        if (u.refused) out.push({ type: 'receive-error', username: env.sender, code: u.refused });
        if (u.reseal) item.reseal = u.reseal;
      }
      else if (content.kind === 'timer') out.push(...(await receiveTimer(ctx, tx, env.sender, content, underChangedKey(trusted, identity))));
      else if (isAction(content)) out.push(...(await receiveAction(ctx, tx, env.sender, content, underChangedKey(trusted, identity))));
      else if (content.kind === 'receipt') out.push(...(await receiveReceipt(tx, env.sender, content)));
      else if (content.kind === 'groupReceipt') out.push(...(await applyGroupReceipt(tx, env.sender, content)));
      else if (content.kind === 'typing' && showsTyping) out.push({ type: 'typing', username: env.sender, typing: content.typing });
      // P14: this message is not missing any more; what it revealed missing is marked before it.
      let markers = (await clearMarker(tx, env.sender, d.ref)) ? 1 : 0;
      if (content.kind === 'resent' && (await clearMarker(tx, env.sender, content.ref))) markers++;
      // A delete for everyone may name its message's encryption the sender withdrew before it left:
      // its number is missing by the sender's word, not the host's doing, so it is not marked.
      const withdrawn = content.kind === 'delete' ? content.withdrawn : undefined;
      if (withdrawn && (await clearMarker(tx, env.sender, withdrawn))) markers++;
      const gaps = withdrawn ? d.gaps.filter((g) => refKey(g) !== refKey(withdrawn)) : d.gaps;
      markers += await markGaps(tx, env.sender, gaps, at - 1);
      if (markers > 0) out.push({ type: 'message', username: env.sender, id: 'gap' }, { type: 'chats' });
      return out;
    };
    return item;
  } catch (e) {
    // StorageLost (P33) is about our vault, not the envelope: leave it unacked for after restore.
    if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
    if (e.code === 'DuplicateMessage') return { incoming, env, outcome: 'duplicate' };
    return unreadable(ctx, incoming, e.code, contact !== undefined);
  }
}

/** Writes a page in ONE transaction: every sender's sessions, then each envelope's rows. */
async function writePage(ctx: EngineContext, page: Page): Promise<EngineEvent[][]> {
  const sessions = await page.sessions.seal(ctx.vault);
  return commit(ctx.vault, async (tx) => {
    await putSessionWrites(tx, sessions);
    const out: EngineEvent[][] = [];
    for (const item of page.items) {
      out.push([...(item.events ?? []), ...(item.write ? await item.write(tx) : [])]);
      if (item.outcome === 'stored') ctx.faults.midReceiveCommit?.();
    }
    return out;
  });
}

/** After the commit: acks one envelope and announces what it brought. */
async function announce(ctx: EngineContext, item: Prepared, events: EngineEvent[]): Promise<void> {
  ctx.faults.beforeAck?.();
  await ack(ctx, item.env);
  for (const e of events) ctx.events.emit(e);
  if (item.retry) noteUndecryptable(ctx, item.env.sender, item.retry);
  // A stored text queued a delivery receipt; a group update may have queued our sender key.
  if (events.some((e) => e.type === 'message' || e.type === 'group') || (item.resent ?? 0) > 0) ctx.kickOutbox();
  // P43: their profile opens with the key they just shared; fetched outside the receive path.
  if (item.newProfileKey) void refreshProfile(ctx, item.env.sender).catch(() => undefined);
  if (item.reseal) void uploadStateBlob(ctx, item.reseal).catch(() => undefined);
}

/** The contact's trusted identity, or the pending one the user is being asked about. */
function knownIdentity(contact: ContactRecord, identity: Uint8Array): boolean {
  return bytesEqual(contact.identity, identity) || (contact.pendingIdentity !== undefined && bytesEqual(contact.pendingIdentity, identity));
}

/**
 * An envelope that could not be read: recorded; if it claims to come from a contact, marked in
 * the conversation (P14) and, when a resend could repair it, asked for again (P36, rate-limited).
 * Envelopes claiming a stranger as sender create nothing: the host could name anyone.
 */
function unreadable(ctx: EngineContext, incoming: Incoming, code: string, fromContact: boolean): Prepared {
  const { env } = incoming;
  const visible = fromContact && !SILENT.has(code);
  const ref = envelopeRef(env.body);
  const now = ctx.deps.now();
  return {
    incoming,
    env,
    outcome: 'failed',
    ...(visible && ref && RETRYABLE.has(code) ? { retry: ref } : {}),
    events: [{ type: 'receive-error', username: env.sender, code }],
    async write(tx) {
      await recordFailure(tx, { sender: env.sender, serverId: env.serverId, code, at: now });
      const marked = visible ? await markUndecryptable(tx, env.sender, ref, now, ctx.deps.rng) : false;
      return marked ? [{ type: 'message', username: env.sender, id: 'gap' }, { type: 'chats' }] : [];
    }
  };
}

/** Stores a text (or a resent one) once; answers its events and the sort position it took. */
async function storeText(
  ctx: EngineContext,
  tx: Tx,
  env: Envelope,
  c: Omit<TextContent, 'kind'>,
  changedKey: boolean,
  request: boolean,
  attachment?: AttachmentContent
): Promise<{ events: EngineEvent[]; at: number }> {
  const key = incomingKey(env.sender, c.id);
  const now = ctx.deps.now();
  // Same content id again (a resend re-encrypted by the sender): already on screen.
  const existing = await txGetMessage(tx, key);
  if (existing) return { events: [], at: existing.sentAt };
  // A sender clock far in the future must not pin this chat to the top forever.
  const claimed = Math.min(c.sentAt, now + MAX_CLOCK_SKEW_MS);
  // P36: under a changed key, no claimed time may put a message above the history shown.
  const sentAt = changedKey ? Math.max(claimed, (await newestSentAt(tx, env.sender)) + 1) : claimed;
  const m: MessageRecord = await withQuoteExpiry(tx, {
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
    ...(attachment ? { attachment } : {}),
    // A reply (kind 0x0D): the quote resolved under the authenticated sender (message-actions.ts).
    ...(c.quote ? { extras: { quote: await quoteKey(tx, env.sender, c.quote) } } : {}),
    // P44: the timer it was sent under; its clock starts when it is first read (disappearing.ts).
    ...receivedExpiry(c.expireTimer)
  });
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
  // P42: a message request gets no delivery receipt.
  if (!request) await queueReceipt(tx, env.sender, 'delivered', [c.id]);
  // Reactions, edits or a delete that arrived before this message (message-actions.ts holds them).
  const late = await applyHeld(ctx, tx, env.sender, c.id);
  return {
    events: [messageEvent(m, m.extras?.quote ? await txGetMessage(tx, m.extras.quote) : undefined), ...late, { type: 'chats' }],
    at: sentAt
  };
}

async function receiveReceipt(tx: Tx, sender: Username, c: ReceiptContent): Promise<EngineEvent[]> {
  const changed = await applyReceipt(tx, sender, c);
  return changed.map(statusEvent).filter((e) => e !== undefined);
}
