/**
 * Our profile key for the members of a group we write to (SECURITY.md P43, P41; README "Groups"):
 * as Signal does, group members hold each other's profile keys, so each can fetch the others'
 * profiles and derive their delivery tokens, and group messages can go as one sealed sender v2
 * upload (group-sealed.ts). P43 gives the key only to people we write to; sending to a group
 * is writing to each member, so the key goes with our sender key, inside the 1:1 ratchet
 * (content kind profileKey), queued ahead of the group message. A member whose sender key reaches
 * us in a group we accepted gets ours in answer (group-updates.ts `answerWithProfileKey`), so
 * members who only read can be sealed to as well.
 *
 * Each member's contact remembers the fingerprint of the version it got (as profiles.ts does for
 * 1:1 chats), so it goes once per key version, and a rotation after a block re-shares it to them
 * (profiles.ts `rotateOnBlock`). Never to a blocked contact. A member we have no contact row for
 * yet (no session) gets it too, in the same run as our sender key, so the first group message
 * already carries our name and token to them. Inside the caller's transaction; knows nothing of
 * groups' states or of the host.
 */

import type { Username } from '../../src/lib/codec/username';
import { decodeContent, encodeContent, isProfileKeyContent } from '../../src/lib/wire/content';
import { putContact, txGetContact } from '../storage/contact-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { Tx } from '../storage/schema';
import type { EngineContext } from './context';
import { profileKeyFingerprint, txProfileKey } from './profile-key';

/**
 * Queues our current profile key to each of `members` that does not hold this version yet;
 * `withSenderKey`: the members our sender key is queued to in the same transaction.
 */
export async function shareProfileKeyWithMembers(ctx: EngineContext, tx: Tx, members: readonly Username[], { withSenderKey = [] }: { withSenderKey?: readonly Username[] } = {}): Promise<void> {
  let key: Uint8Array | undefined;
  let fp = '';
  const starting = new Set(withSenderKey);
  for (const username of members) {
    const contact = await txGetContact(tx, username);
    // Without a contact row, only when our sender key goes to them too (a session is started for
    // it anyway); Accept alone starts no session with every member.
    if (contact?.blocked || (!contact && !starting.has(username))) continue;
    if (!key) {
      key = await txProfileKey(ctx, tx);
      fp = profileKeyFingerprint(key);
    }
    if (contact?.sharedKey === fp) continue;
    // No contact row yet: the contact is marked when the outbox encrypts it (markProfileKeyShared).
    if (contact) await putContact(tx, { ...contact, sharedKey: fp });
    await addOutbox(tx, { username, content: encodeContent({ kind: 'profileKey', key }) });
  }
}

/**
 * Inside the transaction that stores an encrypted outbox item: a profile key encrypted to
 * `username` is now theirs, so the contact (made meanwhile by the session set-up) is marked as
 * holding that version and it is not queued for them again.
 */
export async function markProfileKeyShared(tx: Tx, username: Username, content: Uint8Array): Promise<void> {
  if (!isProfileKeyContent(content)) return;
  const c = decodeContent(content);
  if (c.kind !== 'profileKey') return;
  const contact = await txGetContact(tx, username);
  const fp = profileKeyFingerprint(c.key);
  if (contact && contact.sharedKey !== fp) await putContact(tx, { ...contact, sharedKey: fp });
}
