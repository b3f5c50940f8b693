/**
 * What a PIN restore brings back beyond identity and contacts (DESIGN.md §7; SECURITY.md P26, P42,
 * P43, P41, P19–P21), against the REAL host with its built-in realm on loopback: contacts' profile
 * keys (their names come back from their blobs), who is still a message request and who was
 * accepted, chat and group flags, privacy settings, and groups (state from the host's blob, checked against
 * the head the record vouches for; new messages flow both ways after the sender keys are asked
 * again). A group blob that does not reach the trusted head restores nothing.
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { sealStateBlob } from '../../src/lib/crypto/group/state-blob';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { sealedFromAnyone } from '../../workers/engine/sealed-access';
import { getGroup } from '../../workers/storage/group-repo';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { fastStretch } from '../pin/support';
import { eventually, realHostPerTest, texts } from './real-host-support';

const engines: Engine[] = [];
let n = 0;
const SECRET = 'violet tractor umbrella quantum';
const real = realHostPerTest('parley-account-restore-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function open(name: string): Promise<Engine> {
  const url = real.host!.url;
  const recovery = { realms: [{ id: realmIdFromName('parley'), url: `${url}/realm/` }], threshold: 1, fetch: globalThis.fetch, stretch: fastStretch };
  const e = await Engine.open({
    transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor),
    profiles: httpProfiles(url),
    dbName: `account-restore-${name}-${process.pid}-${n++}`,
    locks: memoryLocks(),
    retryMs: 50,
    recovery,
    recordDebounceMs: 20,
    deps: systemDeps
  });
  engines.push(e);
  return e;
}

async function user(name: string, displayName?: string): Promise<Engine> {
  const e = await open(name);
  await e.createAccount(name);
  e.connect();
  if (displayName) await e.setProfile({ displayName, about: '', avatar: null });
  return e;
}

const groupTexts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'text' ? [`${m.sender}: ${m.text}`] : []));

/** Waits until the old browser's debounced record upload has gone out. */
async function recordUploaded(e: Engine): Promise<void> {
  await new Promise((r) => setTimeout(r, 400));
  await e.settle();
}

test('P42 P43 P19 P21 a PIN restore brings back profile keys, request state, chat flags, settings and groups with their flags; group messages flow again', async () => {
  const alice = await user('alice', 'Alice A');
  const bob = await user('bob', 'Bob Builder');
  const carol = await user('carol', 'Carol C');
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });

  // Bob writes first and alice accepts (P42); carol writes and stays a request.
  await bob.lookupUser('alice');
  await bob.sendText('alice', 'hi from bob');
  await carol.lookupUser('alice');
  await carol.sendText('alice', 'hi from carol');
  await eventually(async () => expect((await alice.listChats()).map((c) => `${c.username}:${c.request}`).sort()).toEqual(['bob:true', 'carol:true']));
  await alice.acceptRequest('bob');
  await alice.sendText('bob', 'hello bob');
  await eventually(async () => expect(await texts(bob, 'alice')).toContain('hello bob'));
  // P43: bob's key came with his first text, so his name shows.
  await eventually(async () => expect((await alice.listChats()).find((c) => c.username === 'bob')?.profile?.displayName).toBe('Bob Builder'));
  await alice.setChatFlags('bob', { pinned: true });
  await alice.setChatFlags('carol', { muted: true });
  await alice.setPrivacySettings({ callsOnlyFromContacts: true, sealedFromAnyone: true, relayCalls: true, notifications: 'private', typingIndicators: false, readReceipts: false });
  await alice.setProfile({ displayName: 'Alice A', about: 'on a new browser soon', avatar: null });

  const id = await alice.createGroup('Climbing', 'Saturday', ['bob']);
  await eventually(async () => expect(await bob.listGroups()).toMatchObject([{ id, name: 'Climbing', isMember: true }]));
  await alice.sendGroupText(id, 'first in the group');
  await eventually(async () => expect(await groupTexts(bob, id)).toEqual(['alice: first in the group']));
  // Bob's sender key reached the old browser: he will not send it again unless asked.
  await bob.sendGroupText(id, 'bob was here');
  await eventually(async () => expect(await groupTexts(alice, id)).toEqual(['alice: first in the group', 'bob: bob was here']));
  expect((await getGroup(bob.ctx.vault, id))!.distributedTo).toEqual(['alice']);
  // The group is filed as the chats are (README "Chat list"): its flags ride in the record (version 5).
  await alice.setGroupFlags(id, { pinned: true, muted: true, archived: true });
  await recordUploaded(alice);

  alice.disconnect();
  const fresh = await open('alice-new');
  expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', contacts: 2, groups: 1, groupsMissing: 0 });

  // Requests: bob was accepted and stays a contact; carol is still a request.
  const chats = await fresh.listChats();
  expect(chats.map((c) => `${c.username}:${c.request}:${c.flags.pinned}:${c.flags.muted}`).sort()).toEqual(['bob:false:true:false', 'carol:true:false:true']);
  expect(await fresh.privacySettings()).toEqual({ callsOnlyFromContacts: true, sealedFromAnyone: true, relayCalls: true, notifications: 'private', typingIndicators: false, readReceipts: false });
  expect(await sealedFromAnyone(fresh.ctx)).toBe(true);
  expect(await fresh.myProfile()).toMatchObject({ displayName: 'Alice A', about: 'on a new browser soon' });
  // Messages are not restored; the chat says so.
  expect((await fresh.listMessages('bob')).map((m) => (m.kind === 'notice' ? m.notice : m.kind))).toEqual(['restored']);

  // The group is back, from the host's blob, with the notice about earlier messages.
  expect(await fresh.listGroups()).toMatchObject([{ id, name: 'Climbing', isMember: true, memberCount: 2, flags: { pinned: true, muted: true, archived: true } }]);
  expect((await fresh.listGroupMessages(id)).map((m) => (m.kind === 'notice' ? m.notice : m.text))).toEqual(['restored']);

  fresh.connect();
  // P43: bob's name comes back from his blob with the restored key.
  await eventually(async () => expect((await fresh.listChats()).find((c) => c.username === 'bob')?.profile?.displayName).toBe('Bob Builder'));
  // P21: the restored member's key request reached bob; his next group message carries his key.
  await eventually(async () => expect((await getGroup(bob.ctx.vault, id))!.distributedTo).not.toContain('alice'));
  await bob.sendGroupText(id, 'welcome back');
  await eventually(async () => expect(await groupTexts(fresh, id)).toEqual(['bob: welcome back']));
  await fresh.sendGroupText(id, 'thanks');
  await eventually(async () => expect(await groupTexts(bob, id)).toEqual(['alice: first in the group', 'bob: bob was here', 'bob: welcome back', 'alice: thanks']));
});

test('P19 a group blob that does not pass through the head the record vouches for restores nothing', async () => {
  const alice = await user('alice');
  await user('bob');
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });
  const id = await alice.createGroup('Real', '', ['bob']);
  await recordUploaded(alice);
  // Someone holding the master key (a former member) replaces the blob with another group of the same id.
  const g = (await getGroup(alice.ctx.vault, id))!;
  const forged = await open('forger');
  await forged.createAccount('mallory');
  const otherId = await forged.createGroup('Forged', '', []);
  const other = (await getGroup(forged.ctx.vault, otherId))!;
  const blob = sealStateBlob({ ...other.history, anchor: { ...other.history.anchor, groupId: g.history.anchor.groupId } }, g.masterKey, systemDeps);
  await alice.ctx.transport.putGroupBlob!(blob.address, blob.writeToken, blob.sealed);

  alice.disconnect();
  const fresh = await open('alice-new');
  expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', groups: 0, groupsMissing: 1 });
  expect(await fresh.listGroups()).toEqual([]);
});

test('P19 an invite link the admin made comes back with a PIN restore and still admits people', async () => {
  const alice = await user('alice');
  await user('bob');
  const carol = await user('carol');
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });
  const id = await alice.createGroup('Link club', '', ['bob']);
  const link = await alice.createGroupInviteLink(id, false);
  await recordUploaded(alice);

  alice.disconnect();
  const fresh = await open('alice-new');
  expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', groups: 1 });
  // The restored admin sees the same link, and it still works.
  expect(await fresh.groupInviteLink(id)).toBe(link);
  fresh.connect();
  expect(await carol.joinGroupByInvite(link)).toBe('joined');
  await eventually(async () => expect((await fresh.groupInfo(id)).members.map((m) => m.username).sort()).toEqual(['alice', 'bob', 'carol']));

});

test('P19 a link reset by another admin after the record was written is not restored: the old secret is dropped', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });
  const id = await alice.createGroup('Reset club', '', ['bob']);
  await alice.setGroupRole(id, 'bob', 'admin');
  await alice.createGroupInviteLink(id, false);
  await eventually(async () => expect((await bob.groupInfo(id)).members.find((m) => m.username === 'bob')?.role).toBe('admin'));
  await recordUploaded(alice);
  // The old browser is gone; bob resets the link meanwhile.
  alice.disconnect();
  const fresh = await bob.createGroupInviteLink(id, false);

  const restored = await open('alice-new');
  await eventually(async () => expect(await restored.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', groups: 1 }));
  expect(await restored.groupInviteLink(id)).toBeNull();
  // Not kept either: a stale secret in the vault would go into the next record and restore.
  expect((await getGroup(restored.ctx.vault, id))!.inviteSecret).toBeUndefined();
  expect(await bob.groupInviteLink(id)).toBe(fresh);
});
