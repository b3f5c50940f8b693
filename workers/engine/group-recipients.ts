/**
 * Who our group sends go to (README "Groups": blocking; SECURITY.md P42, P43, P21): the members
 * of the head other than us, minus the people we blocked, as Signal does (Android
 * RecipientUtil.getEligibleForSending, Desktop getSendRecipientLists drop blocked recipients).
 * Blocking stops their messages to us (inbox.ts) and ours to them, in groups as in 1:1 chats: a
 * blocked member gets neither our sender key nor our group messages, and our messages count their
 * receipts over the members they went to. Unblocking makes them a newcomer for our sender key
 * (group-apply.ts `distributeSenderKey`). Inside the caller's transaction; knows nothing else.
 */
import { address } from '../../src/lib/crypto/group/address';
import { senderKeyRecipients, type GroupState } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { txGetContact } from '../storage/contact-repo';
import type { Tx } from '../storage/schema';

/** The members our sender key and group messages go to now, in the head's order. */
export async function groupRecipients(tx: Tx, head: GroupState, me: Username): Promise<Username[]> {
  const out: Username[] = [];
  for (const a of senderKeyRecipients(head, address(me))) {
    if (!(await txGetContact(tx, a.username))?.blocked) out.push(a.username);
  }
  return out;
}
