/**
 * A contact and its chat as a PIN restore writes them (DESIGN.md §7; SECURITY.md P42, P43): the
 * trusted identity and verification, the block flag, their profile key (names and avatars come
 * back from their blob on the next connect), whether they are still a message request (an
 * accepted contact never falls back into "Message requests"), whether they hold our current
 * profile key (so it is not shared again and "calls only from contacts" still rings for them),
 * and how the chat was filed (pinned, muted, archived). Pure: no storage, no network.
 */
import { toBase64Url } from '../../../src/lib/codec/base64url';
import type { Contact } from '../../../src/lib/crypto/account-record';
import type { ChatRecord, ContactRecord } from '../../storage/schema';

export function restoredContact(c: Contact, identity: Uint8Array, blocked: boolean, ourKeyFingerprint: string): ContactRecord {
  return {
    username: c.username,
    identity,
    verified: c.verified,
    blocked,
    identityChanged: false,
    ...(c.profileKey ? { profileKey: toBase64Url(c.profileKey) } : {}),
    ...(c.request ? { request: true } : {}),
    // A request never holds our key (P42), whatever an odd record says.
    ...(c.holdsOurKey && !c.request ? { sharedKey: ourKeyFingerprint } : {})
  };
}

export function restoredChat(chat: ChatRecord, c: Contact): ChatRecord {
  const next: ChatRecord = { ...chat };
  if (c.pinned) next.pinned = true;
  if (c.muted) next.muted = true;
  if (c.archived) next.archived = true;
  return next;
}
