/**
 * Receipts for a burst go as one envelope (README "Receipts"; DESIGN.md §5): the receipts a
 * receive page queues for one sender are folded into one (outbox-repo.ts `addOrMerge`) while it
 * waits unencrypted, for the same identity (P36), so a backlog of messages costs the reader one
 * ratchet message back, not one per message, and the sender still sees every message delivered.
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUser, settle, statusOf, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const from = (host: MemoryHost, a: string, b: string, since: number) => host.sent.slice(since).filter((s) => s.from === a && s.to === b).length;

test('five texts read off one backlog are acknowledged by one delivery receipt, and all five show delivered', async () => {
  const host = new MemoryHost();
  const [alice, bob] = [await newUser(host, 'alice'), await newUser(host, 'bob')];
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hi');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hello');
  await settle(alice, bob);

  bob.engine.disconnect();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await alice.engine.sendText('bob', `m${i}`)).id);
  await settle(alice);
  const mark = host.sent.length;
  bob.engine.connect();
  await settle(alice, bob);
  await settle(alice, bob);
  expect(from(host, 'bob', 'alice', mark)).toBe(1);
  const list = await alice.engine.listMessages('bob');
  expect(ids.map((id) => statusOf(list, id))).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
});

test('a burst of group messages from one member is acknowledged to that member by one group receipt', async () => {
  const host = new MemoryHost();
  const [ann, ben] = [await newUser(host, 'ann'), await newUser(host, 'ben')];
  open.push(ann, ben);
  await ann.engine.lookupUser('ben');
  await ann.engine.sendText('ben', 'hi');
  await settle(ann, ben);
  await ben.engine.sendText('ann', 'hello');
  await settle(ann, ben);
  const id = await ann.engine.createGroup('Ropes', '', ['ben']);
  await ann.engine.sendGroupText(id, 'first');
  await settle(ann, ben);
  await settle(ann, ben);

  ben.engine.disconnect();
  for (let i = 0; i < 4; i++) await ann.engine.sendGroupText(id, `g${i}`);
  await settle(ann);
  const mark = host.sent.length;
  ben.engine.connect();
  await settle(ann, ben);
  await settle(ann, ben);
  expect(from(host, 'ben', 'ann', mark)).toBe(1);
  const mine = (await ann.engine.listGroupMessages(id)).filter((m) => m.kind === 'text' && m.direction === 'out' && m.text.startsWith('g'));
  expect(mine.map((m) => (m.kind === 'text' ? m.receipts?.delivered : undefined))).toEqual([1, 1, 1, 1]);
});
