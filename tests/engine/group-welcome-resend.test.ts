/**
 * SECURITY.md P36 and a dropped group welcome (README "Groups": a member's changed safety
 * number): a welcome queued for a member before their key changed is never sent to the new key,
 * but the group remembers it owes them one. Once the user's own action makes the new key one we
 * send to — Accept (or verify), or for an unverified contact our next group message, which hands
 * that key our sender key anyway — the CURRENT group state goes to the key trusted then, so the
 * member can read what we write after. Not before; not to a removed member, a group we left or a
 * blocked member; once per group per accepted key, however often a host makes keys up.
 *
 * "bob on a new phone" is a real engine registering bob's name again under a new identity (what a
 * host handing out a new key looks like to alice); the Impostor (tests/engine/impostor.ts) is the
 * host's own made-up bob, used where a test counts what reached a key.
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { receiveEnvelope } from '../../workers/engine/inbox';
import { getGroup } from '../../workers/storage/group-repo';
import { listOutbox } from '../../workers/storage/outbox-repo';
import { decodeContent } from '../../src/lib/wire/content';
import { decodeGroupUpdate, type GroupUpdate } from '../../src/lib/wire/group-content';
import type { Username } from '../../src/lib/codec/username';
import { toHex } from '../../src/lib/codec/bytes';
import { Impostor } from './impostor';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function people(host: MemoryHost, verified: boolean): Promise<{ alice: User; bob: User; carol: User }> {
  const [alice, bob, carol] = [await newUser(host, 'alice'), await newUser(host, 'bob'), await newUser(host, 'carol')];
  open.push(alice, bob, carol);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hello bob');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hello alice');
  await settle(alice, bob);
  if (verified) await alice.engine.markVerified('bob', { safetyNumber: (await alice.engine.contactInfo('bob')).safetyNumber });
  return { alice, bob, carol };
}

/** Alice's vault takes in whatever waits for her (offline) before her outbox runs again. */
async function receivePending(host: MemoryHost, alice: User): Promise<void> {
  for (const env of host.pending(alice.name as Username)) await alice.engine.ctx.serial(() => receiveEnvelope(alice.engine.ctx, env));
}

/** Bob registers his name again with a new identity and writes to (offline) alice, who sees the change. */
async function bobOnNewPhone(host: MemoryHost, alice: User, old: User): Promise<User> {
  await old.engine.close();
  open = open.filter((u) => u !== old);
  host.accounts.delete('bob');
  const bob = await newUser(host, 'bob');
  open.push(bob);
  await bob.engine.sendText('alice', 'new phone');
  await settle(bob);
  await receivePending(host, alice);
  return bob;
}

/** The host's made-up bob speaks to offline alice first; her vault takes the new key in. */
async function impostorSeen(host: MemoryHost, alice: User): Promise<Impostor> {
  const impostor = new Impostor(host, 'bob', 'alice');
  const env = impostor.send({ kind: 'text', id: '11'.repeat(16), sentAt: Date.now(), text: 'new phone' });
  await alice.engine.ctx.serial(() => receiveEnvelope(alice.engine.ctx, env));
  return impostor;
}

/** Groups whose welcome waits in `u`'s outbox for `to`, not yet encrypted. */
async function queuedWelcomes(u: User, to: string): Promise<string[]> {
  const out: string[] = [];
  for (const item of await listOutbox(u.engine.ctx.vault)) {
    if (item.username !== to || !item.content) continue;
    const c = decodeContent(item.content);
    if (c.kind !== 'group') continue;
    const g = decodeGroupUpdate(c.update);
    if (g.masterKey && g.history) out.push(toHex(g.groupId));
  }
  return out.sort();
}
const groupIds = async (u: User) => (await u.engine.listGroups()).map((g) => g.id).sort();
const groupTexts = async (u: User, id: string) => (await u.engine.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
/** Group updates each impostor's key could read so far (its session opens each envelope once). */
const readBy = new Map<Impostor, GroupUpdate[]>();
/** Welcomes (master key and history) for `id` that reached the impostor's key, all so far. */
/**
 * Alice, offline, makes the group 'Climbing' with bob and carol; bob's key changes (a new phone)
 * before she connects, so her welcome to him is written for his old key.
 */
async function groupAcrossKeyChange(host: MemoryHost): Promise<{ alice: User; bob: User; carol: User; id: string }> {
  const { alice, bob: oldBob, carol } = await people(host, false);
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  const bob = await bobOnNewPhone(host, alice, oldBob);
  alice.engine.connect();
  return { alice, bob, carol, id };
}

function welcomes(impostor: Impostor, id: string): GroupUpdate[] {
  const updates = [...(readBy.get(impostor) ?? []), ...impostor.readAll().flatMap((c) => (c.kind === 'group' ? [decodeGroupUpdate(c.update)] : []))];
  readBy.set(impostor, updates);
  return updates.filter((u) => u.masterKey && u.history && toHex(u.groupId) === id);
}

test('P36 a group welcome dropped by an unverified member\'s key change is not sent before Accept; after Accept the new key gets the current group and reads what we send', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol, id } = await groupAcrossKeyChange(host);
  await settle(alice, bob, carol);
  expect(await groupIds(carol)).toEqual([id]);
  expect(await groupIds(bob)).toEqual([]);
  expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toEqual(['bob']);
  // The group moves on meanwhile: what bob gets after Accept is its state then, not the dropped bytes.
  await alice.engine.editGroupInfo(id, { name: 'Bouldering' });
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([]);

  await alice.engine.acceptIdentityChange('bob');
  await settle(alice, bob, carol);
  expect((await bob.engine.listGroups()).map((g) => [g.id, g.name])).toEqual([[id, 'Bouldering']]);
  expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toBeUndefined();
  await alice.engine.sendGroupText(id, 'after accepting');
  await settle(alice, bob, carol);
  expect(await groupTexts(bob, id)).toEqual(['after accepting']);
  expect(await groupTexts(carol, id)).toEqual(['after accepting']);
});

test('P36 a verified member\'s changed key gets no group while the change is pending, even with our group messages; after Accept the current group, and only what we send after', async () => {
  const host = new MemoryHost();
  const { alice, bob: oldBob, carol } = await people(host, true);
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  await alice.engine.sendGroupText(id, 'before the change');
  const bob = await bobOnNewPhone(host, alice, oldBob);
  alice.engine.connect();
  await settle(alice, bob, carol);
  await alice.engine.sendGroupText(id, 'while pending');
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([]);
  expect(await groupTexts(carol, id)).toEqual(['before the change', 'while pending']);

  await alice.engine.acceptIdentityChange('bob');
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([id]);
  await alice.engine.sendGroupText(id, 'after accepting');
  await settle(alice, bob, carol);
  expect(await groupTexts(bob, id)).toEqual(['after accepting']);
});

test('P36 an unverified member\'s new key gets the current group with our next group message, the rule under which it gets our sender key', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol, id } = await groupAcrossKeyChange(host);
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([]);
  await alice.engine.sendGroupText(id, 'written after the change');
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([id]);
  expect(await groupTexts(bob, id)).toEqual(['written after the change']);
});

test('P36 two groups owing a welcome both send theirs after Accept; a member removed meanwhile and a group we left send none', async () => {
  const host = new MemoryHost();
  const { alice, bob: oldBob, carol } = await people(host, false);
  alice.engine.disconnect();
  const one = await alice.engine.createGroup('One', '', ['bob', 'carol']);
  const two = await alice.engine.createGroup('Two', '', ['bob']);
  const removed = await alice.engine.createGroup('Removed', '', ['bob', 'carol']);
  const left = await alice.engine.createGroup('Left', '', ['bob', 'carol']);
  const bob = await bobOnNewPhone(host, alice, oldBob);
  alice.engine.connect();
  await settle(alice, bob, carol);
  for (const id of [one, two, removed, left]) expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toEqual(['bob']);
  await alice.engine.removeGroupMember(removed, 'bob');
  await alice.engine.setGroupRole(left, 'carol', 'admin');
  await alice.engine.leaveGroup(left);
  await settle(alice, bob, carol);

  // Offline, so what Accept queues can be read before it leaves.
  alice.engine.disconnect();
  await alice.engine.acceptIdentityChange('bob');
  expect(await queuedWelcomes(alice, 'bob')).toEqual([one, two].sort());
  for (const id of [one, two, removed, left]) expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toBeUndefined();
  alice.engine.connect();
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([one, two].sort());
});

test('P36 a blocked member gets no owed welcome on Accept; unblocking sends the current one to the accepted key', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol, id } = await groupAcrossKeyChange(host);
  await settle(alice, bob, carol);
  await alice.engine.block('bob');
  await alice.engine.acceptIdentityChange('bob');
  await alice.engine.sendGroupText(id, 'while blocked');
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([]);
  expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toEqual(['bob']);

  await alice.engine.unblock('bob');
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([id]);
});

test('P36 a host making up key after key gets one welcome per group per key the user accepted, none for a key not accepted', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol } = await people(host, false);
  // The real bob is away: what alice encrypts to made-up keys would otherwise make him ask her to
  // resend (retry.ts), under his own key, and that race would decide which key she trusts.
  await bob.engine.close();
  open = open.filter((u) => u !== bob);
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  const first = await impostorSeen(host, alice);
  alice.engine.connect();
  await settle(alice, carol);
  expect(welcomes(first, id)).toHaveLength(0);

  // Accepted while offline, the fresh welcome waits for the first fake key; a second one comes first.
  alice.engine.disconnect();
  await alice.engine.acceptIdentityChange('bob');
  const second = await impostorSeen(host, alice);
  alice.engine.connect();
  await settle(alice, carol);
  expect(welcomes(first, id)).toHaveLength(0);
  expect(welcomes(second, id)).toHaveLength(0);

  await alice.engine.acceptIdentityChange('bob');
  await settle(alice, carol);
  await alice.engine.acceptIdentityChange('bob');
  await alice.engine.sendGroupText(id, 'one');
  await alice.engine.sendGroupText(id, 'two');
  await settle(alice, carol);
  expect(welcomes(second, id)).toHaveLength(1);
  expect(welcomes(first, id)).toHaveLength(0);

  // A third key, after the welcome left: nothing is owed, so it gets no welcome, accepted or not.
  alice.engine.disconnect();
  const third = await impostorSeen(host, alice);
  alice.engine.connect();
  await settle(alice, carol);
  await alice.engine.acceptIdentityChange('bob');
  await alice.engine.sendGroupText(id, 'three');
  await settle(alice, carol);
  expect(welcomes(third, id)).toHaveLength(0);
  expect(welcomes(second, id)).toHaveLength(1);
});

test('P36 rejecting a made-up key sends the owed welcome to the key trusted again, never to the rejected one', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol } = await people(host, false);
  // The real bob is offline while the host speaks as him (he would otherwise ask alice to resend).
  bob.engine.disconnect();
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  const impostor = await impostorSeen(host, alice);
  alice.engine.connect();
  await settle(alice, carol);
  expect((await getGroup(alice.engine.ctx.vault, id))!.welcomeOwed).toEqual(['bob']);

  await alice.engine.rejectIdentityChange('bob');
  await settle(alice, carol);
  bob.engine.connect();
  await settle(alice, bob, carol);
  expect(await groupIds(bob)).toEqual([id]);
  expect(welcomes(impostor, id)).toHaveLength(0);
  await alice.engine.sendGroupText(id, 'after rejecting');
  await settle(alice, bob, carol);
  expect(await groupTexts(bob, id)).toEqual(['after rejecting']);
  expect(welcomes(impostor, id)).toHaveLength(0);
});
