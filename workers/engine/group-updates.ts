/**
 * Receiving a pairwise group update (content kind 0x09, README "Groups"; SECURITY.md P19, P21),
 * inside the receive transaction of the 1:1 envelope that carried it, so the update and the
 * ratchet step commit together.
 *
 *   welcome for a group we do not have: kept only if the sender and we are both members of the
 *     history's head (the sender vouches for the anchor, as an authenticated welcome);
 *   welcome or change for a group we have: its changes are MERGED (`receiveChange(s)`); one the
 *     core refuses (non-admin, unknown author, rolled back, another group) changes nothing;
 *   a sender key distribution: taken only from a member of our head for its own address; in a
 *     group we accepted, it is answered once per profile key version with our profile key, so
 *     a member who only reads can still be sent to sealed (P41, P43; group-profile-key.ts);
 *   a key request (a member restored its account): our next group message gives it our key;
 *   a master key with a change: the key of that change's epoch, taken only from its rotator
 *     (group-key-epochs.ts); with a welcome back into a group we had left, our new base key.
 *
 * Refusals are reported as codes and never stop the envelope's ack.
 */
import { address, type Address } from '../../src/lib/crypto/group/address';
import { decodeGroupChange, type GroupChange } from '../../src/lib/crypto/group/group-change';
import { decodeGroupHistory } from '../../src/lib/crypto/group/group-history-codec';
import { canonicalChanges, receiveChange, receiveChanges } from '../../src/lib/crypto/group/group-history';
import { findMember, type GroupState } from '../../src/lib/crypto/group/group-state';
import { acceptSenderKeyDistribution, createSenderKey, type TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { decodeSenderKeyDistribution } from '../../src/lib/crypto/group/sender-key-message';
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { decodeGroupUpdate, type GroupUpdate } from '../../src/lib/wire/group-content';
import { putGroup, txGetGroup, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import { requireMe, type EngineContext } from './context';
import type { EngineEvent } from './events';
import { afterHistoryChange, putNotice } from './group-apply';
import { noteUndone, voidedOurs } from './group-undone';
import { welcomeLinkJoiners } from './group-invite-welcome';
import { shareProfileKeyWithMembers } from './group-profile-key';
import { adderOf, requestFrom } from './group-request-state';
import { underChangedKey } from './trust';
import { txGetContact } from '../storage/contact-repo';
import { takeEpoch } from './group-key-epochs';
import { awaitingKey } from './group-sync';

/** Distributions kept per sender: the newest and the one before (its late messages still open). */
const KEYS_PER_SENDER = 2;

export interface UpdateOutcome {
  events: EngineEvent[];
  /** A group whose blob should be resealed or fetched after the commit. */
  refused?: string;
  /** A group whose state and invite blobs we (an admin) should reseal after the commit. */
  reseal?: string;
}

/** `identity`: the sender's pairwise identity key the update came under (inbox.ts). */
export async function receiveGroupUpdate(ctx: EngineContext, tx: Tx, sender: Username, bytes: Uint8Array, identity: Uint8Array): Promise<UpdateOutcome> {
  const me = requireMe(ctx);
  const u = decodeGroupUpdate(bytes);
  const id = toHex(u.groupId);
  let g = await txGetGroup(tx, id);
  const from = address(sender);
  let refused: string | undefined;
  let reseal: string | undefined;
  if (!g) {
    if (!u.masterKey || !u.history) return { events: [], refused: 'NoSuchGroup' };
    const history = decodeGroupHistory(u.history);
    if (!bytesEqual(history.anchor.groupId, u.groupId)) return { events: [], refused: 'WrongGroup' };
    if (!findMember(history.head, from) || !findMember(history.head, address(me.username))) return { events: [], refused: 'NotMember' };
    const now = ctx.deps.now();
    // P42: added by someone we have not accepted, it is a group request (group-request-state.ts).
    const adder = await requestFrom(tx, history, me.username, sender);
    g = {
      id,
      history,
      masterKey: u.masterKey,
      our: createSenderKey({ groupId: u.groupId, ourAddress: address(me.username) }, ctx.deps).state,
      distributedTo: [],
      theirs: [],
      lastAt: now,
      lastPreview: '',
      unread: 0,
      missing: 0,
      seenVersion: history.head.version,
      outgoing: [],
      ...(adder ? { requestFrom: adder } : {})
    };
    // "ann added you" (as Signal) when someone added us; "You joined" when we came in ourselves.
    const addedBy = adderOf(history, me.username, sender);
    if (addedBy && addedBy !== me.username) await putNotice(ctx, tx, g, 'added-you', addedBy, now);
    else await putNotice(ctx, tx, g, 'joined', me.username, now);
    // Our key goes to the members with our first group message (group-apply.ts distributeSenderKey).
    g = await afterHistoryChange(ctx, tx, me, g, history.head, []);
  } else {
    const before = g.history.head;
    const known = new Set(g.history.canonical);
    let history = g.history;
    let change: GroupChange | undefined;
    try {
      if (u.history) history = receiveChanges(history, canonicalChanges(decodeGroupHistory(u.history))).history;
      if (u.change) history = receiveChange(history, (change = decodeGroupChange(u.change))).history;
    } catch (e) {
      if (!isCodedError(e)) throw e;
      refused = e.code;
    }
    if (history !== g.history) {
      const added = canonicalChanges(history).filter((_, i) => !known.has(history.canonical[i]!));
      const voided = voidedOurs(g.history, history, me.username);
      g = await afterHistoryChange(ctx, tx, me, { ...g, history }, before, added);
      g = await noteUndone(ctx, tx, g, voided, Math.max(g.lastAt, ctx.deps.now()));
      if (await welcomeLinkJoiners(tx, me, g, added)) reseal = id;
    }
    g = takeMasterKey(g, u, change, before, from, address(me.username));
    // The key we waited for came (or the wait ended): the blob we held back is written now (group-sync.ts).
    if (g.blobDeferred && !awaitingKey(g, ctx.deps.now())) reseal = id;
  }
  // A member that restored its account lost our sender key: it gets it with our next group
  // message (distributeSenderKey's newcomers), from then on only (P21); nothing is sent now.
  if (u.keyRequest && findMember(g.history.head, from)) g = { ...g, distributedTo: g.distributedTo.filter((x) => x !== sender) };
  if (u.distribution) {
    try {
      const k = acceptSenderKeyDistribution({ group: g.history.head, from, distribution: decodeSenderKeyDistribution(u.distribution) });
      const theirs = keep(g, k);
      // P36/P3: remember which identity gave each held key; what its messages show depends on it.
      const held = new Set(theirs.map((t) => toHex(t.distributionId)));
      const keyFrom = Object.fromEntries(Object.entries(g.keyFrom ?? {}).filter(([d]) => held.has(d)));
      // Sealed sender v3: the seal key that came with it lives and goes with that key (group-seal-keys.ts).
      const sealFrom = Object.fromEntries(Object.entries(g.sealFrom ?? {}).filter(([d]) => held.has(d) && d !== toHex(k.distributionId)));
      if (u.sealKey) sealFrom[toHex(k.distributionId)] = u.sealKey;
      g = { ...g, theirs, keyFrom: { ...keyFrom, [toHex(k.distributionId)]: identity }, sealFrom };
      await answerWithProfileKey(ctx, tx, g, sender, identity);
    } catch (e) {
      if (!isCodedError(e)) throw e;
      refused = e.code;
    }
  }
  await putGroup(tx, g);
  return { events: [{ type: 'group', id }, { type: 'chats' }], ...(refused ? { refused } : {}), ...(reseal ? { reseal } : {}) };
}

/**
 * A member who wrote to the group (their sender key came to us) gets our profile key, once per
 * version, so their next group message can be sealed to us too: without it, one member who never
 * writes keeps every other member's messages on the fan-out that names its sender (P41). P42: not
 * in a group we have not accepted (shared on Accept, group-requests.ts). P36/P3: not to an identity
 * that changed and was not accepted: a host posing as a member under a new key must not be handed
 * our profile key by an automatic reply. Blocked contacts never get it (group-profile-key.ts).
 */
async function answerWithProfileKey(ctx: EngineContext, tx: Tx, g: GroupRecord, sender: Username, identity: Uint8Array): Promise<void> {
  if (g.requestFrom || !findMember(g.history.head, address(requireMe(ctx).username))) return;
  if (underChangedKey(await txGetContact(tx, sender), identity)) return;
  await shareProfileKeyWithMembers(ctx, tx, [sender]);
}

/**
 * A master key in an update for a group we have (group-key-epochs.ts): bound to the change it
 * came with, kept only from that change's rotator; with a history and no change, a welcome back
 * into a group we had been taken out of, from a member: our new base key, older epochs dropped.
 */
function takeMasterKey(g: GroupRecord, u: GroupUpdate, change: GroupChange | undefined, before: GroupState, from: Address, ours: Address): GroupRecord {
  if (!u.masterKey) return g;
  if (change) return takeEpoch(g, change, u.masterKey, from, ours);
  if (!u.history || findMember(before, ours) || !findMember(g.history.head, ours) || !findMember(g.history.head, from)) return g;
  const { epochs: _old, ...rest } = g;
  return { ...rest, masterKey: u.masterKey.slice() };
}

/** The new key first, then the sender's older ones, at most KEYS_PER_SENDER of theirs. */
function keep(g: GroupRecord, k: TheirSenderKey): TheirSenderKey[] {
  const same = (t: TheirSenderKey) => t.theirAddress.username === k.theirAddress.username && t.theirAddress.device === k.theirAddress.device;
  const mine = g.theirs.filter((t) => same(t) && !bytesEqual(t.distributionId, k.distributionId)).slice(0, KEYS_PER_SENDER - 1);
  return [k, ...mine, ...g.theirs.filter((t) => !same(t))];
}
