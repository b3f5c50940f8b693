/**
 * Filing chats (workers/engine/chat-flags.ts, README "Chat list"): pin, mute and archive are local
 * — nothing goes to the host or the contact — a new message brings an archived chat back unless it
 * is muted, and a bad username is refused without creating a chat.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const flagsOf = async (u: User, name: string) => (await u.engine.listChats()).find((c) => c.username === name)?.flags;

describe('chat flags', () => {
  test('pin, mute and archive are stored locally and send nothing', async () => {
    const host = new MemoryHost();
    const [alice, bob] = [await newUser(host, 'alice'), await newUser(host, 'bob')];
    open.push(alice, bob);
    await alice.engine.sendText('bob', 'hello');
    await settle(alice, bob);
    const sent = host.sent.length;
    await alice.engine.setChatFlags('bob', { pinned: true, muted: true });
    expect(await flagsOf(alice, 'bob')).toEqual({ pinned: true, muted: true, archived: false });
    await alice.engine.setChatFlags('bob', { archived: true, pinned: false });
    expect(await flagsOf(alice, 'bob')).toEqual({ pinned: false, muted: true, archived: true });
    await settle(alice, bob);
    expect(host.sent.length).toBe(sent);
    expect(await flagsOf(bob, 'alice')).toEqual({ pinned: false, muted: false, archived: false });
  });

  test('a new message brings an archived chat back, unless it is muted', async () => {
    const host = new MemoryHost();
    const [alice, bob] = [await newUser(host, 'alice'), await newUser(host, 'bob')];
    open.push(alice, bob);
    await bob.engine.sendText('alice', 'one');
    await settle(alice, bob);
    await alice.engine.setChatFlags('bob', { archived: true, muted: true });
    await bob.engine.sendText('alice', 'two');
    await settle(alice, bob);
    expect(await flagsOf(alice, 'bob')).toEqual({ pinned: false, muted: true, archived: true });
    await alice.engine.setChatFlags('bob', { muted: false });
    await bob.engine.sendText('alice', 'three');
    await settle(alice, bob);
    expect(await flagsOf(alice, 'bob')).toEqual({ pinned: false, muted: false, archived: false });
  });

  test('flags for a chat that does not exist are refused and create nothing', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    open.push(alice);
    await expect(alice.engine.setChatFlags('nobody', { pinned: true })).rejects.toMatchObject({ code: 'NoSuchUser' });
    await expect(alice.engine.setChatFlags('not a name!', { pinned: true })).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await alice.engine.listChats()).toEqual([]);
  });
});
