/**
 * Disappearing messages: the timer two people agree on (SECURITY.md P44; README "Disappearing
 * messages"; wire kinds 0x11/0x12 in wire/disappearing-content.ts).
 *
 * Agreement: a change is ordinary content inside the ratchet (kind 0x11), queued in the outbox
 * like a text, so the host sees one more envelope and nothing of the timer. Either side may
 * change it; both apply the change that is latest by its sender's clock (`setAt`), and two
 * changes made at the same millisecond resolve to the shorter timer (off counts longest), the
 * same on both sides, so concurrent changes converge. A change we make is always dated after the
 * last one we applied (`setAt` = max(now, last + 1)), so a peer whose clock runs ahead cannot pin
 * the timer: our next change still wins on both sides.
 *
 * Re-learning: a message also carries when its sender's setting was made (kind 0x13), and the
 * recipient applies that setting by the same rule as a change (`receiveTimer`), so a change whose
 * envelope was lost is learned from the next message, and a message sent under an older setting
 * (crossing a newer change) changes nothing.
 *
 * Stamping: a message we send carries the chat's timer (kind 0x13) and its clock starts at
 * sending; a message we receive keeps the timer it was SENT under, and its clock starts when we
 * first show it (read, receipts.ts) — Signal's rule. expiry.ts removes it when the time is up.
 * A change under a key the user has not accepted is dropped (P3), like a message action, and so is
 * one for a chat that does not exist here yet (P42: it never opens a chat on its own).
 * Owns the rules; storage shapes are the repositories', the sweep is expiry.ts's.
 */
import { fail } from '../../src/lib/codec/errors';
import { toHex } from '../../src/lib/codec/bytes';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { encodeContent } from '../../src/lib/wire/content';
import { checkTimer, isTimerSeconds, type TimerContent, type TimerSeconds } from '../../src/lib/wire/disappearing-content';
import { updateChat } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { putMessage, txGetMessage } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { ChatRecord, MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import type { EngineEvent } from './events';
import { assertCanSend } from './trust';
import { messageEvent } from './views';
import { armExpiry } from './expiry';

/** A received `setAt` beyond this is read as this: our `last + 1` must stay a safe integer. */
const MAX_SET_AT = 2 ** 52;

/** The notice codes of a change: ours or theirs, and the new timer ("disappearing:in:86400"). */
export function timerNoticeCode(direction: 'in' | 'out', seconds: TimerSeconds): string {
  return `disappearing:${direction}:${seconds}`;
}

/** The chat's timer now (0 = off). */
export function timerOf(chat: ChatRecord | undefined): TimerSeconds {
  const t = chat?.disappearing ?? 0;
  return isTimerSeconds(t) ? t : 0;
}

/** Off counts longest: at a tie the shorter timer wins, on both sides alike. */
const rank = (s: number) => (s === 0 ? Infinity : s);

/** True if change `a` beats the chat's current setting `b`: later by sender clock, else shorter. */
export function beats(a: { seconds: number; setAt: number }, b: { seconds: number; setAt: number }): boolean {
  if (a.setAt !== b.setAt) return a.setAt > b.setAt;
  return rank(a.seconds) < rank(b.seconds);
}

function withTimer(chat: ChatRecord, seconds: TimerSeconds, setAt: number): ChatRecord {
  const next: ChatRecord = { ...chat, disappearingSetAt: setAt };
  if (seconds === 0) delete next.disappearing;
  else next.disappearing = seconds;
  return next;
}

/** `at`: where the notice sorts (default now). */
function timerNotice(ctx: EngineContext, username: Username, direction: 'in' | 'out', seconds: TimerSeconds, at?: number): MessageRecord {
  const now = ctx.deps.now();
  const id = toHex(ctx.deps.rng(16));
  return { key: `system:${id}`, id, username, direction: 'system', body: timerNoticeCode(direction, seconds), sentAt: at ?? now, receivedAt: now, status: 'received' };
}

/** The user sets the chat's timer (0 = off): applied here and sent to them inside the ratchet. */
export async function setDisappearing(ctx: EngineContext, raw: string, value: number): Promise<void> {
  const me = requireMe(ctx);
  const username = asUsername(raw);
  if (username === me.username) fail('InvalidArgument', 'not a chat with another user');
  const seconds = checkTimer(value, 'InvalidArgument');
  const contact = await getContact(ctx.vault, username);
  assertCanSend(contact);
  // P42: a request is answered by accepting it, not by a setting that tells them we are here.
  if (contact?.request) fail('InvalidArgument', 'accept the message request before changing its timer');
  const events = await commit(ctx.vault, async (tx) => {
    const row = await tx.objectStore('chats').get(username);
    if (!row) return engineFail('NoSuchUser', 'no chat with that user');
    let setAt = 0;
    let changed = false;
    await updateChat(tx, username, (chat) => {
      if (timerOf(chat) === seconds) return chat;
      changed = true;
      setAt = Math.max(ctx.deps.now(), (chat.disappearingSetAt ?? 0) + 1);
      return withTimer(chat, seconds, setAt);
    });
    if (!changed) return [];
    const notice = timerNotice(ctx, username, 'out', seconds);
    await putMessage(tx, notice);
    const content: TimerContent = { kind: 'timer', seconds, setAt };
    // Written for the identity trusted now, like a text (P36).
    await addOutbox(tx, { username, content: encodeContent(content), ...(contact?.identity ? { identity: contact.identity } : {}) });
    return [messageEvent(notice), { type: 'chats' } as const];
  });
  for (const e of events) ctx.events.emit(e);
  if (events.length > 0) ctx.kickOutbox();
}

/**
 * A change from `sender` (authenticated by the ratchet), inside the receive transaction (inbox.ts):
 * a change (kind 0x11), or the setting a message was sent under (kind 0x13; `noticeAt` puts its
 * notice just before that message).
 */
export async function receiveTimer(ctx: EngineContext, tx: Tx, sender: Username, c: TimerContent, changedKey: boolean, noticeAt?: number): Promise<EngineEvent[]> {
  // P42: a change alone never opens a chat (a stranger could fill the list with empty ones).
  if (changedKey || !(await tx.objectStore('chats').get(sender))) return [];
  const setAt = Math.min(c.setAt, MAX_SET_AT);
  let shown = false;
  await updateChat(tx, sender, (chat) => {
    if (!beats({ seconds: c.seconds, setAt }, { seconds: timerOf(chat), setAt: chat.disappearingSetAt ?? -1 })) return chat;
    shown = timerOf(chat) !== c.seconds;
    return withTimer(chat, c.seconds, setAt);
  });
  if (!shown) return [];
  const notice = timerNotice(ctx, sender, 'in', c.seconds, noticeAt);
  await putMessage(tx, notice);
  return [messageEvent(notice), { type: 'chats' }];
}

/**
 * The chat setting a message we send carries (wire kind 0x13): the timer and when it was set, so
 * a peer that missed the change learns it from this message (`receiveTimer` rules). Once a chat
 * has had a timer, every message carries the setting, "off" included.
 */
export function sentTimer(chat: ChatRecord): { expireTimer?: TimerSeconds; timerSetAt?: number } {
  const t = timerOf(chat);
  return { ...(t === 0 ? {} : { expireTimer: t }), ...(chat.disappearingSetAt === undefined ? {} : { timerSetAt: chat.disappearingSetAt }) };
}

/** What a message we send now carries: the chat's timer; its clock starts now. */
export function sentExpiry(chat: ChatRecord, now: number): Pick<MessageRecord, 'expireTimer' | 'expiresAt'> {
  const t = timerOf(chat);
  return t === 0 ? {} : { expireTimer: t, expiresAt: now + t * 1000 };
}

/** A received message's timer; its clock starts only when it is first read (`readExpiry`). */
export function receivedExpiry(timer: number | undefined): Pick<MessageRecord, 'expireTimer'> {
  return timer ? { expireTimer: timer } : {};
}

/** Marking `m` read starts its clock (once). */
export function readExpiry(m: MessageRecord, now: number): Pick<MessageRecord, 'expiresAt'> {
  return m.expireTimer && m.expiresAt === undefined ? { expiresAt: now + m.expireTimer * 1000 } : {};
}

/** A reply quoting a disappearing message says so, so it shows "message expired" once that is gone (P44). */
export async function withQuoteExpiry(tx: Tx, m: MessageRecord): Promise<MessageRecord> {
  const quoted = m.extras?.quote ? await txGetMessage(tx, m.extras.quote) : undefined;
  return quoted?.expireTimer ? { ...m, extras: { ...m.extras, quoteExpires: true } } : m;
}

/** Arms the sweep for what was just written (expiry.ts). */
export function armFor(ctx: EngineContext, records: readonly MessageRecord[]): void {
  for (const m of records) armExpiry(ctx, m.expiresAt);
}
