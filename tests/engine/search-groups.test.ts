/**
 * Group messages in search (README "Search"; SECURITY.md P32, P44), through real engines on an
 * in-memory host: a group text is indexed as it is sent and as it arrives, found by every member
 * with the group named and its sender, never mixed up with 1:1 texts; a dump of IndexedDB holds
 * none of its words; and group history from before the group index is indexed by the backfill.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { MemoryHost } from '../../workers/engine/memory-host';
import { BACKFILL_GROUPS_META } from '../../workers/engine/search';
import { loadEntries } from '../../workers/storage/search-cache';
import { SEARCH_STAMP } from '../../workers/storage/search-repo';
import { commit } from '../../workers/storage/vault';
import { dumpAll, findNeedle } from './storage-dump';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function trio() {
  const host = new MemoryHost();
  const [ann, ben, cat] = [await newUser(host, 'ann'), await newUser(host, 'ben'), await newUser(host, 'cat')];
  open.push(ann, ben, cat);
  const id = await ann.engine.createGroup('Climbing', 'Saturday plans', ['ben', 'cat']);
  await settle(ann, ben, cat);
  return { ann, ben, cat, id };
}

describe('search in groups', () => {
  test('P32 a group text is found by every member, naming the group and its sender, and opens at its id', async () => {
    const { ann, ben, cat, id } = await trio();
    await ann.engine.sendGroupText(id, 'Bouldering at Gravity Hall, Saturday?');
    await settle(ann, ben, cat);
    await ben.engine.sendGroupText(id, 'gravity it is');
    await settle(ann, ben, cat);
    // A 1:1 text with the same word: both kinds answer, newest first.
    await cat.engine.lookupUser('ann');
    await cat.engine.sendText(asUsername('ann'), 'no gravity on the moon');
    await settle(ann, ben, cat);

    const r = await cat.engine.searchMessages('GRAVIT');
    expect(r.total).toBe(3);
    expect(r.hits.map((h) => [h.group?.name, h.username, h.direction, h.snippet])).toEqual([
      [undefined, 'ann', 'out', 'no gravity on the moon'],
      ['Climbing', 'ben', 'in', 'gravity it is'],
      ['Climbing', 'ann', 'in', 'Bouldering at Gravity Hall, Saturday?']
    ]);
    expect(r.hits[1]!.group).toEqual({ id, name: 'Climbing' });
    // The hit's id is the conversation's id of that message.
    const ids = (await cat.engine.listGroupMessages(id)).filter((m) => m.kind === 'text').map((m) => m.id);
    expect(ids).toContain(r.hits[1]!.id);
    expect(ids).toContain(r.hits[2]!.id);

    const mine = await ann.engine.searchMessages('boulder');
    expect(mine.hits).toMatchObject([{ group: { id, name: 'Climbing' }, username: 'ann', direction: 'out' }]);
    expect(mine.hits[0]!.marks.map(([a, b]) => mine.hits[0]!.snippet.slice(a, b))).toEqual(['Bouldering']);

    const dump = await dumpAll();
    for (const word of ['bouldering', 'Bouldering', 'gravity', 'Gravity']) expect(findNeedle(dump, word), word).toEqual([]);
  });

  test('group history stored before the group index existed is indexed on the first search', async () => {
    const { ann, ben, cat, id } = await trio();
    await ann.engine.sendGroupText(id, 'carabiner count');
    await settle(ann, ben, cat);
    // As a vault from before group messages were indexed: no group entries, no group progress,
    // and no stamp (a build from before the stamp wrote none: the opened copy is never trusted).
    const vault = ben.engine.ctx.vault;
    const groupEntries = async () => (await loadEntries(vault)).filter((e) => e.g === 1);
    expect(await groupEntries()).toHaveLength(1);
    await commit(vault, async (tx) => {
      await tx.objectStore('searchIndex').clear();
      await tx.objectStore('meta').delete(BACKFILL_GROUPS_META);
      await tx.objectStore('meta').delete(SEARCH_STAMP);
    });
    expect(await groupEntries()).toHaveLength(0);
    expect((await ben.engine.searchMessages('carabin')).hits).toMatchObject([{ group: { id }, snippet: 'carabiner count' }]);
    expect(await vault.db.get('meta', BACKFILL_GROUPS_META)).toEqual({ done: true });
  });
});
