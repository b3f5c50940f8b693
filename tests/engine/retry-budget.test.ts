/**
 * SECURITY.md P36, the count bound of resend requests: a contact (even the trusted identity) gets
 * at most RETRY_BUDGET resends per RETRY_BUDGET_MS of OUR clock, however many `retry` requests it
 * sends and however it splits them (workers/engine/retry.ts `resendsFor`).
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { asUsername } from '../../src/lib/codec/username';
import { encodeContent, MAX_RETRY_REFS, type MessageRef } from '../../src/lib/wire/content';
import { MemoryHost } from '../../workers/engine/memory-host';
import { RETRY_BUDGET, RETRY_BUDGET_MS } from '../../workers/engine/retry';
import { refFromKey } from '../../workers/engine/refs';
import { listMessages } from '../../workers/storage/message-repo';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { closeAll, newUser, settle, type User } from './support';

const ALICE = asUsername('alice');
const BOB = asUsername('bob');

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Total encryptions of alice's texts to bob beyond the first of each (i.e. resends so far). */
async function resends(alice: User): Promise<number> {
  const out = (await listMessages(alice.engine.ctx.vault, BOB)).filter((m) => m.direction === 'out' && m.sentVia);
  return out.reduce((n, m) => n + m.sentVia!.length - 1, 0);
}

/** Bob's vault asks alice to send `missing` again, as its retry logic would (one request). */
async function bobAsks(bob: User, missing: MessageRef[]): Promise<void> {
  await commit(bob.engine.ctx.vault, (tx) => addOutbox(tx, { username: ALICE, content: encodeContent({ kind: 'retry', missing }) }));
  bob.engine.ctx.kickOutbox();
}

test('P36 resends to one contact are capped per hour by our clock, however the requests are split; the next hour has a fresh budget', async () => {
  // The whole budget must not fit in one request, or the cap would be the codec's alone.
  expect(RETRY_BUDGET).toBeLessThanOrEqual(MAX_RETRY_REFS);
  const count = Math.ceil((RETRY_BUDGET * 2) / 3);
  let now = Date.now();
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice', { deps: { ...systemDeps, now: () => now } });
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hello bob');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hello alice');
  await settle(alice, bob);
  for (let i = 0; i < count; i++) await alice.engine.sendText('bob', `t${i}`);
  await settle(alice, bob);
  const mine = (await listMessages(alice.engine.ctx.vault, BOB)).filter((m) => m.direction === 'out' && m.body.startsWith('t'));
  expect(mine).toHaveLength(count);
  const refs = mine.map((m) => refFromKey(m.sentVia![0]!));
  expect(await resends(alice)).toBe(0);

  // The trusted bob, asking for everything twice in two requests: the second is cut at the budget.
  await bobAsks(bob, refs);
  await settle(alice, bob);
  expect(await resends(alice)).toBe(count);
  await bobAsks(bob, refs);
  await settle(alice, bob);
  expect(await resends(alice)).toBe(RETRY_BUDGET);
  // A third request within the hour earns nothing.
  now += RETRY_BUDGET_MS - 60_000;
  await bobAsks(bob, refs.slice(0, 3));
  await settle(alice, bob);
  expect(await resends(alice)).toBe(RETRY_BUDGET);

  // An hour after the budget began (our clock), it is fresh again.
  now += 60_000;
  await bobAsks(bob, refs.slice(0, 3));
  await settle(alice, bob);
  expect(await resends(alice)).toBe(RETRY_BUDGET + 3);
});
