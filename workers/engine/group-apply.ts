/**
 * What follows any change of a group's history, whoever wrote it (README "Groups"; SECURITY.md
 * P19, P21), inside the caller's transaction:
 *
 *   - notices in the conversation for joins, removals and leaves on the new path to the head;
 *   - no longer a member: our sender key and everyone else's are dropped, nothing more is sent;
 *   - keys we hold from people who are no longer members are dropped.
 *
 * Nothing here sends: a received change or welcome (which anyone with a session can send) never
 * makes this client write to anyone. Our sender key goes out with our next group message
 * (`distributeSenderKey`, called by the send path, as Signal's SenderKeyDistributionMessage):
 *   - anyone who holds our sender key is no longer a member (mustRotateSenderKey): a fresh key,
 *     given pairwise to the current members only, so a removed member reads nothing sent after;
 *   - newcomers get our current key (from its current iteration on, never earlier messages);
 *   - members we blocked get neither (group-recipients.ts); one who held it gets it rotated past.
 *
 * Pairwise updates travel as content kind 0x09 through the ordinary outbox (the 1:1 ratchet).
 * Knows nothing of the host or the UI.
 */
import { address, sameAddress, type Address } from '../../src/lib/crypto/group/address';
import { changeId, type GroupChange } from '../../src/lib/crypto/group/group-change';
import { awaitsEpoch } from '../../src/lib/crypto/group/key-epochs';
import { findMember, isAdmin, mustRotateSenderKey, type GroupState } from '../../src/lib/crypto/group/group-state';
import { createSenderKey, rotateSenderKey, senderKeyDistribution } from '../../src/lib/crypto/group/sender-key';
import { encodeSenderKeyDistribution } from '../../src/lib/crypto/group/sender-key-message';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { putGroupMessage, type GroupMessageRecord, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { EngineContext, Me } from './context';
import { shareProfileKeyWithMembers } from './group-profile-key';
import { groupRecipients } from './group-recipients';
import { payOwedWelcomes, sendableNow } from './group-welcome-owed';
import { giveEpochToNewcomers, payOwedEpoch } from './group-key-epochs';
import { giveSenderKey } from './group-seal-keys';


export function groupIdBytes(g: GroupRecord): Uint8Array {
  return fromHex(g.id);
}

/** A system entry in a group's conversation. */
export async function putNotice(ctx: EngineContext, tx: Tx, g: GroupRecord, notice: NonNullable<GroupMessageRecord['notice']>, who: string, at: number, body = ''): Promise<void> {
  const id = ctx.deps.rng(8).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');
  await putGroupMessage(tx, { key: `${g.id}:sys:${id}`, groupId: g.id, id, sender: who, direction: 'system', body, sentAt: at, receivedAt: ctx.deps.now(), status: 'received', notice });
}

/**
 * Members who came or went with no change on the new path saying so: a branch we had shown was
 * voided by a simultaneous one (group-history.ts fork choice), so its "joined" or "removed" no
 * longer holds. Each gets a notice that says how things stand now.
 */
async function reversalNotices(ctx: EngineContext, tx: Tx, g: GroupRecord, before: GroupState, added: readonly GroupChange[], at: number, me: Username): Promise<void> {
  const head = g.history.head;
  const touched = new Set<string>();
  for (const c of added) {
    for (const a of c.actions) {
      if ('address' in a) touched.add(a.address.username);
      if (a.type === 'leave' || a.type === 'joinByLink') touched.add(c.author.username);
    }
  }
  const names = (s: GroupState) => new Set(s.members.map((m) => m.address.username as string));
  const was = names(before);
  const is = names(head);
  for (const u of was) if (!is.has(u) && !touched.has(u) && u !== me) await putNotice(ctx, tx, g, 'unjoined', u, at);
  for (const u of is) if (!was.has(u) && !touched.has(u) && u !== me) await putNotice(ctx, tx, g, 'rejoined', u, at);
  // The same for the info: a rename (or description, picture) on the voided branch no longer holds.
  const set = (type: string) => added.some((c) => c.actions.some((a) => a.type === type));
  if (before.name !== head.name && !set('setName')) await putNotice(ctx, tx, g, 'name-reverted', '', at, head.name);
  const picture = (s: GroupState) => (s.avatar ? toHex(s.avatar) : '');
  if ((before.description !== head.description && !set('setDescription')) || (picture(before) !== picture(head) && !set('setAvatar'))) {
    await putNotice(ctx, tx, g, 'info-reverted', '', at);
  }
}

/** Notices for the actions of the changes newly on the path to the head. */
async function noticesFor(ctx: EngineContext, tx: Tx, g: GroupRecord, added: readonly GroupChange[], at: number, me: Username): Promise<void> {
  // Info notices of one change keep its action order (name, description, picture) in the log.
  let info = 0;
  for (const c of added) {
    for (const a of c.actions) {
      if (a.type === 'addMember' || a.type === 'approveJoin') await putNotice(ctx, tx, g, 'joined', a.address.username, at);
      else if (a.type === 'joinByLink') await putNotice(ctx, tx, g, 'joined', c.author.username, at);
      // Our own removal gets its own notice (afterHistoryChange), not 'you was removed'.
      else if (a.type === 'removeMember' && a.address.username !== me) await putNotice(ctx, tx, g, 'removed', a.address.username, at);
      else if (a.type === 'leave') await putNotice(ctx, tx, g, 'left', c.author.username, at);
      else if (a.type === 'setName') await putNotice(ctx, tx, g, 'renamed', c.author.username, at + info++, a.name);
      else if (a.type === 'setDescription') await putNotice(ctx, tx, g, 'described', c.author.username, at + info++);
      else if (a.type === 'setAvatar') await putNotice(ctx, tx, g, a.avatar ? 'pictured' : 'unpictured', c.author.username, at + info++);
    }
  }
}

/**
 * Brings our keys in line with `g.history.head` after it moved from `before`; returns the record
 * to store (the caller writes it). `added` are the changes newly on the path (for the notices).
 */
export async function afterHistoryChange(ctx: EngineContext, tx: Tx, me: Me, g: GroupRecord, before: GroupState, added: readonly GroupChange[]): Promise<GroupRecord> {
  const head = g.history.head;
  const ours = address(me.username);
  const at = Math.max(g.lastAt + 1, ctx.deps.now());
  await noticesFor(ctx, tx, g, added, at, me.username);
  await reversalNotices(ctx, tx, g, before, added, at, me.username);
  let next: GroupRecord = { ...g, lastAt: added.length > 0 ? at : g.lastAt };
  if (!findMember(head, ours)) {
    const left = added.some((c) => sameAddress(c.author, ours) && c.actions.some((a) => a.type === 'leave'));
    if (findMember(before, ours) && !left) await putNotice(ctx, tx, g, 'you-removed', '', at);
    const { our: _dropped, inviteSecret: _link, linkKey: _key, handoff: _owed, awaiting: _wait, awaitingSince: _since, blobDeferred: _held, sealKeys: _given, sealFrom: _taken, ...rest } = next;
    return { ...rest, distributedTo: [], theirs: [], outgoing: [] };
  }
  // Someone was taken out and the key is not here yet: no blob until it is (key-epochs.ts awaitsEpoch).
  const awaited = [...added].reverse().map(changeId).find((c) => awaitsEpoch(g.history, g.epochs ?? [], c));
  if (awaited && awaited !== next.awaiting) next = { ...next, awaiting: awaited, awaitingSince: ctx.deps.now() };
  // Members someone else brought in after our rotation may hold an older key: ours goes to them.
  await giveEpochToNewcomers(tx, me, next, added);
  // Only admins keep the invite link's secret (README "Groups": invite links).
  if (next.inviteSecret && !isAdmin(head, ours)) {
    const { inviteSecret: _link, linkKey: _key, ...rest } = next;
    next = rest;
  }
  // P21: a key someone outside the group holds is never used again.
  const theirs = next.theirs.filter((t) => findMember(head, t.theirAddress));
  // Their seal keys (sealed sender v3) go with the keys they came with.
  const held = new Set(theirs.map((t) => toHex(t.distributionId)));
  const sealFrom = next.sealFrom && Object.fromEntries(Object.entries(next.sealFrom).filter(([d]) => held.has(d)));
  next = { ...next, theirs, ...(sealFrom ? { sealFrom } : {}) };
  // Back in the group (added again after a removal): a fresh key, to be given to everyone.
  if (!next.our) {
    const { sealKeys: _old, ...rest } = next;
    next = { ...rest, our: createSenderKey({ groupId: groupIdBytes(g), ourAddress: ours }, ctx.deps).state, distributedTo: [] };
  }
  return next;
}

/**
 * Before we send to the group (the user's own action): our sender key in line with the head.
 * Rotated if anyone holding it is no longer a member (P21), else given to members who lack it;
 * the pairwise updates are queued in `tx` ahead of the group message, so they arrive first.
 */
export async function distributeSenderKey(ctx: EngineContext, tx: Tx, me: Me, stored: GroupRecord): Promise<GroupRecord> {
  const head = stored.history.head;
  if (!stored.our) return stored;
  // P36: a member owed a welcome (theirs was dropped when their key changed) gets the current one
  // ahead of our key, to whichever key our key is going to now (group-welcome-owed.ts). A master
  // key we owe for someone's leave goes out first (group-key-epochs.ts).
  const g = (await payOwedWelcomes(tx, me, await payOwedEpoch(ctx, tx, me, stored), sendableNow)).group;
  const our = g.our!;
  // Members we blocked are left out (group-recipients.ts), as Signal does.
  const recipients = await groupRecipients(tx, head, me.username);
  const holders: Address[] = g.distributedTo.map((u) => address(u));
  // P21: a holder no longer a member, or one we blocked since, reads nothing sent from now on.
  const rotate = mustRotateSenderKey(holders, head) || g.distributedTo.some((u) => !recipients.includes(u));
  const newcomers = rotate ? recipients : recipients.filter((r) => !g.distributedTo.includes(r));
  // P43/P41: members get our profile key with our first message (sealed sender v2 needs it),
  // ahead of our sender key; one we have no contact row for yet, only with our sender key.
  await shareProfileKeyWithMembers(ctx, tx, recipients, { withSenderKey: newcomers });
  // Each gets a seal key of its own with our key (group-seal-keys.ts, sealed sender v3).
  if (rotate) {
    const fresh = rotateSenderKey(our, ctx.deps);
    const sealKeys = await giveSenderKey(ctx, tx, groupIdBytes(g), recipients, encodeSenderKeyDistribution(fresh.distribution));
    return { ...g, our: fresh.state, distributedTo: recipients, sealKeys };
  }
  if (newcomers.length === 0) return g;
  const given = await giveSenderKey(ctx, tx, groupIdBytes(g), newcomers, encodeSenderKeyDistribution(senderKeyDistribution(our)));
  return { ...g, distributedTo: [...g.distributedTo, ...newcomers], sealKeys: { ...g.sealKeys, ...given } };
}
