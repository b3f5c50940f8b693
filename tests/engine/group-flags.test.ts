/**
 * Filing groups (workers/engine/group-flags.ts, README "Chat list"), through engines on the REAL
 * host (src/host/server.ts on loopback): pin, mute and archive for a group as for a 1:1 chat —
 * stored on this browser only (no outbox item, no host request, the members see nothing), one mute
 * (a mention in a muted group still counts and notifies), pinned groups and chats first and mixed
 * by activity (chat-list-rows.ts), and a new group message brings an archived group back unless it
 * is muted too (Signal's rule, chat-flags.ts).
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { chatListRows } from '../../src/lib/ui/chat-list-rows';
import type { Engine } from '../../workers/engine/engine';
import { HostHttpTransport } from '../../workers/engine/host-transport';
import { enginesOnRealHost, eventually } from './real-host-support';

const { user } = enginesOnRealHost('parley-gflags-');

/** Every transport method `e`'s engine calls (HTTP requests and socket sends alike), by name. */
function recordCalls(calls: string[]): (t: HostHttpTransport) => void {
  return (t) => {
    const methods = Object.getOwnPropertyNames(HostHttpTransport.prototype).filter((m) => m !== 'constructor' && typeof (t as unknown as Record<string, unknown>)[m] === 'function');
    for (const m of methods) {
      const own = t as unknown as Record<string, (...a: unknown[]) => unknown>;
      const original = own[m]!.bind(t);
      own[m] = (...a: unknown[]) => {
        calls.push(m);
        return original(...a);
      };
    }
  };
}

const groupTexts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
const flagsOf = async (e: Engine, id: string) => (await e.listGroups()).find((g) => g.id === id)?.flags;
const order = async (e: Engine) => {
  const rows = chatListRows(await e.listChats(), await e.listGroups());
  const name = (r: (typeof rows.main)[number]) => (r.kind === 'chat' ? r.chat.username : r.group.name);
  return { main: rows.main.map(name), archived: rows.archived.map(name) };
};

/** Ann made "Climbing" with Ben; each wrote once, so both hold both sender keys. */
async function climbing(annCalls: string[] = []) {
  const ann = await user('ann', { wrap: recordCalls(annCalls) });
  const ben = await user('ben');
  const id = await ann.createGroup('Climbing', '', ['ben']);
  await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
  await ann.sendGroupText(id, 'a1');
  await eventually(async () => expect(await groupTexts(ben, id)).toEqual(['a1']));
  await ben.sendGroupText(id, 'b1');
  await eventually(async () => expect(await groupTexts(ann, id)).toEqual(['a1', 'b1']));
  return { ann, ben, id };
}

describe('group flags (real host)', () => {
  test('pin, mute and archive a group are stored on this browser only: no outbox item, no host request, members see nothing', async () => {
    const calls: string[] = [];
    const { ann, ben, id } = await climbing(calls);
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: false, archived: false });
    await eventually(async () => expect(await ann.ctx.vault.db.count('outbox')).toBe(0));
    await ann.settle();
    calls.length = 0;
    await ann.setGroupFlags(id, { pinned: true, muted: true });
    expect(await flagsOf(ann, id)).toEqual({ pinned: true, muted: true, archived: false });
    await ann.setGroupFlags(id, { archived: true, pinned: false });
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: true, archived: true });
    // Only the flags given change; setting a flag to what it is writes nothing new.
    await ann.setGroupFlags(id, { muted: true });
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: true, archived: true });
    await ann.settle();
    await new Promise((r) => setTimeout(r, 300));
    expect(await ann.ctx.vault.db.count('outbox')).toBe(0);
    expect(calls).toEqual([]);
    expect(await flagsOf(ben, id)).toEqual({ pinned: false, muted: false, archived: false });
    // The recorder sees what does go to the host: a group message does.
    await ann.sendGroupText(id, 'a2');
    await eventually(async () => expect(await groupTexts(ben, id)).toContain('a2'));
    expect(calls.length).toBeGreaterThan(0);
    // A group that is not there, or an id that is not one, is refused and files nothing.
    await expect(ann.setGroupFlags('ab'.repeat(32), { pinned: true })).rejects.toMatchObject({ code: 'NoSuchGroup' });
    await expect(ann.setGroupFlags('not an id', { pinned: true })).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect((await ann.listGroups()).map((g) => g.id)).toEqual([id]);
  });

  test('pinned groups and chats come first, mixed by activity; archived ones apart', async () => {
    const { ann, ben, id } = await climbing();
    // Cat and Dan have accounts, so Ann's first texts reach them.
    for (const name of ['cat', 'dan']) await user(name);
    await ann.lookupUser('cat');
    await ann.sendText('cat', 'hi cat');
    await ann.lookupUser('dan');
    await ann.sendText('dan', 'hi dan');
    const other = await ann.createGroup('Books', '', ['ben']);
    await eventually(async () => expect(await ben.listGroups()).toHaveLength(2));
    // Newest first: Books, dan, cat, Climbing.
    await eventually(async () => expect((await order(ann)).main).toEqual(['Books', 'dan', 'cat', 'Climbing']));
    await ann.setGroupFlags(id, { pinned: true });
    expect((await order(ann)).main).toEqual(['Climbing', 'Books', 'dan', 'cat']);
    // A pinned chat and a pinned group: the newer of the two first.
    await ann.setChatFlags('cat', { pinned: true });
    expect((await order(ann)).main).toEqual(['cat', 'Climbing', 'Books', 'dan']);
    await ben.sendGroupText(id, 'b2');
    await eventually(async () => expect((await order(ann)).main).toEqual(['Climbing', 'cat', 'Books', 'dan']));
    await ann.setGroupFlags(other, { archived: true });
    expect(await order(ann)).toEqual({ main: ['Climbing', 'cat', 'dan'], archived: ['Books'] });
    await ann.setChatFlags('dan', { archived: true });
    expect(await order(ann)).toEqual({ main: ['Climbing', 'cat'], archived: ['Books', 'dan'] });
  });

  test('a new group message brings an archived group back, unless it is muted; a mention in a muted group still counts', async () => {
    const { ann, ben, id } = await climbing();
    await ann.setGroupFlags(id, { archived: true });
    await ben.sendGroupText(id, 'b2');
    await eventually(async () => expect(await groupTexts(ann, id)).toContain('b2'));
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: false, archived: false });

    await ann.setGroupFlags(id, { archived: true, muted: true });
    await ben.sendGroupText(id, 'b3');
    await ben.sendGroupText(id, 'hey @ann', ['ann' as Username]);
    await eventually(async () => expect(await groupTexts(ann, id)).toContain('hey @ann'));
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: true, archived: true });
    // One mute: the mention is counted as before (attention.ts notifies it even muted).
    expect((await ann.listGroups())[0]).toMatchObject({ id, mentions: 1, unread: 4 });

    // Our own message does not take it out of the archive (as a chat's does not).
    await ann.setGroupFlags(id, { muted: false });
    await ann.sendGroupText(id, 'a2');
    await eventually(async () => expect(await groupTexts(ben, id)).toContain('a2'));
    expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: false, archived: true });
    await ben.sendGroupText(id, 'b4');
    await eventually(async () => expect(await flagsOf(ann, id)).toEqual({ pinned: false, muted: false, archived: false }));
  });
});
