// Seal keys for sealed sender v3 (workers/engine/group-seal-keys.ts, SECURITY.md P41): which of
// our seal keys a group message may use, and in what order a v3 envelope tries the ones we hold.
import { describe, expect, test } from 'vitest';
import { toHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import type { TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { sealKeyCandidates, v3SealKeys } from '../../workers/engine/group-seal-keys';
import type { GroupRecord } from '../../workers/storage/group-repo';

const key = (n: number) => new Uint8Array(32).fill(n);
const dist = (n: number) => new Uint8Array(16).fill(n);
const identity = (n: number) => new Uint8Array(65).fill(n);

/** A record with only what the seal-key functions read. */
function record(theirs: { sender: string; d: number; seal?: number }[], ours: { distributedTo?: string[]; sealKeys?: Record<string, number> } = {}): GroupRecord {
  return {
    theirs: theirs.map((t) => ({ theirAddress: { username: t.sender, device: 1 }, distributionId: dist(t.d) }) as unknown as TheirSenderKey),
    sealFrom: Object.fromEntries(theirs.filter((t) => t.seal !== undefined).map((t) => [toHex(dist(t.d)), key(t.seal!)])),
    keyFrom: Object.fromEntries(theirs.map((t) => [toHex(dist(t.d)), identity(t.d)])),
    distributedTo: (ours.distributedTo ?? []) as Username[],
    ...(ours.sealKeys ? { sealKeys: Object.fromEntries(Object.entries(ours.sealKeys).map(([u, n]) => [u, key(n)])) } : {})
  } as unknown as GroupRecord;
}

describe('P41 seal keys (sealed sender v3)', () => {
  test('every member\'s newest seal key in every group is tried before any older one, each with the identity its key came under', () => {
    // Group 1: ann's newest (d1) then her older (d2), ben's newest (d3). Group 2: cat's newest (d4), older (d5).
    const g1 = record([
      { sender: 'ann', d: 1, seal: 11 },
      { sender: 'ann', d: 2, seal: 12 },
      { sender: 'ben', d: 3, seal: 13 }
    ]);
    const g2 = record([
      { sender: 'cat', d: 4, seal: 14 },
      { sender: 'cat', d: 5, seal: 15 }
    ]);
    const got = sealKeyCandidates([g1, g2]);
    expect(got.map((c) => [c.username, c.sealKey[0]])).toEqual([
      ['ann', 11],
      ['ben', 13],
      ['cat', 14],
      ['ann', 12],
      ['cat', 15]
    ]);
    expect(got.map((c) => c.identity[0])).toEqual([1, 3, 4, 2, 5]);
  });

  test('a sender key that came without a seal key (a distribution before v3) is no candidate', () => {
    expect(sealKeyCandidates([record([{ sender: 'ann', d: 1 }, { sender: 'ben', d: 2, seal: 9 }])]).map((c) => c.username)).toEqual(['ben']);
  });

  test('our group message uses v3 only when every recipient holds our current key with a seal key', () => {
    const g = record([], { distributedTo: ['ann', 'ben'], sealKeys: { ann: 1, ben: 2, cat: 3 } });
    expect(v3SealKeys(g, ['ben', 'ann'] as Username[])?.map((k) => k[0])).toEqual([2, 1]);
    // Cat has a seal key from an older key of ours but not our current one: the whole send goes v2.
    expect(v3SealKeys(g, ['ann', 'cat'] as Username[])).toBeUndefined();
    // Dan was given nothing.
    expect(v3SealKeys(record([], { distributedTo: ['ann', 'dan'], sealKeys: { ann: 1 } }), ['ann', 'dan'] as Username[])).toBeUndefined();
    expect(v3SealKeys(record([], { distributedTo: ['ann'] }), ['ann'] as Username[])).toBeUndefined();
  });
});
