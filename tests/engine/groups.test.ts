/**
 * Groups end to end through the engine (README "Groups"; SECURITY.md P19, P20, P21): four engines
 * on an in-memory host create a group, chat, remove one member and see one leave. Sender keys go
 * pairwise inside the ratchet; each group message is ONE upload the host fans out.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUsers, settle, type User } from './support';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { getGroup } from '../../workers/storage/group-repo';
import { groupDecrypt } from '../../src/lib/crypto/group/sender-key';
import { systemDeps } from '../../src/lib/crypto/deps';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function people(host: MemoryHost, ...names: string[]): Promise<User[]> {
  const out = await newUsers(host, ...names);
  open.push(...out);
  return out;
}

const groupTexts = async (u: User, id: string) =>
  (await u.engine.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'text' ? [`${m.sender}: ${m.text}`] : []));

describe('groups', () => {
  test('P21 four people: create, chat, remove one (who reads nothing after), leave', async () => {
    const host = new MemoryHost();
    const [ann, ben, cat, dan] = await people(host, 'ann', 'ben', 'cat', 'dan');
    const id = await ann!.engine.createGroup('Climbing', 'Saturday plans', ['ben', 'cat', 'dan']);
    await settle(ann!, ben!, cat!, dan!);
    for (const u of [ben!, cat!, dan!]) {
      const groups = await u.engine.listGroups();
      expect(groups).toMatchObject([{ id, name: 'Climbing', memberCount: 4, isMember: true }]);
    }
    const info = await ben!.engine.groupInfo(id);
    expect(info.members.map((m) => `${m.username}:${m.role}`)).toEqual(['ann:admin', 'ben:member', 'cat:member', 'dan:member']);
    expect(info.members.find((m) => m.username === 'ann')!.safetyNumber).toMatch(/^\d{60}$/);

    const uploads = host.groupUploads.length;
    await ann!.engine.sendGroupText(id, 'hello all');
    await settle(ann!, ben!, cat!, dan!);
    await ben!.engine.sendGroupText(id, 'hi ann');
    await settle(ann!, ben!, cat!, dan!);
    await cat!.engine.sendGroupText(id, 'me too');
    await settle(ann!, ben!, cat!, dan!);
    // One upload per message, whatever the member count.
    expect(host.groupUploads.length - uploads).toBe(3);
    expect(host.groupUploads.at(-2)!.to.sort()).toEqual(['ann', 'cat', 'dan']);
    for (const u of [ann!, ben!, cat!, dan!]) expect(await groupTexts(u, id)).toEqual(['ann: hello all', 'ben: hi ann', 'cat: me too']);

    // What a removed member keeps: every sender key it held (a modified client would keep using them).
    const dansKeys = (await getGroup(dan!.engine.ctx.vault, id))!.theirs;
    expect(dansKeys).toHaveLength(3);
    await ann!.engine.removeGroupMember(id, 'dan');
    await settle(ann!, ben!, cat!, dan!);
    expect((await dan!.engine.listGroups())[0]!.isMember).toBe(false);
    expect((await cat!.engine.groupInfo(id)).members.map((m) => m.username)).toEqual(['ann', 'ben', 'cat']);
    await cat!.engine.sendGroupText(id, 'dan is gone');
    await ann!.engine.sendGroupText(id, 'yes');
    await settle(ann!, ben!, cat!, dan!);
    expect(await groupTexts(ben!, id)).toEqual(['ann: hello all', 'ben: hi ann', 'cat: me too', 'cat: dan is gone', 'ann: yes']);
    // Dan gets no upload any more and could read none of them.
    for (const up of host.groupUploads.slice(-2)) {
      expect(up.to).not.toContain('dan');
      // P21: even handed the upload, none of the keys Dan kept opens it (the senders rotated).
      for (const k of dansKeys) expect(() => groupDecrypt(k, up.body, systemDeps)).toThrow();
    }
    expect(await groupTexts(dan!, id)).toEqual(['ann: hello all', 'ben: hi ann', 'cat: me too']);
    await expect(dan!.engine.sendGroupText(id, 'still here?')).rejects.toMatchObject({ code: 'NotGroupMember' });

    await cat!.engine.leaveGroup(id);
    await settle(ann!, ben!, cat!, dan!);
    expect((await ann!.engine.groupInfo(id)).members.map((m) => m.username)).toEqual(['ann', 'ben']);
    await ben!.engine.sendGroupText(id, 'just us');
    await settle(ann!, ben!, cat!, dan!);
    expect(await groupTexts(ann!, id)).toContain('ben: just us');
    expect(await groupTexts(cat!, id)).not.toContain('ben: just us');
    const notices = (await ann!.engine.listGroupMessages(id)).flatMap((m) => (m.kind === 'notice' ? [`${m.notice}:${m.who}`] : []));
    expect(notices).toEqual(expect.arrayContaining(['removed:dan', 'left:cat']));
  });

  test('P21 a received welcome or change makes this client send nothing until its user writes to the group', async () => {
    const host = new MemoryHost();
    const [ann, ben, cat] = await people(host, 'ann', 'ben', 'cat');
    const id = await ann!.engine.createGroup('G', '', ['ben']);
    await settle(ann!, ben!, cat!);
    await ann!.engine.addGroupMembers(id, ['cat']);
    await settle(ann!, ben!, cat!);
    expect((await cat!.engine.listGroups())[0]).toMatchObject({ id, isMember: true });
    // Anyone with a session can send a welcome or a change: applying one writes to no one.
    expect(host.sent.filter((s) => s.from !== 'ann')).toEqual([]);
    expect(host.groupUploads).toEqual([]);
    await ben!.engine.sendGroupText(id, 'hi');
    await settle(ann!, ben!, cat!);
    expect([...new Set(host.sent.filter((s) => s.from === 'ben').map((s) => s.to))].sort()).toEqual(['ann', 'cat']);
    for (const u of [ann!, cat!]) expect(await groupTexts(u, id)).toEqual(['ben: hi']);
  });

  test('P19 a member who is not an admin cannot remove anyone; nothing is sent', async () => {
    const host = new MemoryHost();
    const [ann, ben, cat] = await people(host, 'ann', 'ben', 'cat');
    const id = await ann!.engine.createGroup('G', '', ['ben', 'cat']);
    await settle(ann!, ben!, cat!);
    const sent = host.sent.length;
    await expect(ben!.engine.removeGroupMember(id, 'cat')).rejects.toMatchObject({ code: 'NotAdmin' });
    await settle(ann!, ben!, cat!);
    expect(host.sent.length).toBe(sent);
    expect((await ann!.engine.groupInfo(id)).members).toHaveLength(3);
  });

  test('P21 a gap in a sender chain is shown, and the late message fills it', async () => {
    const host = new MemoryHost();
    const [ann, ben] = await people(host, 'ann', 'ben');
    const id = await ann!.engine.createGroup('G', '', ['ben']);
    await settle(ann!, ben!);
    // Ann's sender key reaches Ben with her first message (distributeSenderKey).
    await ann!.engine.sendGroupText(id, 'zero');
    await settle(ann!, ben!);
    host.autoPush = false;
    await ann!.engine.sendGroupText(id, 'one');
    await ann!.engine.sendGroupText(id, 'two');
    await settle(ann!, ben!);
    const box = host.pending(ben!.engine.ctx.me!.username);
    host.push(ben!.engine.ctx.me!.username, [box.at(-1)!.serverId]);
    await settle(ann!, ben!);
    expect((await ben!.engine.listGroups())[0]!.missing).toBe(1);
    expect((await ben!.engine.listGroupMessages(id)).some((m) => m.kind === 'notice' && m.notice === 'gap')).toBe(true);
    host.push(ben!.engine.ctx.me!.username, [box.at(-2)!.serverId]);
    await settle(ann!, ben!);
    expect(await groupTexts(ben!, id)).toEqual(['ann: zero', 'ann: one', 'ann: two']);
    expect((await ben!.engine.listGroups())[0]!.missing).toBe(0);
  });

  test('a group adds no 1:1 chats: members the user never wrote to do not appear in the chat list', async () => {
    const host = new MemoryHost();
    const [ann, ben, cat] = await people(host, 'ann', 'ben', 'cat');
    const id = await ann!.engine.createGroup('Book club', '', ['ben', 'cat']);
    await settle(ann!, ben!, cat!);
    await ben!.engine.sendGroupText(id, 'hello');
    await cat!.engine.sendGroupText(id, 'hi');
    await ann!.engine.sendGroupText(id, 'welcome');
    await settle(ann!, ben!, cat!);
    expect(await groupTexts(cat!, id)).toEqual(['ben: hello', 'cat: hi', 'ann: welcome']);
    for (const u of [ann!, ben!, cat!]) expect(await u.engine.listChats()).toEqual([]);
    // A real 1:1 message still makes the chat, on both sides.
    await ben!.engine.sendText('cat', 'just you');
    await settle(ben!, cat!);
    expect((await cat!.engine.listChats()).map((c) => c.username)).toEqual(['ben']);
    expect((await ben!.engine.listChats()).map((c) => c.username)).toEqual(['cat']);
  });
});
