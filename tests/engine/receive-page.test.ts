/**
 * The receive loop's pages (inbox.ts `receiveEnvelopes`, receive-queue.ts; SECURITY.md P12, P34):
 * a burst of pushed envelopes is decrypted on sessions held in memory and written in ONE
 * transaction, and no envelope of it is acked before that transaction commits. A crash in the
 * middle of a page writes none of it; the host redelivers, each message is decrypted from what is
 * stored, and every one shows exactly once, in order.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import type { Faults } from '../../workers/engine/context';
import { MemoryHost } from '../../workers/engine/memory-host';
import { ALL_STORES } from '../../workers/storage/schema';
import { closeAll, newUser, settle, texts, type User } from './support';

const BOB = asUsername('bob');
let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function dump(u: User): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const s of ALL_STORES) out[s] = await u.engine.ctx.vault.db.getAll(s);
  return out;
}

/** Alice and Bob with an established session; Bob's mailbox then holds `count` texts, unpushed. */
async function backlog(faults: Faults, count: number) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob', { faults });
  open.push(alice, bob);
  await alice.engine.sendText('bob', 'start');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'reply');
  await settle(alice, bob);
  host.autoPush = false;
  const sent = Array.from({ length: count }, (_, i) => `page ${i}`);
  for (const t of sent) await alice.engine.sendText('bob', t);
  await settle(alice, bob);
  expect(host.pending(BOB)).toHaveLength(count);
  return { host, alice, bob, sent };
}

describe('receive pages', () => {
  test('P34 a burst of pushed envelopes is committed together before the first of them is acked', async () => {
    let atFirstAck: Promise<string[]> | undefined;
    const probe: { read?: () => Promise<string[]> } = {};
    const { host, alice, bob, sent } = await backlog({ beforeAck: () => void (atFirstAck ??= probe.read?.()) }, 10);
    // What Bob has stored when the first envelope of the burst is about to be acked.
    probe.read = () => texts(bob, 'alice');
    host.autoPush = true;
    host.push(BOB);
    await settle(alice, bob);
    expect(await atFirstAck).toEqual(['start', 'reply', ...sent]);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', ...sent]);
    expect(host.pending(BOB)).toEqual([]);
    expect((await bob.engine.listChats())[0]?.unread).toBe(11);
  });

  test('P12 P34 a crash in the middle of a page writes none of it; redelivered, every message shows once, in order', async () => {
    let crash = true;
    let stored = 0;
    const faults: Faults = {
      // Runs after each stored envelope's rows, inside the page's transaction: the 5th kills it.
      midReceiveCommit: () => {
        if (crash && ++stored >= 5) throw new Error('simulated crash mid-page');
      }
    };
    const { host, alice, bob, sent } = await backlog(faults, 10);
    const before = await dump(bob);
    host.push(BOB);
    await settle(alice, bob);
    // Four envelopes' rows and sessions were written in that transaction before the crash: none remain.
    expect(stored).toBeGreaterThanOrEqual(5);
    expect(await dump(bob)).toEqual(before);
    expect(host.pending(BOB)).toHaveLength(10);

    crash = false;
    host.autoPush = true;
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', ...sent]);
    expect(host.pending(BOB)).toEqual([]);
    // Nothing was refused on redelivery: no envelope was decrypted twice (a second decrypt fails).
    expect(await bob.engine.ctx.vault.db.count('failures')).toBe(0);
    expect((await bob.engine.listChats())[0]?.unread).toBe(11);
  });

  test('P34 an envelope whose rows cannot be written fails alone: the rest of its page is stored and acked', async () => {
    // The 3rd envelope's write throws every time it is tried: call 3 is its turn in the page of
    // five (which then fails whole), call 6 its turn when the five are retried one by one.
    let calls = 0;
    const { host, alice, bob, sent } = await backlog(
      {
        midReceiveCommit: () => {
          if (++calls === 3 || calls === 6) throw new Error('this envelope cannot be written');
        }
      },
      5
    );
    const order = host.pending(BOB).map((e) => e.serverId);
    host.push(BOB);
    await settle(alice, bob);
    expect(calls).toBe(8);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', ...sent.filter((_, i) => i !== 2)]);
    expect(host.pending(BOB).map((e) => e.serverId)).toEqual([order[2]]);
  });
});
