/**
 * A long conversation is read in pages and kept current one row at a time (DESIGN.md §8):
 * pages walk the byChat index newest first without gaps or repeats (ties in key order, late
 * messages in their place, P14); events carry the stored message's view, so the page's store
 * patches one entry (src/lib/client/conversation-order.ts) and ends where a fresh read ends; the
 * tab channel passes message events on without the view (P31: its decoder takes exact shapes).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { placeMessage } from '../../src/lib/client/conversation-order';
import { asUsername } from '../../src/lib/codec/username';
import type { MessageView, VaultEvent } from '../../src/lib/vault/views';
import { MemoryHost } from '../../workers/engine/memory-host';
import { decodeTabMessage, encodeTabMessage } from '../../workers/engine/tab-message';
import { putMessage } from '../../workers/storage/message-repo';
import type { MessageRecord } from '../../workers/storage/schema';
import { commit } from '../../workers/storage/vault';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const bob = asUsername('bob');
const alice = asUsername('alice');

/** Writes texts straight into alice's vault: `times[i]` is the i-th one's sort time. */
async function seed(u: User, times: number[]): Promise<void> {
  await commit(u.engine.ctx.vault, async (tx) => {
    for (const [i, sentAt] of times.entries()) {
      const key = `k${(i * 7919) % 1000}`.padEnd(6, 'x');
      const m: MessageRecord = { key, id: key, username: bob, direction: i % 2 ? 'in' : 'out', body: `text ${i}`, sentAt, receivedAt: sentAt, status: i % 2 ? 'received' : 'read' };
      await putMessage(tx, m);
    }
  });
}

async function everyPage(u: User, limit: number): Promise<{ pages: MessageView[][]; lastOlder: boolean }> {
  const pages: MessageView[][] = [];
  let page = await u.engine.listMessagePage(bob, undefined, limit);
  pages.unshift(page.messages);
  while (page.older) {
    const first = page.messages[0]!;
    page = await u.engine.listMessagePage(bob, { sortAt: first.sortAt!, id: first.id }, limit);
    pages.unshift(page.messages);
  }
  return { pages, lastOlder: page.older };
}

describe('conversation pages', () => {
  test('P14 pages walk the conversation newest first: no gaps, no repeats, ties in id order, late ones in place', async () => {
    const host = new MemoryHost();
    const a = await newUser(host, 'alice');
    open.push(a);
    // 103 messages; runs of equal times straddle page borders; the last written sorts early (late arrival).
    const times = Array.from({ length: 103 }, (_, i) => 1_000 + Math.floor(i / 4) * 10);
    times[102] = 1_005;
    await seed(a, times);

    const whole = await a.engine.listMessages(bob);
    expect(whole).toHaveLength(103);
    const { pages, lastOlder } = await everyPage(a, 10);
    expect(pages).toHaveLength(11);
    expect(pages.at(-1)).toHaveLength(10);
    expect(pages[0]).toHaveLength(3);
    expect(lastOlder).toBe(false);
    expect(pages.flat()).toEqual(whole);
    // The late message sits by its time, not by when it was written.
    expect(whole.findIndex((m) => m.kind === 'text' && m.text === 'text 102')).toBe(4);
  });

  test('the newest page says whether older messages exist; limits outside 1..500 are refused', async () => {
    const host = new MemoryHost();
    const a = await newUser(host, 'alice');
    open.push(a);
    expect(await a.engine.listMessagePage(bob)).toEqual({ messages: [], older: false });
    await seed(a, [10, 20, 30]);
    expect((await a.engine.listMessagePage(bob, undefined, 3)).older).toBe(false);
    const two = await a.engine.listMessagePage(bob, undefined, 2);
    expect(two.older).toBe(true);
    expect(two.messages.map((m) => m.sortAt)).toEqual([20, 30]);
    await expect(a.engine.listMessagePage(bob, undefined, 0)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(a.engine.listMessagePage(bob, undefined, 501)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(a.engine.listMessagePage(bob, { sortAt: -1, id: 'x' })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('incremental updates', () => {
  test('P13 message events carry the stored view; patching a loaded page with them ends where a fresh read ends', async () => {
    const host = new MemoryHost();
    const a = await newUser(host, 'alice');
    const b = await newUser(host, 'bob');
    open.push(a, b);
    const seen: VaultEvent[] = [];
    b.engine.subscribe((e) => {
      if (e.type !== 'role') seen.push(e);
    });
    await a.engine.lookupUser('bob');
    await a.engine.sendText('bob', 'first');
    await settle(a, b);
    const loaded = await b.engine.listMessagePage(alice, undefined, 50);
    let list = loaded.messages;

    for (const t of ['second', 'third']) await a.engine.sendText('bob', t);
    await settle(a, b);
    const events = seen.filter((e): e is Extract<VaultEvent, { type: 'message' }> => e.type === 'message' && e.id !== 'gap');
    expect(events).toHaveLength(3);
    for (const e of events.slice(1)) {
      expect(e.message).toMatchObject({ kind: 'text', id: e.id, direction: 'in' });
      list = placeMessage(list, e.message!, loaded.older).messages;
    }
    // A redelivered event for a message already shown changes nothing.
    expect(placeMessage(list, events[2]!.message!, false).messages).toBe(list);
    expect(list).toEqual((await b.engine.listMessagePage(alice)).messages);
  });

  test('a sent message and its status events patch one row; a stale copy never moves a status back', async () => {
    const host = new MemoryHost();
    const a = await newUser(host, 'alice');
    const b = await newUser(host, 'bob');
    open.push(a, b);
    const seen: VaultEvent[] = [];
    a.engine.subscribe((e) => {
      if (e.type !== 'role') seen.push(e);
    });
    await a.engine.lookupUser('bob');
    // Bob knows alice (else her text is a message request and gets no delivery receipt, P42).
    await b.engine.lookupUser('alice');
    const sent = await a.engine.sendText('bob', 'hello');
    const event = seen.find((e) => e.type === 'message');
    expect(event).toEqual({ type: 'message', username: 'bob', id: sent.id, message: sent });
    await settle(a, b);
    let list: MessageView[] = [sent];
    for (const e of seen) {
      if (e.type === 'status') list = placeMessage(list, { ...(list[0] as Extract<MessageView, { kind: 'text' }>), status: e.status }, false).messages;
    }
    expect(list).toEqual((await a.engine.listMessagePage(bob)).messages);
    expect(list[0]).toMatchObject({ status: 'delivered' });
    expect(placeMessage(list, sent, false).messages[0]).toMatchObject({ status: 'delivered' });
  });

  test('a message older than the loaded pages is left for its page; one in the loaded range slots in', () => {
    const v = (id: string, sortAt: number): MessageView => ({ kind: 'notice', notice: 'gap', id, username: bob, at: sortAt, sortAt });
    const list = [v('b', 20), v('d', 40)];
    expect(placeMessage(list, v('a', 10), true)).toEqual({ messages: list, index: -1 });
    expect(placeMessage(list, v('a', 10), false).messages.map((m) => m.id)).toEqual(['a', 'b', 'd']);
    expect(placeMessage(list, v('c', 30), true).messages.map((m) => m.id)).toEqual(['b', 'c', 'd']);
    // Moved ("send again", P36): it leaves its old place.
    expect(placeMessage(list, v('b', 50), true).messages.map((m) => m.id)).toEqual(['d', 'b']);
  });

  test('P31 a message event crosses the tab channel without its view and decodes strictly', () => {
    const message: MessageView = { kind: 'text', id: 'm1', username: bob, direction: 'in', text: 'secret', at: 1, sortAt: 1 };
    const json = encodeTabMessage({ kind: 'event', event: { type: 'message', username: bob, id: 'm1', message } });
    expect(json).not.toContain('secret');
    expect(decodeTabMessage(json)).toEqual({ kind: 'event', event: { type: 'message', username: 'bob', id: 'm1' } });
  });
});
