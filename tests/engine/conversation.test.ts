/**
 * Two and three engines talking through an in-memory host: both directions, offline delivery
 * in order, receipts, unread counts, blocking.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUser, openUser, settle, texts, type User, statusOf } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function pair(): Promise<{ host: MemoryHost; alice: User; bob: User }> {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  return { host, alice, bob };
}

describe('conversation', () => {
  test('alice and bob talk both ways', async () => {
    const { alice, bob } = await pair();
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'hi bob');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['hi bob']);
    await bob.engine.sendText('alice', 'hi alice');
    await settle(alice, bob);
    await alice.engine.sendText('bob', 'how are you?');
    await settle(alice, bob);
    expect(await texts(alice, 'bob')).toEqual(['hi bob', 'hi alice', 'how are you?']);
    expect(await texts(bob, 'alice')).toEqual(['hi bob', 'hi alice', 'how are you?']);
    const chats = await bob.engine.listChats();
    expect(chats).toMatchObject([{ username: 'alice', unread: 2, lastPreview: 'how are you?' }]);
  });

  test('bob offline then back receives everything in order', async () => {
    const { alice, bob } = await pair();
    bob.engine.disconnect();
    await alice.engine.lookupUser('bob');
    for (let i = 0; i < 12; i++) await alice.engine.sendText('bob', `m${i}`);
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual([]);
    bob.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
  });

  test('a message written while alice is offline goes out when she reconnects', async () => {
    const { host, alice, bob } = await pair();
    await alice.engine.lookupUser('bob');
    alice.engine.disconnect();
    const m = await alice.engine.sendText('bob', 'written offline');
    await settle(alice, bob);
    expect(host.sent).toHaveLength(0);
    expect(statusOf(await alice.engine.listMessages('bob'), m.id)).toBe('queued');
    alice.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['written offline']);
  });

  test('receipts move status sent -> delivered -> read, and read clears the unread count', async () => {
    const { alice, bob } = await pair();
    await alice.engine.lookupUser('bob');
    bob.engine.disconnect();
    const m = await alice.engine.sendText('bob', 'ping');
    await settle(alice, bob);
    const status = async () => statusOf(await alice.engine.listMessages('bob'), m.id);
    expect(await status()).toBe('sent');
    bob.engine.connect();
    await settle(alice, bob);
    // P42: alice is a message request for bob: no receipt until he accepts.
    expect(await status()).toBe('sent');
    expect((await bob.engine.listChats())[0]?.request).toBe(true);
    await bob.engine.acceptRequest('alice');
    await settle(alice, bob);
    expect(await status()).toBe('delivered');
    expect((await bob.engine.listChats())[0]?.unread).toBe(1);
    expect(await bob.engine.markRead('alice')).toBe(1);
    await settle(alice, bob);
    expect(await status()).toBe('read');
    expect((await bob.engine.listChats())[0]?.unread).toBe(0);
  });

  test("a blocked user's messages are dropped and no receipt is sent", async () => {
    const { host, alice, bob } = await pair();
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'before');
    await settle(alice, bob);
    await bob.engine.block('alice');
    const sentBefore = host.sent.filter((s) => s.from === 'bob').length;
    const m = await alice.engine.sendText('bob', 'while blocked');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['before']);
    expect(host.pending(asUsername('bob'))).toHaveLength(0);
    expect(host.sent.filter((s) => s.from === 'bob').length).toBe(sentBefore);
    expect(statusOf(await alice.engine.listMessages('bob'), m.id)).toBe('sent');
    await expect(bob.engine.sendText('alice', 'x')).rejects.toMatchObject({ code: 'Blocked' });
    await bob.engine.unblock('alice');
    await alice.engine.sendText('bob', 'after');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['before', 'after']);
  });

  test('looking up an unknown user is a clear NoSuchUser error', async () => {
    const { alice } = await pair();
    await expect(alice.engine.lookupUser('nobody')).rejects.toMatchObject({ code: 'NoSuchUser' });
    expect(await alice.engine.listChats()).toEqual([]);
  });

  test('a message to a user the host does not know ends as failed; bad input is refused with codes', async () => {
    const { alice } = await pair();
    const m = await alice.engine.sendText('nobody', 'anyone there?');
    await alice.engine.settle();
    expect(statusOf(await alice.engine.listMessages('nobody'), m.id)).toBe('failed');
    await expect(alice.engine.sendText('bob', '')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.engine.sendText('bob', 'x'.repeat(16_001))).rejects.toMatchObject({ code: 'InvalidArgument' });
    // Our own username is Note to self (README "Note to self"): kept locally, never sent.
    await expect(alice.engine.sendText('alice', 'me')).resolves.toMatchObject({ kind: 'text', text: 'me' });
    await expect(alice.engine.sendText('Bob', 'case')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  test('a taken username is refused and the vault stays empty', async () => {
    const host = new MemoryHost();
    const a = await newUser(host, 'alice');
    open.push(a);
    const b = await openUser(host, 'alice2');
    open.push(b);
    expect(await b.engine.checkUsername('Alice')).toEqual({ kind: 'taken' });
    expect(await b.engine.checkUsername('a')).toMatchObject({ kind: 'invalid' });
    await expect(b.engine.createAccount('ALICE')).rejects.toMatchObject({ code: 'UsernameTaken' });
    expect(await b.engine.account()).toBeNull();
    await b.engine.createAccount('alice2');
    expect(await b.engine.account()).toEqual({ username: 'alice2' });
  });
});
