/**
 * Note to self (README "Note to self"): the chat with our own username keeps its messages in the
 * vault only; no envelope, bundle fetch or upload reaches the host for it, and nothing from outside
 * can write into it (an envelope claiming our own username as sender is dropped).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { asUsername } from '../../src/lib/codec/username';
import { isCodedError } from '../../src/lib/codec/errors';
import { closeAll, newUser, settle, texts, type User } from './support';
import { Impostor } from './impostor';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isCodedError(e) ? e.code : 'not coded';
  }
  return 'no error';
}

describe('note to self', () => {
  test('notes are stored locally, shown without ticks, and no envelope reaches the host', async () => {
    const host = new MemoryHost();
    const bob = await newUser(host, 'bob');
    open.push(bob);
    const fetches: string[] = [];
    host.bundleHook = (u, b) => (fetches.push(u), b);
    const note = await bob.engine.sendText('bob', 'buy milk');
    await bob.engine.sendText('bob', 'call mum');
    await settle(bob);
    expect(note.kind === 'text' && note.status).toBe(undefined);
    expect(await texts(bob, 'bob')).toEqual(['buy milk', 'call mum']);
    const chats = await bob.engine.listChats();
    expect(chats.map((c) => [c.username, c.lastPreview, c.unread])).toEqual([['bob', 'call mum', 0]]);
    expect(host.sent).toEqual([]);
    expect(fetches).toEqual([]);
    // What would send to ourselves is refused, not queued: a reply, a file, a typing notice.
    expect(await code(bob.engine.sendReply('bob', note.id, 'no'))).toBe('InvalidArgument');
    expect(await code(bob.engine.sendAttachment('bob', { bytes: new Uint8Array(10), name: 'a.txt', mime: 'text/plain', transfer: 't' }))).toBe('InvalidArgument');
    expect(await bob.engine.sendTyping('bob', true)).toBe(false);
    await settle(bob);
    expect(host.sent).toEqual([]);
  });

  test('an envelope claiming our own username as sender is dropped: nothing can write into Note to self', async () => {
    const host = new MemoryHost();
    const bob = await newUser(host, 'bob');
    open.push(bob);
    // A host speaking as bob to bob, with a fresh identity and a session from bob's published keys.
    const mallory = new Impostor(host, 'bob', 'bob');
    mallory.send({ kind: 'text', id: '0123456789abcdef0123456789abcdef', sentAt: Date.now(), text: 'I am you' });
    await settle(bob);
    expect(await texts(bob, 'bob')).toEqual([]);
    expect(await bob.engine.listChats()).toEqual([]);
    expect(host.sent.filter((s) => s.from === 'bob' && s.to !== 'bob')).toEqual([]);
    expect(host.pending(asUsername('bob'))).toEqual([]);
  });
});
