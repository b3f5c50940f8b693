/**
 * Message requests (SECURITY.md P42): the first message from someone the user has neither
 * written to nor accepted lands in "Message requests". Until the user accepts:
 *   - no delivery or read receipts go back (inbox.ts, receipts.ts), and there is no typing signal;
 *   - our profile key is not shared (profiles.ts `profileKeyToShare` skips a request);
 *   - links are not clickable (the UI reads ChatView.request);
 *   - their calls do not ring: an offer becomes a missed-call entry and nothing goes back, so no
 *     online or busy signal leaks (`callRings`).
 * Accept (gives our profile key), delete (the chat, its messages and sessions go; a new message
 * starts a new request) or block. Writing to them accepts too. "Calls only from contacts"
 * (privacy setting) lets calls ring only from people we wrote to or accepted, i.e. who hold our
 * profile key. Knows nothing of envelopes or crypto.
 */
import { decodeCallSignal } from '../../src/lib/wire/call';
import { getContact, putAvatar, putContact, txGetContact } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { deleteMessage, putMessage } from '../storage/message-repo';
import { queueReceipt } from './receipts';
import { deleteSessions } from '../storage/session-repo';
import { listOutbox } from '../storage/outbox-repo';
import type { ContactRecord, MessageRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import { callNoticeCode, callPreview } from './calls';
import type { EngineContext } from './context';
import { engineFail } from './errors';
import { shareProfileKey } from './profiles';
import type { Username } from '../../src/lib/codec/username';
import type { PrivacySettings } from '../../src/lib/vault/views';

import { txPrivacySettings } from './privacy-settings';

export { privacySettings, setPrivacySettings, txPrivacySettings } from './privacy-settings';
export type { PrivacySettings };
// The settings' row and the account record's copy of it live in privacy-settings.ts.

/** A pending request: they wrote first and we have not written to them or accepted (P42). */
export function isRequest(contact: ContactRecord | undefined): boolean {
  return contact?.request === true;
}

/** Someone we wrote to or accepted: they hold our profile key. */
export function isAcceptedContact(contact: ContactRecord | undefined): boolean {
  return !!contact && !contact.request && contact.sharedKey !== undefined;
}

/** Whether a call signal from `contact` may reach the call controller (ring, answer, busy). */
export function callRings(contact: ContactRecord | undefined, settings: PrivacySettings): boolean {
  if (!contact || isRequest(contact) || contact.blocked) return false;
  return !settings.callsOnlyFromContacts || isAcceptedContact(contact);
}

/** An offer that does not ring becomes a missed-call entry; any other signal is dropped. */
export function missedCallRecord(username: Username, signal: Uint8Array, now: number): MessageRecord | undefined {
  let s;
  try {
    s = decodeCallSignal(signal);
  } catch {
    return undefined;
  }
  if (s.type !== 'offer') return undefined;
  const entry = { callId: s.callId, direction: 'in' as const, media: s.media, outcome: 'missed' as const, durationMs: 0, at: now };
  return { key: `call:${s.callId}`, id: s.callId, username, direction: 'system', body: callNoticeCode(entry), sentAt: now, receivedAt: now, status: 'received' };
}

/** Writes a missed-call entry in the receive transaction. */
export async function putMissedCall(tx: Tx, m: MessageRecord): Promise<void> {
  await putMessage(tx, m);
  const preview = callPreview({ callId: m.id, direction: 'in', media: m.body.includes(':video:') ? 'video' : 'audio', outcome: 'missed', durationMs: 0, at: m.sentAt });
  await updateChat(tx, m.username, (c) => (m.sentAt >= c.lastAt ? { ...c, lastAt: m.sentAt, lastPreview: preview } : c));
}

/**
 * Clears the request flag (writing to them or accepting), inside a transaction. Consent is what
 * lets delivery show: the texts that arrived while it was a request are acknowledged now
 * (delivered, or read if the user already read them).
 */
export async function acceptInTx(tx: Tx, username: Username): Promise<void> {
  const c = await txGetContact(tx, username);
  if (!c?.request) return;
  const next: ContactRecord = { ...c };
  delete next.request;
  await putContact(tx, next);
  const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
  const rows = await tx.objectStore('messages').index('byChat').getAll(range);
  const incoming = rows.filter((r) => r.direction === 'in');
  // Read receipts off: what was read is acknowledged as delivered only (README "Read receipts").
  const readReceipts = (await txPrivacySettings(tx)).readReceipts;
  const read = incoming.filter((r) => r.read && readReceipts).map((r) => r.id);
  const delivered = incoming.filter((r) => !r.read || !readReceipts).map((r) => r.id);
  if (delivered.length > 0) await queueReceipt(tx, username, 'delivered', delivered);
  if (read.length > 0) await queueReceipt(tx, username, 'read', read);
}

/**
 * Accept: they become a contact and get our profile key (P42, P43) on its own (content kind
 * profileKey), from which their delivery token for sealed mail to us derives (P41).
 */
export async function acceptRequest(ctx: EngineContext, raw: string): Promise<void> {
  const username = canonicalUsername(raw);
  if (!(await getContact(ctx.vault, username))) engineFail('NoSuchUser', 'no such contact');
  await commit(ctx.vault, async (tx) => {
    await acceptInTx(tx, username);
    await shareProfileKey(ctx, tx, username);
  });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
}

/** Delete a request: its messages, chat, sessions, queued items and contact go; nothing is sent. */
export async function deleteRequest(ctx: EngineContext, raw: string): Promise<void> {
  const username = canonicalUsername(raw);
  const c = await getContact(ctx.vault, username);
  if (!isRequest(c)) engineFail('NoSuchUser', 'no message request from this user');
  const queued = (await listOutbox(ctx.vault)).filter((i) => i.username === username);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
      const keys = await tx.objectStore('messages').index('byChat').getAllKeys(range);
      for (const k of keys) await deleteMessage(tx, String(k));
      for (const i of queued) await tx.objectStore('outbox').delete(i.seq!);
      await tx.objectStore('chats').delete(username);
      await tx.objectStore('contacts').delete(username);
      await putAvatar(tx, username, undefined);
      await deleteSessions(tx, username);
    })
  );
  ctx.events.emit({ type: 'chats' });
}
