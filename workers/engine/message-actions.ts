/**
 * Message actions in 1:1 chats (README "Message actions"; content kinds 0x0A..0x0E): replies,
 * reactions, edits, delete for me and delete for everyone.
 *
 * Authorship (P47): an action names its target by the 16-byte content id only, and the receiver
 * looks it up under the envelope's AUTHENTICATED sender. An edit or delete from S can only reach
 * the row `${S}:${id}` — a message S sent us in the chat with S — so a peer can never edit or
 * delete our messages or a message of another chat. A reaction from S may target S's message or
 * ours in the chat with S, nothing else. Every action for an id we do not hold (not arrived yet,
 * deleted, someone else's) creates no row, no receipt and no send: it is held (held-actions.ts,
 * sealed, kept across a reload) for HOLD_MS (at most MAX_HELD) in case its message is only late
 * (a host reordering envelopes), and applied if that message arrives from the same sender;
 * otherwise forgotten. So is one from a changed key the user has not accepted (P3), or an edit or
 * delete of a message older than RECEIVE_WINDOW_MS.
 *
 * No receipts (as Signal): receiving an action queues nothing, so actions cannot start a receipt
 * storm. Deleting (for me or for everyone) rewrites or removes the one row and the chat preview
 * if it showed that message, keeping no copy of the text, its edits or its quote (P44).
 * Owns the rules; storage shapes are message-repo.ts's, the wire is content.ts's.
 */
import { fail } from '../../src/lib/codec/errors';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { encodeContent, isOneEmoji, MAX_TEXT_BYTES, type Content, type DeleteContent, type EditContent, type MessageRef, type ReactionContent } from '../../src/lib/wire/content';
import type { EditVersionView, MessageView } from '../../src/lib/vault/views';
import { preview, updateChat } from '../storage/chat-repo';
import { messageOwner, txDropFile } from '../storage/file-repo';
import { getContact } from '../storage/contact-repo';
import { getMessage, incomingKey, putMessage, txGetMessage } from '../storage/message-repo';
import { addOutbox, withdrawUnsent } from '../storage/outbox-repo';
import { noteWithdrawals } from './blob-withdrawals';
import type { MessageExtras, MessageRecord, Tx, Vault } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { assertCanSend } from './trust';
import { addHeld, HELD_META, takeHeld } from './held-actions';
import { removeMessage } from './message-removal';
import { sweepIfDue } from './expiry';
import { messageEvent, toMessageView } from './views';
import { envelopeRef } from './refs';
import { entryOf, withEntry } from '../../src/lib/codec/by-name';

/** How long after sending a message its author may edit it or delete it for everyone (Signal: 24 h). */
export const ACTION_WINDOW_MS = 24 * 60 * 60_000;
/** How old a message may be (by our clock of its arrival) for a received edit or delete to apply: the window plus clock slack. */
export const RECEIVE_WINDOW_MS = 2 * ACTION_WINDOW_MS;
/** Earlier versions of an edited message kept (the newest ones). */
export const MAX_EDIT_HISTORY = 10;
export { HOLD_MS, MAX_HELD } from './held-actions';
/** The chat preview of a message deleted for everyone. */
export const DELETED_PREVIEW = 'Message deleted';

type ActionContent = ReactionContent | EditContent | DeleteContent;

export function isAction(c: Content): c is ActionContent {
  return c.kind === 'reaction' || c.kind === 'edit' || c.kind === 'delete';
}

// ---- reading ----

/** Views of `records` with their quotes resolved (one read per reply). */
export async function viewsWithQuotes(vault: Vault, records: MessageRecord[]): Promise<MessageView[]> {
  const out: MessageView[] = [];
  for (const m of records) out.push(toMessageView(m, m.extras?.quote ? await getMessage(vault, m.extras.quote) : undefined));
  return out;
}

/** The local key a reply from `sender` quoting content id `id` names: their message, else ours in this chat. */
export async function quoteKey(tx: Tx, sender: Username, id: string): Promise<string> {
  const theirs = incomingKey(sender, id);
  if (await txGetMessage(tx, theirs)) return theirs;
  const ours = await txGetMessage(tx, id);
  return ours && ours.direction === 'out' && ours.username === sender ? id : theirs;
}

/**
 * The versions of the edited message `key` of the chat with `username`: the current text first,
 * then the earlier ones, newest first, each with when it was written (README "Message actions":
 * edit history); [] for a message never edited. For the sender and the receiver alike. A message deleted for
 * everyone has none (P44: its tombstone keeps no earlier text); one that expired is gone with its
 * history (the sweep runs first, so an expired message is never read).
 */
export async function messageEditHistory(ctx: EngineContext, username: Username, key: string): Promise<EditVersionView[]> {
  requireMe(ctx);
  await sweepIfDue(ctx);
  const m = await getMessage(ctx.vault, key);
  if (!m || m.username !== username || m.direction === 'system') fail('InvalidArgument', 'no such message in this chat');
  const x = m.extras;
  if (x?.deleted || x?.editedAt === undefined) return [];
  return [{ text: m.body, at: x.editedAt }, ...(x.history ?? []).map(({ text, at }) => ({ text, at })).reverse()];
}

// ---- receiving (inside the receive transaction, inbox.ts) ----

/** One held action (held-actions.ts: a sealed meta row, so a reload keeps it). */
type Held = { sender: Username; content: ActionContent; at: number };

async function hold(ctx: EngineContext, tx: Tx, sender: Username, content: ActionContent): Promise<void> {
  await addHeld<Held>(tx, HELD_META, { sender, content, at: ctx.deps.now() });
}

/**
 * Actions held for the message `id` that `sender` just sent us (inbox.ts storeText, same
 * transaction): applied in the order they came, the stale ones forgotten. Only `sender`'s own
 * actions in the chat with them match (P47): a held action never reaches another sender's
 * message with the same id.
 */
export async function applyHeld(ctx: EngineContext, tx: Tx, sender: Username, id: string): Promise<EngineEvent[]> {
  const mine = await takeHeld<Held>(tx, HELD_META, ctx.deps.now(), (h) => h.sender === sender && h.content?.target === id);
  const events: EngineEvent[] = [];
  for (const h of mine) events.push(...(await receiveAction(ctx, tx, sender, h.content, false, false)));
  return events;
}

/**
 * Applies an action from `sender` (authenticated by the ratchet). `changedKey`: it came under a
 * key the user has not accepted, so it is dropped (P3). Answers the events; never queues a send.
 */
export async function receiveAction(ctx: EngineContext, tx: Tx, sender: Username, c: ActionContent, changedKey: boolean, mayHold = true): Promise<EngineEvent[]> {
  if (changedKey) return [];
  // Not here (yet): only its own sender's late message can pick it up (applyHeld); nothing is stored.
  if (!(await txGetMessage(tx, incomingKey(sender, c.target))) && c.kind !== 'reaction') {
    if (mayHold) await hold(ctx, tx, sender, c);
    return [];
  }
  if (c.kind === 'reaction') {
    // Theirs, or ours in the chat with them: never a message of another chat (P47).
    let target = await txGetMessage(tx, incomingKey(sender, c.target));
    if (!target) {
      const ours = await txGetMessage(tx, c.target);
      if (ours?.direction === 'out' && ours.username === sender) target = ours;
    }
    if (!target) {
      if (mayHold) await hold(ctx, tx, sender, c);
      return [];
    }
    if (target.extras?.deleted) return [];
    return react(tx, target, sender, c.emoji);
  }
  // Edits and deletes: only the author's own message, found under the authenticated sender (P47).
  const target = await txGetMessage(tx, incomingKey(sender, c.target));
  if (!target || target.direction !== 'in' || target.username !== sender || target.extras?.deleted) return [];
  if (ctx.deps.now() - target.receivedAt > RECEIVE_WINDOW_MS) return [];
  if (c.kind === 'edit') return edit(tx, target, c.text, c.sentAt);
  return erase(tx, target);
}

// ---- sending (vault methods) ----

/** Our reaction to a message of the chat with `raw` ('' takes it back); replaces our previous one. */
export async function sendReaction(ctx: EngineContext, raw: string, key: string, emoji: string): Promise<MessageView> {
  if (emoji !== '' && !isOneEmoji(emoji)) fail('InvalidArgument', 'a reaction is one emoji');
  return act(ctx, raw, key, false, (tx, m) => react(tx, m, '', emoji), (m) => ({ kind: 'reaction', target: m.id, emoji }));
}

/** A new text for our own message, within ACTION_WINDOW_MS of sending it. */
export async function editMessage(ctx: EngineContext, raw: string, key: string, text: string): Promise<MessageView> {
  if (text.length === 0 || new TextEncoder().encode(text).length > MAX_TEXT_BYTES) fail('InvalidArgument', `an edit of ${text.length} characters`);
  const at = ctx.deps.now();
  return act(ctx, raw, key, true, (tx, m) => edit(tx, m, text, at), (m) => ({ kind: 'edit', target: m.id, sentAt: at, text }));
}

/**
 * Deletes our own message for everyone, within ACTION_WINDOW_MS of sending it. One still in the
 * outbox is taken out, so its text never leaves from here: not yet encrypted, nothing is sent at
 * all; already encrypted (the host was out of reach), the delete goes and names that encryption's
 * ratchet header, so the receiver does not mark its number missing (P14). It still goes in case
 * an earlier attempt reached the host before its answer was lost.
 */
export async function deleteForEveryone(ctx: EngineContext, raw: string, key: string): Promise<MessageView> {
  let withdrawn: MessageRef | undefined;
  let blobId: string | undefined;
  const view = await act(
    ctx,
    raw,
    key,
    true,
    async (tx, m) => {
      blobId = m.attachment?.blobId;
      const events = await erase(tx, m);
      // A file's blob goes from the host too, noted with the delete (P44; wire/blob-api.ts).
      if (blobId) await noteWithdrawals(tx, [blobId], ctx.deps.now());
      return events;
    },
    (m) => ({ kind: 'delete', target: m.id, ...(withdrawn ? { withdrawn } : {}) }),
    async (tx, m) => {
      const { neverLeft, ciphertexts } = await withdrawUnsent(tx, m.key);
      withdrawn = ciphertexts.map((c) => envelopeRef(c)).find((r) => r !== undefined);
      return neverLeft && ciphertexts.length === 0;
    }
  );
  if (blobId) ctx.kickWithdrawals();
  return view;
}

/** Removes a message from this browser only (P44: through removeMessage, the one removal path); nothing is sent. */
export async function deleteForMe(ctx: EngineContext, raw: string, key: string): Promise<void> {
  requireMe(ctx);
  const username = asUsername(raw);
  const events = await commit(ctx.vault, async (tx) => {
    const m = await txGetMessage(tx, key);
    return m && m.username === username ? removeMessage(tx, m) : undefined;
  });
  if (!events) fail('InvalidArgument', 'no such message in this chat');
  for (const e of events) ctx.events.emit(e);
}

/**
 * Shared by the sending actions: finds `key` in the chat with `raw` (ours only when `own`, within
 * the window), applies the change and queues the content for them in one transaction.
 */
async function act(
  ctx: EngineContext,
  raw: string,
  key: string,
  own: boolean,
  apply: (tx: Tx, m: MessageRecord) => Promise<EngineEvent[]>,
  content: (m: MessageRecord) => ActionContent,
  /** True when the change needs no message to them (the original never left). */
  local?: (tx: Tx, m: MessageRecord) => Promise<boolean>
): Promise<MessageView> {
  requireMe(ctx);
  const username = asUsername(raw);
  const contact = await getContact(ctx.vault, username);
  assertCanSend(contact);
  const now = ctx.deps.now();
  const { view, events } = await commit(ctx.vault, async (tx) => {
    const m = await txGetMessage(tx, key);
    if (!m || m.username !== username || m.direction === 'system') return fail('InvalidArgument', 'no such message in this chat');
    if (m.extras?.deleted) return fail('InvalidArgument', 'the message was deleted');
    if (own && m.direction !== 'out') return fail('InvalidArgument', 'only your own messages can be edited or deleted for everyone');
    if (own && now - m.sentAt > ACTION_WINDOW_MS) return fail('InvalidArgument', 'messages older than 24 hours cannot be changed for everyone');
    const events = await apply(tx, m);
    if (events.length === 0) return { events, view: toMessageView(m) }; // nothing changed: nothing to send
    const changed = events.find((e) => e.type === 'message');
    const view = changed?.type === 'message' && changed.message ? changed.message : toMessageView(m);
    if (local && (await local(tx, m))) return { events, view };
    // Written for the identity trusted now, like a text (P36): never encrypted to another.
    const identity = contact?.identity;
    await addOutbox(tx, { username, content: encodeContent(content(m)), ...(identity ? { identity } : {}) });
    return { events, view };
  });
  for (const e of events) ctx.events.emit(e);
  ctx.kickOutbox();
  return view;
}

// ---- the changes themselves ----

async function save(tx: Tx, m: MessageRecord, extras: MessageExtras): Promise<EngineEvent[]> {
  const next: MessageRecord = { ...m, extras };
  await putMessage(tx, next);
  return [messageEvent(next, extras.quote ? await txGetMessage(tx, extras.quote) : undefined)];
}

/** One emoji per person: `who` ('' = us) replaces their previous reaction; '' takes it back. */
async function react(tx: Tx, m: MessageRecord, who: string, emoji: string): Promise<EngineEvent[]> {
  const had = entryOf(m.extras?.reactions, who);
  if (emoji === '' ? had === undefined : had === emoji) return [];
  // A changed reaction is re-added last, so it moves to the end.
  return save(tx, m, { ...m.extras, reactions: withEntry(m.extras?.reactions, who, emoji === '' ? undefined : emoji) });
}

/** The new text; the old one joins the bounded history. An edit older than the last one applied is ignored. */
async function edit(tx: Tx, m: MessageRecord, text: string, at: number): Promise<EngineEvent[]> {
  const last = m.extras?.editedAt ?? m.claimedAt ?? m.sentAt;
  if (at <= (m.extras?.editedAt ?? -1)) return [];
  const history = [...(m.extras?.history ?? []), { text: m.body, at: last }].slice(-MAX_EDIT_HISTORY);
  const next = { ...m, body: text };
  await updateChat(tx, m.username as Username, (chat) => (chat.lastAt === m.sentAt ? { ...chat, lastPreview: preview(text) } : chat));
  return save(tx, next, { ...m.extras, history, editedAt: at });
}

/** Delete for everyone: the text, its history, quote and reactions are gone; a tombstone stays (P44). */
async function erase(tx: Tx, m: MessageRecord): Promise<EngineEvent[]> {
  const unread = m.direction === 'in' && !m.read;
  // A file's key, digest and blob id go with the text, and our copy of it (P44): nothing of the
  // message stays readable.
  const { attachment: _attachment, ...rest } = m;
  await txDropFile(tx, messageOwner(m.key));
  const next: MessageRecord = { ...rest, body: '', ...(unread ? { read: true } : {}) };
  await updateChat(tx, m.username as Username, (chat) => ({
    ...chat,
    unread: unread ? Math.max(0, chat.unread - 1) : chat.unread,
    lastPreview: chat.lastAt === m.sentAt ? DELETED_PREVIEW : chat.lastPreview
  }));
  return [...(await save(tx, next, { deleted: true })), { type: 'chats' }];
}
