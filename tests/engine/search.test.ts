/**
 * Message search through real engines on fake-indexeddb, with the repositories the worker runs
 * (workers/engine/search.ts, workers/storage/search-repo.ts): incremental indexing of sent and
 * received texts, edits replacing the old words, every deletion forgetting them (P44), file
 * names, the lazy backfill of history, and a raw dump of IndexedDB that never shows a searched
 * word, before and after a restart (P32).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { asUsername } from '../../src/lib/codec/username';
import { putMessage } from '../../workers/storage/message-repo';
import { loadEntries } from '../../workers/storage/search-cache';
import { BACKFILL_META, BACKFILL_PAGE } from '../../workers/engine/search';
import type { MessageRecord } from '../../workers/storage/schema';
import { commit } from '../../workers/storage/vault';
import { closeAll, newUser, openUser, settle, type User } from './support';
import { dumpAll, findNeedle } from './storage-dump';

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
  await alice.engine.lookupUser('bob');
  return { host, alice, bob };
}

const marked = (h: { snippet: string; marks: [number, number][] }) => h.marks.map(([a, b]) => h.snippet.slice(a, b));
const found = async (u: User, q: string) => (await u.engine.searchMessages(q)).hits.map((h) => h.snippet);
const indexedKeys = async (u: User) => (await loadEntries(u.engine.ctx.vault)).map((e) => e.k);

describe('search', () => {
  test('P44 sent and received texts are found as they arrive; an edit replaces the old words; deletes forget them', async () => {
    const { alice, bob } = await pair();
    const sent = await alice.engine.sendText(asUsername('bob'), 'Meet me at the Trattoria Ünder the bridge');
    await alice.engine.sendText(asUsername('bob'), 'unrelated words');
    await settle(alice, bob);

    const mine = await alice.engine.searchMessages('tratt');
    expect(mine.total).toBe(1);
    expect(mine.hits[0]).toMatchObject({ username: 'bob', id: sent.id, direction: 'out' });
    const theirs = await bob.engine.searchMessages('UNDER tratt');
    expect(theirs.hits).toHaveLength(1);
    expect(theirs.hits[0]).toMatchObject({ username: 'alice', id: `alice:${sent.id}`, direction: 'in' });
    expect(marked(theirs.hits[0]!)).toEqual(['Trattoria', 'Ünder']);

    // An edit: the old words are gone from both indexes, the new ones found.
    await alice.engine.editMessage(asUsername('bob'), sent.id, 'Meet me at the pizzeria');
    await settle(alice, bob);
    for (const u of [alice, bob]) {
      expect(await found(u, 'trattoria'), u.name).toEqual([]);
      expect(await found(u, 'pizz'), u.name).toEqual(['Meet me at the pizzeria']);
    }

    // Delete for everyone: the tombstone has no words; both sides forget the entry itself.
    await alice.engine.deleteForEveryone(asUsername('bob'), sent.id);
    await settle(alice, bob);
    for (const u of [alice, bob]) expect(await found(u, 'pizzeria'), u.name).toEqual([]);
    expect(await indexedKeys(alice)).not.toContain(sent.id);
    expect(await indexedKeys(bob)).not.toContain(`alice:${sent.id}`);

    // Delete for me: the row and its entry go in one transaction.
    const other = (await bob.engine.searchMessages('unrelated')).hits[0]!;
    await bob.engine.deleteForMe(asUsername('alice'), other.id);
    expect(await found(bob, 'unrelated')).toEqual([]);
    expect(await indexedKeys(bob)).not.toContain(other.id);
    expect(await found(alice, 'unrelated')).toEqual(['unrelated words']);
  });

  test('P44 P32 a dump of IndexedDB holds no searched word, before and after a restart, and none of a deleted one', async () => {
    const host = new MemoryHost();
    let alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(bob);
    await alice.engine.lookupUser('bob');
    const kept = await alice.engine.sendText(asUsername('bob'), 'zebracorn marmalade');
    const gone = await alice.engine.sendText(asUsername('bob'), 'quokkafish lemonade');
    await settle(alice, bob);
    expect(await found(alice, 'zebrac')).toEqual(['zebracorn marmalade']);

    const dump = await dumpAll();
    expect(dump.filter((r) => r.store === 'searchIndex').length).toBeGreaterThan(0);
    for (const word of ['zebracorn', 'marmalade', 'quokkafish', 'zebrac']) expect(findNeedle(dump, word), word).toEqual([]);

    // Restart: the index is on disk, sealed, and opens again.
    const dbName = alice.dbName;
    await alice.engine.close();
    alice = await openUser(host, 'alice', {}, dbName);
    open.push(alice);
    expect((await alice.engine.searchMessages('marmal')).hits.map((h) => h.id)).toEqual([kept.id]);
    expect(await found(alice, 'quokkafish')).toEqual(['quokkafish lemonade']);

    await alice.engine.deleteForMe(asUsername('bob'), gone.id);
    expect(await found(alice, 'quokkafish')).toEqual([]);
    expect(await indexedKeys(alice)).toEqual(expect.not.arrayContaining([gone.id]));
    const after = await dumpAll();
    for (const word of ['zebracorn', 'quokkafish', 'lemonade']) expect(findNeedle(after, word), word).toEqual([]);
  });

  test('files are found by their name; a query refuses nonsense limits and lengths', async () => {
    const { alice } = await pair();
    const fid = 'f1'.repeat(16);
    const file: MessageRecord = {
      key: fid,
      id: fid,
      username: asUsername('bob'),
      direction: 'out',
      body: '',
      sentAt: 5,
      receivedAt: 5,
      status: 'sent',
      attachment: { kind: 'attachment', id: fid, sentAt: 5, blobId: '0'.repeat(32), key: new Uint8Array(32), digest: new Uint8Array(32), size: 10, mime: 'application/pdf', name: 'Quarterly-Report_2026.pdf' }
    };
    await commit(alice.engine.ctx.vault, (tx) => putMessage(tx, file));
    const r = await alice.engine.searchMessages('quarterly rep');
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({ id: fid, file: 'Quarterly-Report_2026.pdf', snippet: 'Quarterly-Report_2026.pdf' });
    expect(marked(r.hits[0]!)).toEqual(['Quarterly', 'Report']);
    await expect(alice.engine.searchMessages('x'.repeat(201))).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.engine.searchMessages('x', 0)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await alice.engine.searchMessages(' … ')).toEqual({ hits: [], total: 0 });
  });

  test('history stored before the index existed is indexed on the first search, page by page', async () => {
    const { alice } = await pair();
    const n = BACKFILL_PAGE * 2 + 7;
    await commit(alice.engine.ctx.vault, async (tx) => {
      for (let i = 0; i < n; i++) {
        const key = `old${String(i).padStart(5, '0')}`;
        await putMessage(tx, { key, id: key, username: asUsername('bob'), direction: 'out', body: i % 100 === 0 ? `centennial note ${i}` : `filler ${i}`, sentAt: i + 1, receivedAt: i + 1, status: 'sent' });
      }
    });
    // As a vault from before the index: no index rows, no progress.
    await commit(alice.engine.ctx.vault, async (tx) => {
      await tx.objectStore('searchIndex').clear();
      await tx.objectStore('meta').delete(BACKFILL_META);
    });
    expect(await indexedKeys(alice)).toEqual([]);
    const r = await alice.engine.searchMessages('centennial');
    expect(r.total).toBe(Math.ceil(n / 100));
    expect(r.hits[0]!.snippet).toBe(`centennial note ${Math.floor((n - 1) / 100) * 100}`);
    expect(await alice.engine.ctx.vault.db.get('meta', BACKFILL_META)).toEqual({ done: true });
    expect((await indexedKeys(alice)).length).toBe(n);
  });

  test('P44 deleting a message request forgets every entry of that chat', async () => {
    const { alice, bob } = await pair();
    await alice.engine.sendText(asUsername('bob'), 'a request about aardvarks');
    await settle(alice, bob);
    expect(await found(bob, 'aardvark')).toEqual(['a request about aardvarks']);
    await bob.engine.deleteRequest(asUsername('alice'));
    expect(await found(bob, 'aardvark')).toEqual([]);
    expect((await loadEntries(bob.engine.ctx.vault)).filter((e) => e.c === 'alice')).toEqual([]);
  });
});
