/**
 * A sender key that never left (SECURITY.md P36): the outbox drops an item written for an identity
 * the contact no longer has, and when that item carried our sender key for a group the member must
 * not stay counted as holding it. Taking them out of `distributedTo` makes our next group message
 * hand them the key again, queued for the identity trusted then (after Accept, for a verified
 * contact's pending change). A group welcome dropped the same way is not re-sent (README "Groups":
 * a member's changed safety number).
 */
import { toHex } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { decodeContent } from '../../src/lib/wire/content';
import { decodeGroupUpdate } from '../../src/lib/wire/group-content';
import { putGroup, txGetGroup } from '../storage/group-repo';
import type { Tx } from '../storage/schema';

export async function forgetUndeliveredSenderKey(tx: Tx, username: Username, content: Uint8Array): Promise<void> {
  let groupId: Uint8Array;
  try {
    const c = decodeContent(content);
    if (c.kind !== 'group') return;
    const u = decodeGroupUpdate(c.update);
    if (!u.distribution) return;
    groupId = u.groupId;
  } catch (e) {
    // Our own queued bytes: anything that does not decode carried no sender key.
    if (isCodedError(e)) return;
    throw e;
  }
  const g = await txGetGroup(tx, toHex(groupId));
  if (!g?.distributedTo.includes(username)) return;
  await putGroup(tx, { ...g, distributedTo: g.distributedTo.filter((u) => u !== username) });
}
