/**
 * The chat list's ticks (README "Chat list"): a row carries the status of its newest message when
 * that message is ours (sent, delivered, read), and none when the newest is theirs.
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

describe('chat list ticks', () => {
  test('the row shows how far our newest message got, and nothing when theirs is newest', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    host.autoPush = false;
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'hi');
    await settle(alice, bob);
    const status = async (u: User) => (await u.engine.listChats())[0]?.lastStatus;
    expect(await status(alice)).toBe('sent');
    host.autoPush = true;
    host.push(bob.engine.ctx.me!.username);
    await settle(alice, bob);
    expect(await status(bob)).toBe(undefined);
    await bob.engine.acceptRequest('alice');
    await settle(alice, bob);
    expect(await status(alice)).toBe('delivered');
    await bob.engine.markRead('alice');
    await settle(alice, bob);
    expect(await status(alice)).toBe('read');
    await bob.engine.sendText('alice', 'yo');
    await settle(alice, bob);
    expect(await status(alice)).toBe(undefined);
    expect(await status(bob)).toBe('delivered');
  });
});
