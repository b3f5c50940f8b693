/**
 * One driver per account across tabs (DESIGN.md §5; SECURITY.md P18): two engines on the same
 * database share a lock manager; only the holder connects and runs ratchets, the follower sees
 * the driver's events, and closing the driver hands over to the follower.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { EngineEvent } from '../../workers/engine/events';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

describe('tabs', () => {
  test('P18 only one tab drives; the follower queues, hears events, and takes over when the driver closes', async () => {
    const host = new MemoryHost();
    const locks = memoryLocks();
    const alice = await newUser(host, 'alice');
    const tab1 = await newUser(host, 'bob', { locks });
    const tab2 = await openUser(host, 'bob', { locks }, tab1.dbName);
    open.push(alice, tab2);
    const seen: EngineEvent[] = [];
    tab2.engine.subscribe((e) => seen.push(e));
    tab2.engine.connect();
    await settle(alice, tab1, tab2);
    expect(tab1.engine.ctx.driver).toBe(true);
    expect(tab2.engine.ctx.driver).toBe(false);
    expect(host.sinks.size).toBe(2); // alice and ONE bob tab

    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'to both tabs');
    await settle(alice, tab1, tab2);
    // Follower reads the same history from IndexedDB and heard the driver's event.
    expect(await texts(tab2, 'alice')).toEqual(['to both tabs']);
    expect(seen.some((e) => e.type === 'message')).toBe(true);

    // A follower's send is queued and flushed by the driver.
    await tab2.engine.sendText('alice', 'from tab 2');
    await settle(alice, tab1, tab2);
    expect(await texts(alice, 'bob')).toEqual(['to both tabs', 'from tab 2']);

    // The driver tab closes: tab 2 takes over and receives.
    await tab1.engine.close();
    await settle(alice, tab2);
    expect(tab2.engine.ctx.driver).toBe(true);
    await alice.engine.sendText('bob', 'after takeover');
    await settle(alice, tab2);
    expect(await texts(tab2, 'alice')).toEqual(['to both tabs', 'from tab 2', 'after takeover']);
  });
});
