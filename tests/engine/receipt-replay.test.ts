/**
 * Can a host make our client send a receipt without the user's action (README "Read receipts")?
 * A replayed text is a ratchet duplicate (P13): it adds no unread message, so it queues no
 * delivery receipt and a later markRead has nothing to acknowledge: nothing more leaves.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { Envelope } from '../../workers/engine/transport';
import { asUsername } from '../../src/lib/codec/username';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

describe('receipts under replay', () => {
  test('P13 a replayed text makes bob send neither a delivery nor a read receipt', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'once');
    await settle(alice, bob);
    await bob.engine.acceptRequest('alice');
    await settle(alice, bob);
    expect(await bob.engine.markRead('alice')).toBe(1);
    await settle(alice, bob);
    const fromBob = () => host.sent.filter((s) => s.from === 'bob').length;
    const before = fromBob();
    expect(before).toBeGreaterThan(0);
    const env = host.sent.find((s) => s.from === 'alice')!;
    const replay: Envelope = { serverId: 'replayed-1', sender: asUsername('alice'), body: env.body, receivedAt: Date.now() };
    host.deliverTo(asUsername('bob'), replay);
    host.deliverTo(asUsername('bob'), { ...replay, serverId: 'replayed-2' });
    await settle(alice, bob);
    expect(await bob.engine.markRead('alice')).toBe(0);
    await settle(alice, bob);
    expect(fromBob()).toBe(before);
  });
});
