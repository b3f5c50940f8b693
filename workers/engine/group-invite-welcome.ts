/**
 * Welcoming people who joined by link (README "Groups": invite links; SECURITY.md P19, P21). A
 * joiner by link has no master key: its own change makes it a member, and an ADMIN who sees that
 * change land on the path to its head sends it the welcome (master key and history) inside the
 * 1:1 ratchet, as changeGroup does for members an admin adds. Only a join the core admitted
 * (signed by the joiner and the link, under the link's policy) leads to a send, at most once per
 * joiner per admin, so a link holder cannot make members write to arbitrary people.
 */
import { address } from '../../src/lib/crypto/group/address';
import type { GroupChange } from '../../src/lib/crypto/group/group-change';
import { encodeWelcomeHistory } from '../../src/lib/crypto/group/group-history-codec';
import { MAX_HISTORY_BYTES } from '../../src/lib/wire/group-content';
import { findMember, isAdmin } from '../../src/lib/crypto/group/group-state';
import type { GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { Me } from './context';
import { groupIdBytes } from './group-apply';
import { queueUpdate } from './group-update-queue';
import { blobKey } from './group-key-epochs';

/**
 * Inside the receive transaction, after a history change: if we are an admin, welcome everyone
 * whose own join by link is newly on the path to the head and who is a member now (a pending
 * request is welcomed by the admin who approves it, changeGroup). Answers whether we should
 * reseal the blobs: a joiner cannot write them, and the invite blob we keep must show the new head.
 */
export async function welcomeLinkJoiners(tx: Tx, me: Me, g: GroupRecord, added: readonly GroupChange[]): Promise<boolean> {
  const head = g.history.head;
  if (added.length === 0 || !isAdmin(head, address(me.username))) return false;
  const welcome = { groupId: groupIdBytes(g), masterKey: blobKey(g), history: encodeWelcomeHistory(g.history, MAX_HISTORY_BYTES) };
  let joined = false;
  for (const c of added) {
    if (!c.actions.some((a) => a.type === 'joinByLink')) continue;
    joined = true;
    if (findMember(head, c.author)) await queueUpdate(tx, c.author.username, welcome);
  }
  return joined || g.inviteSecret !== undefined;
}
