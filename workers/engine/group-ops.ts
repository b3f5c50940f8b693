/**
 * Our own group operations (README "Groups"; SECURITY.md P19, P21): create a group, and write a
 * signed change (add, remove, promote/demote, leave, rename) against our head. The core decides
 * what is allowed (`receiveChange` refuses a change we may not make, and nothing is stored); the
 * change then goes pairwise, inside the 1:1 ratchet, to every member of the old and new state
 * (a removed member learns it was removed), and newcomers get a welcome: the master key and the
 * history. Our sender key follows (group-apply.ts). The state blob is resealed for the host
 * (group-sync.ts) after the commit.
 */
import { address, sameAddress } from '../../src/lib/crypto/group/address';
import { changeId, createChange, encodeGroupChange, type GroupAction } from '../../src/lib/crypto/group/group-change';
import { rotatorOf } from '../../src/lib/crypto/group/key-epochs';
import { encodeWelcomeHistory } from '../../src/lib/crypto/group/group-history-codec';
import { receiveChange, startHistory } from '../../src/lib/crypto/group/group-history';
import { generateMasterKey } from '../../src/lib/crypto/group/group-secret';
import { createGenesis, findMember, Role, type GroupState } from '../../src/lib/crypto/group/group-state';
import { createSenderKey } from '../../src/lib/crypto/group/sender-key';
import { decodeIdentityPublic, identityPublic, type IdentityPublic } from '../../src/lib/crypto/identity';
import { toHex } from '../../src/lib/codec/bytes';
import { fail } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { MAX_HISTORY_BYTES } from '../../src/lib/wire/group-content';
import { getContact } from '../storage/contact-repo';
import { putGroup, txGetGroup, type GroupRecord } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import { lookupUser } from './contacts';
import { requireMe, type EngineContext } from './context';
import { afterHistoryChange, groupIdBytes, putNotice } from './group-apply';
import { queueUpdate } from './group-update-queue';
import { uploadStateBlob } from './group-sync';
import { forgetUndone, undoneToRetry } from './group-undone';
import { blobKey, newEpoch, payOwedEpoch } from './group-key-epochs';
import { engineFail } from './errors';

/**
 * The identity we hold for `raw` (fetched and stored as a contact if new; P3 applies as for 1:1).
 * Through the bundle, not the anonymous lookup (discover.ts): the member is sent the group at
 * once, which tells the host the pair anyway, and a group of many new people must not run into
 * the lookups' per-address limit.
 */
async function identityOf(ctx: EngineContext, raw: string): Promise<{ username: Username; identity: IdentityPublic }> {
  const { username } = await lookupUser(ctx, raw, { openChat: false, fromBundle: true });
  const c = await getContact(ctx.vault, username);
  if (!c) engineFail('NoSuchUser', 'no identity known for that user');
  return { username, identity: decodeIdentityPublic(c.identity) };
}

export async function requireGroup(ctx: EngineContext, id: string): Promise<GroupRecord> {
  if (!/^[0-9a-f]{64}$/.test(id)) fail('InvalidArgument', `group id of ${id.length} characters is not 64 hex digits`);
  const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (!g) engineFail('NoSuchGroup', 'no such group');
  return g;
}

/** Creates a group with us as its only admin, then adds `members` in one signed change. */
export async function createGroup(ctx: EngineContext, name: string, description: string, members: readonly string[]): Promise<string> {
  const me = requireMe(ctx);
  const people = [];
  for (const raw of members) people.push(await identityOf(ctx, raw));
  const genesis = createGenesis({ creator: { address: address(me.username), identity: identityPublic(me.identity) }, name, description }, ctx.deps);
  const id = toHex(genesis.groupId);
  const our = createSenderKey({ groupId: genesis.groupId, ourAddress: address(me.username) }, ctx.deps).state;
  const record: GroupRecord = {
    id,
    history: startHistory(genesis),
    masterKey: generateMasterKey(ctx.deps),
    our,
    distributedTo: [],
    theirs: [],
    lastAt: ctx.deps.now(),
    lastPreview: '',
    unread: 0,
    missing: 0,
    seenVersion: 0,
    outgoing: []
  };
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      await putGroup(tx, record);
      await putNotice(ctx, tx, record, 'created', me.username, record.lastAt);
    })
  );
  if (people.length > 0) {
    await changeGroup(
      ctx,
      id,
      people.map((p) => ({ type: 'addMember', address: address(p.username), identity: p.identity, role: Role.member }))
    );
  } else await uploadStateBlob(ctx, id);
  ctx.events.emit({ type: 'chats' });
  return id;
}

/** Adds people by username (their identities as our contacts know them). */
export async function addMembers(ctx: EngineContext, id: string, raws: readonly string[]): Promise<void> {
  const people = [];
  for (const raw of raws) people.push(await identityOf(ctx, raw));
  await changeGroup(
    ctx,
    id,
    people.map((p) => ({ type: 'addMember', address: address(p.username), identity: p.identity, role: Role.member }))
  );
}

export function removeMember(ctx: EngineContext, id: string, raw: string): Promise<void> {
  return changeGroup(ctx, id, [{ type: 'removeMember', address: address(canonicalUsername(raw)) }]);
}

export function setRole(ctx: EngineContext, id: string, raw: string, role: 'admin' | 'member'): Promise<void> {
  return changeGroup(ctx, id, [{ type: 'setRole', address: address(canonicalUsername(raw)), role }]);
}

export function leaveGroup(ctx: EngineContext, id: string): Promise<void> {
  return changeGroup(ctx, id, [{ type: 'leave' }]);
}

/**
 * Signs `actions` against our head and applies them (P19: refused exactly as any member would
 * refuse them, and then nothing is stored or sent), sends the change pairwise to the members of
 * the state before and after, welcomes newcomers, and rotates or hands out our sender key.
 */
export async function changeGroup(ctx: EngineContext, id: string, actions: readonly GroupAction[], patch?: (g: GroupRecord) => GroupRecord): Promise<void> {
  const me = requireMe(ctx);
  const ours = address(me.username);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g) engineFail('NoSuchGroup', 'no such group');
      const before = g.history.head;
      if (!findMember(before, ours)) engineFail('NotGroupMember', 'we are not a member of this group');
      const change = createChange({ base: before, author: ours, authorIdentity: me.identity, actions });
      const r = receiveChange(g.history, change);
      const after = r.history.head;
      const encoded = encodeGroupChange(change);
      // A removal of ours starts a key epoch: those who stay get the new master key with the
      // change, the removed member only the change (group-key-epochs.ts). Else a key we owe for
      // an earlier leave goes out.
      let moved: GroupRecord = { ...g, history: r.history };
      let fresh: Uint8Array | undefined;
      const rotator = rotatorOf(r.history, changeId(change));
      if (rotator && sameAddress(rotator, ours)) ({ group: moved, key: fresh } = newEpoch(ctx, moved, change));
      else moved = await payOwedEpoch(ctx, tx, me, moved);
      const welcome = { groupId: groupIdBytes(g), masterKey: blobKey(moved), history: encodeWelcomeHistory(r.history, MAX_HISTORY_BYTES) };
      for (const m of audience(before, after)) {
        if (sameAddress(m, ours)) continue;
        if (!findMember(before, m) && findMember(after, m)) await queueUpdate(tx, m.username, welcome);
        else if (fresh && findMember(after, m)) await queueUpdate(tx, m.username, { groupId: groupIdBytes(g), change: encoded, masterKey: fresh });
        else await queueUpdate(tx, m.username, { groupId: groupIdBytes(g), change: encoded });
      }
      const next = await afterHistoryChange(ctx, tx, me, moved, before, r.added);
      await putGroup(tx, patch ? patch(next) : next);
    })
  );
  ctx.events.emit({ type: 'chats' });
  ctx.events.emit({ type: 'group', id });
  ctx.kickOutbox();
  await uploadStateBlob(ctx, id);
}

/** Everyone in either state, each once. */
function audience(before: GroupState, after: GroupState) {
  const out = before.members.map((m) => m.address);
  for (const m of after.members) if (!out.some((a) => sameAddress(a, m.address))) out.push(m.address);
  return out;
}

/**
 * The user's answer to our undone changes (group-undone.ts): 'retry' signs what still applies as
 * one new change through the ordinary path and forgets them; 'dismiss', or a retry with nothing
 * left to do, only forgets them. Nothing is sent without this call.
 */
export async function answerUndone(ctx: EngineContext, id: string, answer: 'retry' | 'dismiss'): Promise<void> {
  const g = await requireGroup(ctx, id);
  const actions = answer === 'retry' ? undoneToRetry(g) : [];
  if (actions.length > 0) return changeGroup(ctx, id, actions, forgetUndone);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const now = await txGetGroup(tx, id);
      if (now) await putGroup(tx, forgetUndone(now));
    })
  );
  ctx.events.emit({ type: 'group', id });
}
