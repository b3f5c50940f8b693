/**
 * Stored group histories decoded once per exact encoding (workers/storage/history-memo.ts, used by
 * group-repo.ts): a read of an unchanged group does not replay its changes again,
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
import { groupHistoriesHeld, putGroup, txGetGroup, type GroupRecord } from '../../workers/storage/group-repo';
import { lockVault } from '../../workers/storage/app-lock-repo';
import { HistoryMemo } from '../../workers/storage/history-memo';
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

  test('P46 locking drops the decoded histories (names, members, pictures): a locked worker holds no group plaintext', async () => {
    const v = await vault();
    const id = 'c3'.repeat(32);
    await commit(v, (tx) => putGroup(tx, record(id, history('Night shift'))));
    await read(v, id);
    // The check can fail: a read keeps the decoded history.
    expect(groupHistoriesHeld().histories).toBeGreaterThan(0);
    await lockVault(v);
    expect(groupHistoriesHeld()).toEqual({ histories: 0, chars: 0 });
  });

  test('the memo is bounded by its encodings\' length: least recently used out, one too large never kept, encodings reused', () => {
    const decodes: string[] = [];
    const memo = new HistoryMemo(10);
    const decode = (e: string) => {
      decodes.push(e);
      return { e } as unknown as GroupHistory;
    };
    const a = memo.decode('aaaa', decode);
    expect(memo.decode('aaaa', decode)).toBe(a);
    const b = memo.decode('bbbb', decode);
    // 'aaaa' read again: now 'bbbb' is the least recently used, and goes when 'cccc' would pass 10.
    memo.decode('aaaa', decode);
    memo.decode('cccc', decode);
    expect(memo.size).toEqual({ histories: 2, chars: 8 });
    expect(memo.decode('aaaa', decode)).toBe(a);
    expect(memo.decode('bbbb', decode)).not.toBe(b);
    // Longer than the whole budget: decoded every time, and nothing kept is pushed out for it.
    const big = 'x'.repeat(11);
    expect(memo.decode(big, decode)).not.toBe(memo.decode(big, decode));
    expect(decodes).toEqual(['aaaa', 'bbbb', 'cccc', 'bbbb', big, big]);
    expect(memo.size.chars).toBeLessThanOrEqual(10);
    // A history decoded here (kept or not) is encoded as it came, without encoding it again.
    const encode = () => {
      throw new Error('encoded again');
    };
    expect(memo.encode(a, encode)).toBe('aaaa');
    const fresh = {} as GroupHistory;
    expect(memo.encode(fresh, () => 'ffff')).toBe('ffff');
    expect(memo.encode(fresh, encode)).toBe('ffff');
  });
});
