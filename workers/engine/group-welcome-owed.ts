/**
 * A group welcome owed to a member whose key changed before it left (SECURITY.md P36; README
 * "Groups": a member's changed safety number). The outbox drops a welcome queued for the identity
 * trusted then (outbox.ts `dropStale`): those bytes never go to the new key. The group record
 * remembers instead that the member is owed one (`welcomeOwed`), and a NEW welcome — the group's
 * current signed history and master key, built when it is sent — is queued for the identity
 * trusted at that moment once the user's own action makes that key one we send to:
 *
 *   - accepting or verifying the new safety number, rejecting it (the old key is trusted again),
 *     or unblocking the member (outbox.ts `releaseHeld`), if the key is then accepted: no change
 *     pending, none unacknowledged, not blocked (`keyAccepted`); also at the drop itself when the
 *     user had already accepted (a verified contact's held welcome is dropped after Accept);
 *   - our next group message to that group (group-apply.ts `distributeSenderKey`), under the rule
 *     that already hands an unverified contact's new key our sender key then (`sendableNow`): the
 *     welcome goes first, so the key it is followed by opens something. A fresh createGroup would
 *     welcome that same key.
 *
 * Only while we and the member are both members of the head; a removed member, or a group we
 * left, clears the mark without a send (a deleted group takes it with its record). Blocked
 * members get nothing. Each mark comes from one dropped welcome and is cleared by the one send, so
 * a host that keeps making up keys gets at most one welcome per group per key the user accepted.
 * The member also leaves `distributedTo`: our next group message gives the new key our sender key.
 */
import { address } from '../../src/lib/crypto/group/address';
import { encodeWelcomeHistory } from '../../src/lib/crypto/group/group-history-codec';
import { findMember } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { encodeGroupUpdate, MAX_HISTORY_BYTES } from '../../src/lib/wire/group-content';
import { txGetContact } from '../storage/contact-repo';
import { putGroup, txListGroups, type GroupRecord } from '../storage/group-repo';
import type { ContactRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { addOutbox } from '../storage/outbox-repo';
import { fromHex } from '../../src/lib/codec/bytes';
import { encodeContent } from '../../src/lib/wire/content';
import { requireMe, type EngineContext, type Me } from './context';
import { blobKey } from './group-key-epochs';

/** The member's current key is one the user accepted (nothing pending or unacknowledged) and not blocked. */
export function keyAccepted(c: ContactRecord | undefined): boolean {
  return c !== undefined && !c.blocked && !c.pendingIdentity && !c.identityChanged;
}

/** What our group messages may go to now (trust.ts `assertCanSend`): not blocked, no verified change pending. */
export function sendableNow(c: ContactRecord | undefined): boolean {
  return c !== undefined && !c.blocked && !c.pendingIdentity;
}

export function markWelcomeOwed(g: GroupRecord, username: Username): GroupRecord {
  const owed = g.welcomeOwed ?? [];
  return owed.includes(username) ? g : { ...g, welcomeOwed: [...owed, username] };
}

/**
 * Inside `tx`: queues the current welcome to each member `g` owes one to (all of them, or only
 * `who`) whose contact `may` allows, and clears the marks that were paid or can no longer be.
 * Returns the record to store and whether anything was queued.
 */
export async function payOwedWelcomes(tx: Tx, me: Me, g: GroupRecord, may: (c: ContactRecord | undefined) => boolean, who?: Username): Promise<{ group: GroupRecord; queued: boolean }> {
  const owed = g.welcomeOwed ?? [];
  if (owed.length === 0) return { group: g, queued: false };
  const head = g.history.head;
  const inGroup = findMember(head, address(me.username)) !== undefined;
  const keep: Username[] = [];
  const paid: Username[] = [];
  for (const u of owed) {
    if (!inGroup || !findMember(head, address(u))) continue;
    if ((who !== undefined && u !== who) || !may(await txGetContact(tx, u))) keep.push(u);
    else paid.push(u);
  }
  if (paid.length > 0) {
    const welcome = encodeGroupUpdate({ groupId: fromHex(g.id), masterKey: blobKey(g), history: encodeWelcomeHistory(g.history, MAX_HISTORY_BYTES) });
    // Bound to the identity trusted now (outbox-repo.ts `addOutbox`), never the one it was owed
    // under; the same content kind 0x09 as group-update-queue.ts `queueUpdate`, encoded once for all.
    for (const u of paid) await addOutbox(tx, { username: u, content: encodeContent({ kind: 'group', update: welcome }) });
  }
  const { welcomeOwed: _owed, ...rest } = g;
  const group: GroupRecord = {
    ...rest,
    ...(keep.length > 0 ? { welcomeOwed: keep } : {}),
    distributedTo: g.distributedTo.filter((u) => !paid.includes(u))
  };
  return { group, queued: paid.length > 0 };
}

/**
 * After the user accepted, verified or rejected `username`'s key change, or unblocked them
 * (outbox.ts `releaseHeld`): every group owing them a welcome sends its current one, if their key
 * is now accepted. Call outside ctx.serial.
 */
export async function payWelcomesOwedTo(ctx: EngineContext, username: Username): Promise<boolean> {
  const me = requireMe(ctx);
  return ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      let queued = false;
      for (const g of await txListGroups(tx)) {
        if (!g.welcomeOwed?.includes(username)) continue;
        const r = await payOwedWelcomes(tx, me, g, keyAccepted, username);
        await putGroup(tx, r.group);
        queued ||= r.queued;
      }
      return queued;
    })
  );
}
