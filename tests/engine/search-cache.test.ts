/**
 * The search index opened in the vault worker (workers/storage/search-cache.ts; README "Search";
 * SECURITY.md P32, P44, P46), through real engines on fake-indexeddb: the opened copy answers
 * only while the index's stamp is unchanged, so a write by another connection (another tab) is
 * seen at once; a message deleted or expired leaves the results and the opened copy; the lock
 * drops it; and a vault created with the index has no history to walk.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { expireDue } from '../../workers/engine/expiry';
import { MemoryHost } from '../../workers/engine/memory-host';
import { BACKFILL_GROUPS_META, BACKFILL_META } from '../../workers/engine/search';
import { putMessage } from '../../workers/storage/message-repo';
import { hasOpenedIndex, loadEntries } from '../../workers/storage/search-cache';
import { SEARCH_STAMP, SEARCH_STORE } from '../../workers/storage/search-repo';
import { commit, loadVault } from '../../workers/storage/vault';
import { closeAll, newUser, type User, settle } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const MIN = 60_000;
function fakeClock(start = 1_800_000_000_000): Deps & { advance(ms: number): void } {
  let t = start;
  return { rng: systemDeps.rng, now: () => t, advance: (ms) => (t += ms) };
}

async function pair(extra = {}) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice', extra);
  const bob = await newUser(host, 'bob', extra);
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText(asUsername('bob'), 'hi bob');
  await settle(alice, bob);
  await bob.engine.sendText(asUsername('alice'), 'hi alice');
  await settle(alice, bob);
  return { host, alice, bob };
}

const found = async (u: User, q: string) => (await u.engine.searchMessages(q)).hits.map((h) => h.snippet);
const cachedKeys = async (u: User) => (await loadEntries(u.engine.ctx.vault)).map((e) => e.k);

describe('search cache', () => {
  test('P32 another connection’s write is found at once: the stamp, not the opened copy, decides', async () => {
    const { alice } = await pair();
    expect(await found(alice, 'hi')).toEqual(['hi alice', 'hi bob']);
    expect(hasOpenedIndex(alice.engine.ctx.vault.db)).toBe(true);

    // Another tab of the same vault writes a message (its own connection, its own transaction).
    const other = await loadVault(alice.dbName);
    await commit(other, (tx) => putMessage(tx, { key: 'tab2', id: 'tab2', username: asUsername('bob'), direction: 'out', body: 'written in another tab', sentAt: Date.now(), receivedAt: Date.now(), status: 'sent' }));
    other.db.close();
    expect(await found(alice, 'tab')).toEqual(['written in another tab']);
  });

  test('P32 while the stamp is unchanged no bucket is read again; a new stamp makes a damaged bucket fail as StorageLost', async () => {
    const { alice } = await pair();
    expect(await found(alice, 'hi')).toHaveLength(2);
    const stamp = await alice.engine.ctx.vault.db.get('meta', SEARCH_STAMP);
    const db = alice.engine.ctx.vault.db;
    // Damage every bucket behind the vault's back (another nonce, as a rewrite has), keeping the stamp.
    await commit(alice.engine.ctx.vault, async (tx) => {
      for (const row of await tx.objectStore(SEARCH_STORE).getAll()) {
        const iv = row.sealed.iv.slice();
        iv[0]! ^= 1;
        await tx.objectStore(SEARCH_STORE).put({ ...row, sealed: { ...row.sealed, iv } });
      }
    });
    await db.put('meta', stamp, SEARCH_STAMP);
    expect(await found(alice, 'hi')).toHaveLength(2);
    // The same rows under a new stamp: the copy is not trusted, the buckets are read, and do not open.
    await db.put('meta', 'another', SEARCH_STAMP);
    await expect(alice.engine.searchMessages('hi')).rejects.toMatchObject({ code: 'StorageLost' });
  });

  test('P44 a message deleted for me, or deleted for everyone, leaves the results and the opened copy', async () => {
    const { alice, bob } = await pair();
    const mine = await alice.engine.sendText(asUsername('bob'), 'pelican briefing one');
    const theirs = await alice.engine.sendText(asUsername('bob'), 'pelican briefing two');
    await settle(alice, bob);
    expect(await found(alice, 'pelican')).toEqual(['pelican briefing two', 'pelican briefing one']);
    expect(await found(bob, 'pelican')).toHaveLength(2);

    await alice.engine.deleteForMe(asUsername('bob'), mine.id);
    expect(await found(alice, 'pelican')).toEqual(['pelican briefing two']);
    expect(await cachedKeys(alice)).not.toContain(mine.id);

    await alice.engine.deleteForEveryone(asUsername('bob'), theirs.id);
    await settle(alice, bob);
    expect(await found(alice, 'pelican')).toEqual([]);
    expect(await found(bob, 'pelican')).toEqual(['pelican briefing one']);
    expect(await cachedKeys(bob)).not.toContain(`alice:${theirs.id}`);
  });

  test('P44 an expired disappearing message leaves the results and the opened copy on both sides', async () => {
    const clock = fakeClock();
    const { alice, bob } = await pair({ deps: clock });
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await settle(alice, bob);
    const sent = await alice.engine.sendText(asUsername('bob'), 'ephemeral walrus');
    await settle(alice, bob);
    await bob.engine.markRead(asUsername('alice'));
    await settle(alice, bob);
    for (const u of [alice, bob]) expect(await found(u, 'walrus'), u.name).toEqual(['ephemeral walrus']);

    clock.advance(5 * MIN + 1);
    for (const u of [alice, bob]) await u.engine.ctx.serial(() => expireDue(u.engine.ctx));
    for (const u of [alice, bob]) expect(await found(u, 'walrus'), u.name).toEqual([]);
    expect(await cachedKeys(alice)).not.toContain(sent.id);
    expect(await cachedKeys(bob)).not.toContain(`alice:${sent.id}`);
  });

  test('P46 the lock drops the opened index; a locked vault answers no search', async () => {
    const { alice } = await pair({ appLockKdf: { opslimit: 1, memlimitBytes: 8192 } });
    await alice.engine.locks.enableLock('velvet tundra quiz marmalade osprey 93', 5);
    expect(await found(alice, 'hi')).toHaveLength(2);
    expect(hasOpenedIndex(alice.engine.ctx.vault.db)).toBe(true);
    await alice.engine.locks.lockNow();
    expect(hasOpenedIndex(alice.engine.ctx.vault.db)).toBe(false);
    await expect(loadEntries(alice.engine.ctx.vault)).rejects.toMatchObject({ code: 'Locked' });
    await alice.engine.locks.unlock('velvet tundra quiz marmalade osprey 93');
    expect(await found(alice, 'hi')).toHaveLength(2);
  });

  test('a vault created with the index has no history to walk: both backfills start done', async () => {
    const { alice } = await pair();
    for (const k of [BACKFILL_META, BACKFILL_GROUPS_META]) expect(await alice.engine.ctx.vault.db.get('meta', k), k).toEqual({ done: true });
  });
});
