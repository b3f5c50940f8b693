/**
 * Typing indicators in 1:1 chats (README "Typing indicators"; content kind 0x14,
 * wire/typing-content.ts), as Signal's: ephemeral, sealed, never stored as a message.
 *
 * Sending (`sendTyping`, on the user's own keystrokes only; the page throttles, typing-sender.ts):
 * nothing goes unless ALL hold, else the call does nothing and says nothing:
 *   - the setting is on (off = neither send nor show);
 *   - they are a contact who is not blocked and not a message request (P42), whose safety number
 *     needs no decision (P3), and who gave us their profile key, so the notice can go sealed (P41):
 *     a typing notice never names its sender to the host;
 *   - this tab drives and is online, nothing else is queued for them, and a session with their
 *     trusted key exists: a notice never starts a session, waits in a queue, or goes out late on
 *     purpose. Its ciphertext is stored with the advanced session before it is sent (as a call
 *     signal, calls.ts), so a failed send is retried by the outbox instead of leaving a ratchet gap
 *     the receiver would show as a missing message (P14).
 * Inside the ratchet it pads to the same block as a receipt or a short text, so sealed it has the
 * same size (sealed-content.ts).
 *
 * Receiving (`typingShown`, asked by inbox.ts before the page's transaction): shown only from a
 * contact who is not a request or blocked, under the trusted key, with the setting on, and not
 * older than MAX_TYPING_AGE_MS by its own clock; it becomes a `typing` event and nothing else: no
 * row, no receipt, no send, no unread count. A replayed envelope is a ratchet duplicate and shows
 * nothing (P13). Knows nothing of the page or timers.
 */
import { encodeContent, type TypingContent } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { hasOutboxFor } from '../storage/outbox-repo';
import { encryptAndSendNow } from './send-now';
import { loadSessions } from '../storage/session-repo';
import type { ContactRecord } from '../storage/schema';
import { requireMe, type EngineContext } from './context';
import { privacySettings } from './privacy-settings';
import { isRequest } from './requests';
import { theirDeliveryToken } from './sealed-access';
import { sessionMatches } from './sessions';
import { assertCanSend } from './trust';
import type { Username } from '../../src/lib/codec/username';
import type { PrivacySettings } from '../../src/lib/vault/views';

/** A typing notice older than this by its sender's clock (a send retried after a reconnect) is not shown. */
export const MAX_TYPING_AGE_MS = 60_000;

function mayTypeTo(contact: ContactRecord | undefined): contact is ContactRecord {
  if (!contact || contact.blocked || isRequest(contact) || !theirDeliveryToken(contact)) return false;
  try {
    assertCanSend(contact);
    return true;
  } catch {
    return false;
  }
}

/** Sends "typing" or "stopped" to `username` if every rule above allows; answers whether it went. */
export async function sendTyping(ctx: EngineContext, username: Username, typing: boolean): Promise<boolean> {
  const me = requireMe(ctx);
  if (username === me.username || !ctx.driver || ctx.connection !== 'online') return false;
  if (!(await privacySettings(ctx)).typingIndicators) return false;
  if (!mayTypeTo(await getContact(ctx.vault, username))) return false;
  return ctx.serial(async () => {
    // Re-read inside the queue: a block or a key change may have landed meanwhile.
    const contact = await getContact(ctx.vault, username);
    if (!mayTypeTo(contact) || (await hasOutboxFor(ctx.vault, username))) return false;
    const sessions = await loadSessions(ctx.vault, username, { cached: true });
    if (!sessionMatches(sessions[0], contact.identity)) return false;
    const content = encodeContent({ kind: 'typing', typing, sentAt: ctx.deps.now() });
    // Stored instead of sent: the outbox retries it (the receiver drops it if it is by then too old).
    return (await encryptAndSendNow(ctx, username, sessions, content)) === 'sent';
  });
}

/** Whether a typing notice from `contact`, under a key `changedKey` or not, is shown (see header). */
export function typingShown(contact: ContactRecord | undefined, settings: PrivacySettings, c: TypingContent, changedKey: boolean, now: number): boolean {
  if (!contact || contact.blocked || isRequest(contact) || changedKey || !settings.typingIndicators) return false;
  return c.sentAt >= now - MAX_TYPING_AGE_MS;
}
