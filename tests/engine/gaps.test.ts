/**
 * Gaps, failures and replays are visible where they happen (SECURITY.md P14, P13), with a host
 * that drops, tampers and replays: a marker sits where a message went missing and goes when it
 * arrives; a replayed old PreKeyMessage never displaces the newer session.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { MessageView } from '../../src/lib/vault/views';
import { closeAll, newUser, settle, texts, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const BOB = asUsername('bob');

async function pair(host: MemoryHost): Promise<{ alice: User; bob: User }> {
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hello');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hi');
  await settle(alice, bob);
  return { alice, bob };
}

/** The conversation as a reader sees it: texts, and notices by code. */
function shown(list: MessageView[]): string[] {
  return list.map((m) => (m.kind === 'text' ? m.text : `[${m.notice}]`));
}

describe('P14 gaps are visible in place', () => {
  test('P14 a dropped message shows as a marker where it went missing and the marker goes when it arrives late', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await pair(host);
    host.autoPush = false;
    for (const t of ['g0', 'g1', 'g2', 'g3']) await alice.engine.sendText('bob', t);
    await settle(alice, bob);
    const ids = host.pending(BOB).map((e) => e.serverId);
    const dropped = host.drop(BOB, ids[1]!)!;
    host.push(BOB);
    await settle(alice, bob);
    expect(shown(await bob.engine.listMessages('alice'))).toEqual(['hello', 'hi', 'g0', '[gap]', 'g2', 'g3']);
    expect((await bob.engine.listChats())[0]?.missing).toBe(1);

    host.deliverTo(BOB, dropped);
    await settle(alice, bob);
    expect(shown(await bob.engine.listMessages('alice'))).toEqual(['hello', 'hi', 'g0', 'g1', 'g2', 'g3']);
    expect((await bob.engine.listChats())[0]?.missing).toBe(0);
  });

  test('P14 an envelope that cannot be read shows where it arrived; the genuine one clears it', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await pair(host);
    host.autoPush = false;
    await alice.engine.sendText('bob', 'genuine');
    await settle(alice, bob);
    const [env] = host.pending(BOB);
    const body = env!.body.slice();
    body[body.length - 5]! ^= 0x80;
    host.deliverTo(BOB, { ...env!, serverId: 'tampered', body });
    await settle(bob);
    expect(shown(await bob.engine.listMessages('alice'))).toEqual(['hello', 'hi', '[undecryptable]']);
    expect((await bob.engine.listChats())[0]?.missing).toBe(1);
    host.push(BOB);
    await settle(alice, bob);
    expect(shown(await bob.engine.listMessages('alice'))).toEqual(['hello', 'hi', 'genuine']);
    expect((await bob.engine.listChats())[0]?.missing).toBe(0);
  });

  test('P14 envelopes claiming a stranger as sender create no chat and no marker', async () => {
    const host = new MemoryHost();
    const carol = await newUser(host, 'carol');
    open.push(carol);
    host.deliverTo(asUsername('carol'), { serverId: 'f1', sender: asUsername('nobody'), body: Uint8Array.of(2, 1, 5, ...new Uint8Array(60)), receivedAt: 0 });
    await settle(carol);
    expect(await carol.engine.listChats()).toEqual([]);
  });
});

describe('P13 a replayed PreKeyMessage', () => {
  test('P13 a replayed old PreKeyMessage (only last-resort keys) cannot displace the newer session; it is acked and not shown', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    // No one-time keys are left: every bundle carries only the signed and last-resort prekeys.
    host.bundleHook = (name, b) => {
      const { oneTimePreKey: _gone, ...rest } = b;
      void _gone;
      return { ...rest, kemPreKey: host.accounts.get(name)!.lastResort! };
    };
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'first');
    await settle(alice, bob);
    const first = host.sent.filter((s) => s.from === 'alice').at(-1)!.body;
    await bob.engine.sendText('alice', 'r0');
    await settle(alice, bob);
    // Newer sessions push the first one out of both sides' stores.
    for (let i = 1; i <= 4; i++) {
      await alice.engine.resetSession('bob');
      await alice.engine.sendText('bob', `s${i}`);
      await settle(alice, bob);
      await bob.engine.sendText('alice', `r${i}`);
      await settle(alice, bob);
    }
    host.deliverTo(BOB, { serverId: 'replay', sender: asUsername('alice'), body: first, receivedAt: 0 });
    await settle(alice, bob);
    expect((await bob.engine.ctx.vault.db.getAll('failures')).map((f) => f.code)).toEqual(['ReplayedPreKeyMessage']);
    const bobSees = await bob.engine.listMessages('alice');
    expect(bobSees.filter((m) => m.kind === 'notice')).toEqual([]);
    expect((await texts(bob, 'alice')).filter((t) => t === 'first')).toHaveLength(1);
    // Bob still writes on the newer session, and alice reads it.
    await bob.engine.sendText('alice', 'still in sync');
    await settle(alice, bob);
    expect((await texts(alice, 'bob')).at(-1)).toBe('still in sync');
  });
});
