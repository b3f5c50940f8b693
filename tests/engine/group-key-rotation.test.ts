/**
 * Master key rotation (workers/engine/group-key-epochs.ts; README "Groups": master key rotation;
 * DESIGN.md §9): a member taken out of a group keeps the master key it had, and with it could read
 * every later state blob (name, description, members) on the host. After a removal or a leave the
 * members who stay move to a new master key, at a new blob address, that the former member never
 * receives. Every blob on the host is tried with each former member's keys.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import { openStateBlob } from '../../src/lib/crypto/group/state-blob';
import { MemoryHost } from '../../workers/engine/memory-host';
import { blobKey } from '../../workers/engine/group-key-epochs';
import { getGroup, putGroup } from '../../workers/storage/group-repo';
import { closeAll, newUser, newUsers, settle, type User } from './support';
import { systemDeps } from '../../src/lib/crypto/deps';
import { asUsername } from '../../src/lib/codec/username';
import { encodeGroupChange } from '../../src/lib/crypto/group/group-change';
import { queueUpdate } from '../../workers/engine/group-update-queue';
import { commit } from '../../workers/storage/vault';
import { AWAIT_KEY_MS, syncFromBlob, uploadStateBlob } from '../../workers/engine/group-sync';
import { makeHandoff } from '../../src/lib/crypto/group/key-handoff';
import { openGroupBlob, sealHandoffBlob } from '../../src/lib/crypto/group/state-blob';
import { stateBlobKeys } from '../../src/lib/crypto/group/group-secret';
import { encodeGroupHistory } from '../../src/lib/crypto/group/group-history-codec';
import { address } from '../../src/lib/crypto/group/address';
import { buildAccountRecord } from '../../workers/engine/pin/record';
import { restoreGroups } from '../../workers/engine/pin/restore-groups';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function keyOf(u: User, id: string): Promise<string> {
  return toHex(blobKey((await getGroup(u.engine.ctx.vault, id))!));
}

/** Every group name any blob on the host shows to someone holding only `keys`. */
function namesReadableWith(host: MemoryHost, id: string, keys: string[]): string[] {
  const names: string[] = [];
  for (const { sealed } of host.groupBlobs.values()) {
    for (const k of keys) {
      try {
        const parts = openStateBlob(sealed, fromHex(k), fromHex(id));
        names.push(parts.anchor.name, ...parts.changes.flatMap((c) => c.actions.flatMap((a) => (a.type === 'setName' ? [a.name] : []))));
      } catch {
        // not this key, or not a state blob
      }
    }
  }
  return names;
}

/** Everyone in `stay` moved off `old` to the same new key, which this returns. */
async function movedTogether(id: string, old: string, ...stay: User[]): Promise<string> {
  const keys = new Set(await Promise.all(stay.map((u) => keyOf(u, id))));
  expect(keys.size).toBe(1);
  const [moved] = [...keys] as [string];
  expect(moved).not.toBe(old);
  return moved;
}

/** The state blob names `name` to the new key's holders and not to the old key's. */
function sealedOnlyFor(host: MemoryHost, id: string, name: string, moved: string, old: string): void {
  expect(namesReadableWith(host, id, [moved])).toContain(name);
  expect(namesReadableWith(host, id, [old])).not.toContain(name);
}

async function group(host: MemoryHost) {
  const users = await newUsers(host, 'ann', 'ben', 'cat', 'dan');
  open.push(...users);
  const [ann, ben, cat, dan] = users as [User, User, User, User];
  const id = await ann.engine.createGroup('Allotment', '', ['ben', 'cat', 'dan']);
  await settle(...users);
  return { users, id, ann, ben, cat, dan };
}

/** ann removes dan while cat is away (cat's mail waits on the host); `first` is the key before. */
async function removedWhileCatAway(host: MemoryHost) {
  const g = await group(host);
  const first = await keyOf(g.cat, g.id);
  await g.cat.engine.disconnect();
  await g.ann.engine.removeGroupMember(g.id, 'dan');
  await settle(g.ann, g.ben, g.dan);
  return { ...g, first };
}

/**
 * dan leaves; ann (the first admin) pays its key, pairwise and with the handoff at the old key's
 * address, while the host keeps ben's copy: ben (an admin) is back online on the old key, waiting.
 */
async function leaveKeyKeptFromBen(host: MemoryHost) {
  const g = await group(host);
  const { users, id, ann, ben, cat, dan } = g;
  await ann.engine.setGroupRole(id, 'ben', 'admin');
  await settle(...users);
  const first = await keyOf(dan, id);
  await dan.engine.leaveGroup(id);
  await settle(...users);
  await ben.engine.disconnect();
  await ann.engine.sendGroupText(id, 'bye dan');
  await settle(ann, cat, dan);
  host.mailboxes.set('ben', []);
  await ben.engine.connect();
  await settle(...users);
  expect(await keyOf(ben, id)).toBe(first);
  return { ...g, first };
}

describe('DESIGN.md §9 a former member cannot read the group state after it was taken out', () => {
  test('a removal: those who stay share a new key at once; the removed member\'s key opens no later name', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, cat, dan } = await group(host);
    const first = await keyOf(cat, id);
    expect(await keyOf(ann, id)).toBe(first);
    await ann.engine.removeGroupMember(id, 'cat');
    await settle(...users);
    const moved = await movedTogether(id, first, ann, ben, dan);
    // cat still has the group (it was told it was removed), under the key it had.
    expect(await keyOf(cat, id)).toBe(first);

    await ann.engine.editGroupInfo(id, { name: 'Plot 7 (no cat)' });
    await settle(...users);
    expect((await ben.engine.groupInfo(id)).name).toBe('Plot 7 (no cat)');
    sealedOnlyFor(host, id, 'Plot 7 (no cat)', moved, first);
  });

  test('a leave: its first admin gives the new key with her next message, not on receiving the leave', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, cat, dan } = await group(host);
    const first = await keyOf(dan, id);
    await dan.engine.leaveGroup(id);
    await settle(...users);
    // A received leave makes nobody write: ann owes the key, and gives it with her next action.
    expect(await keyOf(ann, id)).toBe(first);
    await ann.engine.sendGroupText(id, 'bye dan');
    await settle(...users);
    const moved = await movedTogether(id, first, ann, ben, cat);
    await cat.engine.sendGroupText(id, 'hello');
    await ann.engine.editGroupInfo(id, { name: 'After dan' });
    await settle(...users);
    sealedOnlyFor(host, id, 'After dan', moved, first);
    // Only one new key: ben and cat (not the rotator) made none.
    expect((await getGroup(cat.engine.ctx.vault, id))!.epochs).toHaveLength(1);
  });

  test('a leave: a member waiting for its key writes no state under the old key meanwhile, and writes it once the key came', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, dan } = await group(host);
    await ann.engine.setGroupRole(id, 'ben', 'admin');
    await settle(...users);
    const first = await keyOf(dan, id);
    await dan.engine.leaveGroup(id);
    await settle(...users);
    // ann (the first admin) owes the key and has not acted; ben renames meanwhile.
    await ben.engine.editGroupInfo(id, { name: 'Before the key' });
    await settle(...users);
    expect((await ann.engine.groupInfo(id)).name).toBe('Before the key');
    expect(namesReadableWith(host, id, [first])).not.toContain('Before the key');
    expect((await getGroup(ben.engine.ctx.vault, id))!.blobDeferred).toBe(true);
    // ann's next message brings the key; ben writes what he held back, under it.
    await ann.engine.sendGroupText(id, 'bye dan');
    await settle(...users);
    const moved = await movedTogether(id, first, ann, ben);
    expect((await getGroup(ben.engine.ctx.vault, id))!.blobDeferred).toBeUndefined();
    sealedOnlyFor(host, id, 'Before the key', moved, first);
  });

  test('a newcomer welcomed with the older key by a member still waiting for the new one gets the new key from its rotator', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, first } = await leaveKeyKeptFromBen(host);
    const moved = await keyOf(ann, id);
    expect(moved).not.toBe(first);
    // ben adds eve: his welcome can only carry the key he has.
    const eve = await newUser(host, 'eve');
    open.push(eve);
    await ben.engine.addGroupMembers(id, ['eve']);
    await settle(...users, eve);
    // ann, the leave's rotator, saw eve come in after it and gave her its key: eve is off the old one.
    expect(await keyOf(eve, id)).toBe(moved);
    expect((await eve.engine.groupInfo(id)).members.map((m) => String(m.username))).toContain('eve');
  });

  test('P19 a member the host kept a leave\'s key from does not overwrite the handoff at the old address, and catches up through it', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, cat, first } = await leaveKeyKeptFromBen(host);
    // ben, still on the old key, renames: he writes nothing at the old address (the handoff stays).
    await ben.engine.editGroupInfo(id, { name: 'Renamed by ben' });
    await settle(...users);
    expect(namesReadableWith(host, id, [first])).not.toContain('Renamed by ben');
    expect(await syncFromBlob(ben.engine.ctx, id)).toBe('advanced');
    const moved = await movedTogether(id, first, ann, ben, cat);
    // And the rename he held back is in the blob under the new key, which dan cannot open.
    sealedOnlyFor(host, id, 'Renamed by ben', moved, first);
  });

  test('a leave whose first admin never acts: after AWAIT_KEY_MS the others write under the key they have again', async () => {
    const host = new MemoryHost();
    let offset = 0;
    const deps = { ...systemDeps, now: () => Date.now() + offset };
    const users: User[] = [];
    for (const n of ['ann', 'ben', 'cat', 'dan']) users.push(await newUser(host, n, { deps }));
    open.push(...users);
    const [ann, ben, , dan] = users as [User, User, User, User];
    const id = await ann.engine.createGroup('Allotment', '', ['ben', 'cat', 'dan']);
    await settle(...users);
    await ann.engine.setGroupRole(id, 'ben', 'admin');
    await settle(...users);
    const first = await keyOf(dan, id);
    await dan.engine.leaveGroup(id);
    await settle(...users);
    await ann.engine.disconnect(); // away for good
    await ben.engine.editGroupInfo(id, { name: 'Still waiting' });
    await settle(ben);
    expect(namesReadableWith(host, id, [first])).not.toContain('Still waiting');
    offset = AWAIT_KEY_MS + 1000;
    await ben.engine.editGroupInfo(id, { name: 'Waited long enough' });
    await settle(ben);
    // Not frozen for those who catch up from the blob (the former member can read it too: the limit).
    expect(namesReadableWith(host, id, [first])).toContain('Waited long enough');
    expect((await getGroup(ben.engine.ctx.vault, id))!.blobDeferred).toBeUndefined();
  });

  test('added back, a former member gets the key in use with its welcome', async () => {
    const host = new MemoryHost();
    const { users, id, ann, cat } = await group(host);
    await ann.engine.removeGroupMember(id, 'cat');
    await settle(...users);
    await ann.engine.addGroupMembers(id, ['cat']);
    await settle(...users);
    expect(await keyOf(cat, id)).toBe(await keyOf(ann, id));
    await ann.engine.editGroupInfo(id, { name: 'Cat is back' });
    await settle(...users);
    expect(namesReadableWith(host, id, [await keyOf(cat, id)])).toContain('Cat is back');
  });

  test('P19 a key for a change is taken only from its rotator: a member who sends one first is ignored', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, cat, dan } = await group(host);
    const first = await keyOf(ben, id);
    await cat.engine.leaveGroup(id);
    await settle(...users);
    // ann owes the key for cat's leave; dan (a member, not its rotator) sends ben one first.
    const g = (await getGroup(dan.engine.ctx.vault, id))!;
    const leave = g.history.edges.get(g.history.canonical.at(-1)!)!.change;
    const forged = new Uint8Array(32).fill(9);
    await commit(dan.engine.ctx.vault, (tx) => queueUpdate(tx, asUsername('ben'), { groupId: fromHex(id), change: encodeGroupChange(leave), masterKey: forged }));
    dan.engine.ctx.kickOutbox();
    await settle(...users);
    expect(await keyOf(ben, id)).toBe(first);
    await ann.engine.sendGroupText(id, 'cat left');
    await settle(...users);
    expect(await keyOf(ben, id)).toBe(await keyOf(ann, id));
    expect(await keyOf(ben, id)).not.toBe(toHex(forged));
    expect(await keyOf(ben, id)).not.toBe(first);
  });

  test('P19 two admins remove different members at once: the fork choice keeps one removal, and every member left holds its key', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben } = await group(host);
    await ann.engine.setGroupRole(id, 'ben', 'admin');
    await settle(...users);
    await ann.engine.disconnect();
    await ben.engine.disconnect();
    await ann.engine.removeGroupMember(id, 'cat');
    await ben.engine.removeGroupMember(id, 'dan');
    await ann.engine.connect();
    await ben.engine.connect();
    await settle(...users);
    await settle(...users);
    const heads = await Promise.all(users.map(async (u) => (await u.engine.groupInfo(id)).members.map((m) => String(m.username)).sort().join()));
    const stayed = users.filter((u) => heads[0]!.split(',').includes(u.name));
    expect(stayed).toHaveLength(3);
    const keys = new Set(await Promise.all(stayed.map((u) => keyOf(u, id))));
    expect(keys.size).toBe(1);
    // The one taken out cannot read the name set after.
    const out = users.find((u) => !stayed.includes(u))!;
    await ann.engine.editGroupInfo(id, { name: 'Settled' });
    await settle(...users);
    expect(namesReadableWith(host, id, [...keys])).toContain('Settled');
    expect(namesReadableWith(host, id, [await keyOf(out, id)])).not.toContain('Settled');
  });

  test('P19 a member the host kept the removal and its key from catches up through the handoff at its old key\'s address', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben, cat, dan, first } = await removedWhileCatAway(host);
    await ann.engine.editGroupInfo(id, { name: 'Renamed after dan' });
    await settle(ann, ben, dan);
    // The host withholds everything sent to cat meanwhile: the removal, its key, the rename.
    expect(host.mailboxes.get('cat')?.length).toBeGreaterThan(0);
    host.mailboxes.set('cat', []);
    await cat.engine.connect();
    await settle(...users);
    expect(await keyOf(cat, id)).toBe(first);
    expect(await syncFromBlob(cat.engine.ctx, id)).toBe('advanced');
    expect(await keyOf(cat, id)).toBe(await keyOf(ann, id));
    const info = await cat.engine.groupInfo(id);
    expect(info.name).toBe('Renamed after dan');
    expect(info.members.map((m) => String(m.username)).sort()).toEqual(['ann', 'ben', 'cat']);
    // dan, reading the same handoff with the key he had, learns only that he was removed.
    await syncFromBlob(dan.engine.ctx, id);
    expect((await dan.engine.groupInfo(id)).name).not.toBe('Renamed after dan');
    expect(namesReadableWith(host, id, [first])).not.toContain('Renamed after dan');
  });

  /** dan's forged handoff: the real history up to his removal, a key he chose, signed by him. */
  async function forgedHandoff(dan: User, id: string, first: string) {
    const d = (await getGroup(dan.engine.ctx.vault, id))!;
    const removal = d.history.canonical.at(-1)!;
    const forgedKey = new Uint8Array(32).fill(5);
    const handoff = makeHandoff(
      { groupId: fromHex(id), change: removal, history: encodeGroupHistory(d.history, { branches: false }), after: d.history.head, key: forgedKey, rotator: { address: address('dan'), identity: dan.engine.ctx.me!.identity } },
      dan.engine.ctx.deps
    );
    return { forgedKey, blob: sealHandoffBlob(handoff, fromHex(first), forgedKey, fromHex(id), dan.engine.ctx.deps) };
  }

  test('P19 once the handoff is written, the former member (who kept the old key and its write token) cannot replace it', async () => {
    const host = new MemoryHost();
    const { users, id, ann, cat, dan, first } = await removedWhileCatAway(host);
    host.mailboxes.set('cat', []);
    const { blob } = await forgedHandoff(dan, id, first);
    // The handoff passed the old address on to a token from the new key: dan's old token is refused.
    await expect(dan.engine.ctx.transport.putGroupBlob!(blob.address, blob.writeToken, blob.sealed)).rejects.toThrow(/write token/);
    await expect(dan.engine.ctx.transport.putGroupBlob!(blob.address, blob.writeToken, blob.sealed, blob.nextToken)).rejects.toThrow(/write token/);
    await cat.engine.connect();
    await settle(...users);
    await syncFromBlob(cat.engine.ctx, id);
    // So cat, who missed the pairwise key, still catches up through ann's handoff.
    expect((await cat.engine.groupInfo(id)).members.map((m) => String(m.username))).not.toContain('dan');
    expect(await keyOf(cat, id)).toBe(await keyOf(ann, id));
    expect(await keyOf(cat, id)).not.toBe(first);
  });

  test('P19 a handoff the former member got in first (or a host serves) gives nobody its key', async () => {
    const host = new MemoryHost();
    const { users, id, cat, dan, first } = await removedWhileCatAway(host);
    host.mailboxes.set('cat', []);
    const { forgedKey, blob } = await forgedHandoff(dan, id, first);
    host.groupBlobs.set(toHex(blob.address), { sealed: blob.sealed, token: toHex(blob.nextToken) });
    await cat.engine.connect();
    await settle(...users);
    await syncFromBlob(cat.engine.ctx, id);
    // cat learns the removal (its signatures are ann's) but takes no key: the handoff is not signed by ann.
    expect((await cat.engine.groupInfo(id)).members.map((m) => String(m.username))).not.toContain('dan');
    expect(await keyOf(cat, id)).toBe(first);
    expect(await keyOf(cat, id)).not.toBe(toHex(forgedKey));
  });

  test('P19 a rotator whose handoff write went through but whose record kept the flag writes it again with the new token', async () => {
    const host = new MemoryHost();
    const { id, ann, first } = await removedWhileCatAway(host);
    const a = (await getGroup(ann.engine.ctx.vault, id))!;
    const oldAddress = toHex(stateBlobKeys(fromHex(first), fromHex(id)).address);
    const written = host.groupBlobs.get(oldAddress)!;
    expect(openGroupBlob(written.sealed, fromHex(first), fromHex(id))).toHaveProperty('handoff');
    // The record still owes the handoff (as after a crash between the PUT and the commit).
    await commit(ann.engine.ctx.vault, (tx) => putGroup(tx, { ...a, handoff: { change: a.history.canonical.at(-1)!, oldKey: fromHex(first) } }));
    host.groupBlobs.set(oldAddress, { ...written, sealed: new Uint8Array(written.sealed.length) });
    expect(await uploadStateBlob(ann.engine.ctx, id)).toBe(true);
    expect(openGroupBlob(host.groupBlobs.get(oldAddress)!.sealed, fromHex(first), fromHex(id))).toHaveProperty('handoff');
    expect((await getGroup(ann.engine.ctx.vault, id))!.handoff).toBeUndefined();
  });

  test('DESIGN.md §7 a PIN restore from a record made before the key rotated follows the handoff to the current state', async () => {
    const host = new MemoryHost();
    const { users, id, ann, cat } = await group(host);
    const before = (await buildAccountRecord(cat.engine.ctx)).groups;
    expect(before).toHaveLength(1);
    await ann.engine.removeGroupMember(id, 'dan');
    await settle(...users);
    await ann.engine.editGroupInfo(id, { name: 'After the backup' });
    await settle(...users);
    // The record the restore has still names the old key; this browser's copy of the group is gone.
    await cat.engine.ctx.vault.db.delete('groups' as never, id as never);
    expect(await getGroup(cat.engine.ctx.vault, id)).toBeUndefined();
    const r = await restoreGroups(cat.engine.ctx, before);
    expect(r).toMatchObject({ restored: 1, missing: 0 });
    expect(await keyOf(cat, id)).toBe(await keyOf(ann, id));
    expect((await cat.engine.groupInfo(id)).name).toBe('After the backup');
    // And the record written now names the current key.
    expect(toHex((await buildAccountRecord(cat.engine.ctx)).groups[0]!.masterKey)).toBe(await keyOf(ann, id));
  });

  test('P19 an admin\'s invite link keeps its blob writable across a rotation and a PIN restore', async () => {
    const host = new MemoryHost();
    const { users, id, ann, ben } = await group(host);
    const link = await ann.engine.createGroupInviteLink(id, false);
    await settle(...users);
    await ann.engine.removeGroupMember(id, 'dan');
    await settle(...users);
    const record = (await buildAccountRecord(ann.engine.ctx)).groups[0]!;
    expect(record.inviteSecret).toBeDefined();
    expect(record.linkKey).toBeDefined();
    await ann.engine.ctx.vault.db.delete('groups' as never, id as never);
    expect(await restoreGroups(ann.engine.ctx, [record])).toMatchObject({ restored: 1 });
    await ann.engine.editGroupInfo(id, { name: 'Seen through the link' });
    await settle(...users);
    // A link holder sees the new name: the restored admin could still replace the link's blob.
    expect((await ben.engine.previewGroupInvite(link)).name).toBe('Seen through the link');
  });
});
