/**
 * Stored group histories decoded once per exact encoding (workers/storage/group-repo.ts
 * `historyFrom` / `historyTo`): a read of an unchanged group does not replay its changes again,
 * yet every read sees exactly what is stored (P19: a change written is the change read, another
 * tab's write is seen at once), and the memo is bounded.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { identityPublic } from '../../src/lib/crypto/identity';
import { createChange } from '../../src/lib/crypto/group/group-change';
import { createGenesis } from '../../src/lib/crypto/group/group-state';
import { receiveChange, startHistory, type GroupHistory } from '../../src/lib/crypto/group/group-history';
import { encodeGroupHistory } from '../../src/lib/crypto/group/group-history-codec';
import type { Username } from '../../src/lib/codec/username';
import { commit, loadVault } from '../../workers/storage/vault';
import { HISTORY_MEMO_CAPACITY, putGroup, txGetGroup, type GroupRecord } from '../../workers/storage/group-repo';
import type { Vault } from '../../workers/storage/schema';
import { person } from '../crypto/group/fixtures';

const deps = seededDeps('history-memo');
const ann = person('ann');
const opened: Vault[] = [];
let n = 0;

async function vault(): Promise<Vault> {
  const v = await loadVault(`history-memo-${n++}`);
  opened.push(v);
  return v;
}

afterEach(() => {
  for (const v of opened.splice(0)) v.db.close();
});

function history(name: string): GroupHistory {
  return startHistory(createGenesis({ creator: { address: ann.address, identity: identityPublic(ann.identity) }, name }, deps));
}

function renamed(h: GroupHistory, name: string): GroupHistory {
  return receiveChange(h, createChange({ base: h.head, author: ann.address, authorIdentity: ann.identity, actions: [{ type: 'setName', name }] })).history;
}

function record(id: string, h: GroupHistory): GroupRecord {
  return { id, history: h, masterKey: deps.rng(32), distributedTo: [] as Username[], theirs: [], lastAt: 0, lastPreview: '', unread: 0, missing: 0, seenVersion: 0, outgoing: [] };
}

const read = (v: Vault, id: string) => commit(v, (tx) => txGetGroup(tx, id)).then((g) => g!);
const bytesOf = (h: GroupHistory) => Buffer.from(encodeGroupHistory(h, { orphans: true, branches: true }));

describe('stored group histories are decoded once per exact encoding', () => {
  test('P19 two reads of an unchanged group share one decoded history; a change written is read back as written', async () => {
    const v = await vault();
    const id = 'a1'.repeat(32);
    await commit(v, (tx) => putGroup(tx, record(id, history('Book club'))));
    const first = await read(v, id);
    // A counter changed and written back (what a received message does): the history is not new.
    await commit(v, (tx) => putGroup(tx, { ...first, unread: first.unread + 1 }));
    const second = await read(v, id);
    expect(second.unread).toBe(1);
    expect(second.history).toBe(first.history);
    // A change: a new encoding, decoded afresh, exactly what was written.
    const next = renamed(second.history, 'Reading club');
    await commit(v, (tx) => putGroup(tx, { ...second, history: next }));
    const third = await read(v, id);
    expect(third.history).not.toBe(first.history);
    expect(third.history.head.name).toBe('Reading club');
    expect(third.history.head.version).toBe(first.history.head.version + 1);
    expect(bytesOf(third.history).equals(bytesOf(next))).toBe(true);
  });

  test('P19 another connection (a second tab) writing a new history is seen by the next read of the first', async () => {
    const v = await vault();
    const other = await loadVault(v.name);
    opened.push(other);
    const id = 'b2'.repeat(32);
    await commit(v, (tx) => putGroup(tx, record(id, history('Choir'))));
    const before = await read(v, id);
    await commit(other, async (tx) => {
      const g = (await txGetGroup(tx, id))!;
      await putGroup(tx, { ...g, history: renamed(g.history, 'Chamber choir') });
    });
    const after = await read(v, id);
    expect(after.history.head.name).toBe('Chamber choir');
    expect(before.history.head.name).toBe('Choir');
  });

  test('the memo is bounded: past its capacity the least recently read history is decoded again', async () => {
    const v = await vault();
    const ids = Array.from({ length: HISTORY_MEMO_CAPACITY + 1 }, (_, i) => i.toString(16).padStart(2, '0').repeat(32));
    for (const [i, id] of ids.entries()) await commit(v, (tx) => putGroup(tx, record(id, history(`Group ${i}`))));
    const firstRead = await read(v, ids[0]!);
    expect((await read(v, ids[0]!)).history).toBe(firstRead.history);
    // Every other group read once: the first is now the oldest entry, and one too many.
    for (const id of ids.slice(1)) await read(v, id);
    const again = await read(v, ids[0]!);
    expect(again.history).not.toBe(firstRead.history);
    expect(bytesOf(again.history).equals(bytesOf(firstRead.history))).toBe(true);
  });
});
