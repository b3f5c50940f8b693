/**
 * A group update that never left (SECURITY.md P36): the outbox drops an item written for an
 * identity the contact no longer has.
 *
 *   - it carried our sender key: the member must not stay counted as holding it. Taking them out
 *     of `distributedTo` makes our next group message hand them the key again, queued for the
 *     identity trusted then (after Accept, for a verified contact's pending change);
 *   - it was a welcome: the group remembers that the member is owed one (group-welcome-owed.ts),
 *     and sends the CURRENT one when the user's own action makes the new key one we send to —
 *     right away if the user already did (a verified contact's held welcome is dropped after
 *     Accept). The dropped bytes themselves are never sent.
 */
import { toHex } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { decodeContent } from '../../src/lib/wire/content';
import { decodeGroupUpdate, type GroupUpdate } from '../../src/lib/wire/group-content';
import { putGroup, txGetGroup } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { Me } from './context';
import { keyAccepted, markWelcomeOwed, payOwedWelcomes } from './group-welcome-owed';

/** Inside the drop's transaction; true if a fresh welcome was queued (the outbox should run again). */
export async function forgetUndeliveredGroupUpdate(tx: Tx, me: Me, username: Username, content: Uint8Array): Promise<boolean> {
  let u: GroupUpdate;
  try {
    const c = decodeContent(content);
    if (c.kind !== 'group') return false;
    u = decodeGroupUpdate(c.update);
  } catch (e) {
    // Our own queued bytes: anything that does not decode carried no group update.
    if (isCodedError(e)) return false;
    throw e;
  }
  const welcome = u.masterKey !== undefined && u.history !== undefined;
  if (!u.distribution && !welcome) return false;
  let g = await txGetGroup(tx, toHex(u.groupId));
  if (!g) return false;
  if (u.distribution) g = { ...g, distributedTo: g.distributedTo.filter((x) => x !== username) };
  let queued = false;
  if (welcome) {
    const r = await payOwedWelcomes(tx, me, markWelcomeOwed(g, username), keyAccepted, username);
    g = r.group;
    queued = r.queued;
  }
  await putGroup(tx, g);
  return queued;
}
