/**
 * Master key epochs (src/lib/crypto/group/key-epochs.ts; README "Groups": master key rotation):
 * who makes the key of a change that takes someone out, from whom a key is taken, and which key
 * seals the state blob, over real signed changes and the real fork choice.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { initSodium } from '../../../src/lib/crypto/sodium';
import { changeId } from '../../../src/lib/crypto/group/group-change';
import { receiveChange, startHistory, type GroupHistory } from '../../../src/lib/crypto/group/group-history';
import type { GroupAction } from '../../../src/lib/crypto/group/group-change';
import { acceptsEpoch, awaitsEpoch, currentMasterKey, owedEpoch, rotatorOf, withEpoch, MAX_KEY_EPOCHS, type KeyEpoch } from '../../../src/lib/crypto/group/key-epochs';
import { add, change, makeGroup, person } from './fixtures';

beforeAll(initSodium);

const ann = person('ann');
const ben = person('ben');
const cat = person('cat');
const dan = person('dan');
const key = (b: number) => new Uint8Array(32).fill(b);
const BASE = key(0);

/** ann (admin) and ben (admin), with cat and dan. */
function start(): GroupHistory {
  return startHistory(makeGroup({ creator: ann, admins: [ben], members: [cat, dan] }));
}

function apply(h: GroupHistory, by: typeof ann, ...actions: GroupAction[]): { h: GroupHistory; id: string; version: number } {
  const c = change(h.head, by, ...actions);
  return { h: receiveChange(h, c).history, id: changeId(c), version: c.baseVersion + 1 };
}

describe('master key epochs', () => {
  test('a removal is keyed by its author; a leave by the first admin of the state after it; other changes by nobody', () => {
    const h0 = start();
    const removal = apply(h0, ben, { type: 'removeMember', address: cat.address });
    expect(rotatorOf(removal.h, removal.id)?.username).toBe('ben');
    const leave = apply(removal.h, dan, { type: 'leave' });
    expect(rotatorOf(leave.h, leave.id)?.username).toBe('ann');
    // ann leaves: ben is the first admin left.
    const annLeaves = apply(h0, ann, { type: 'leave' });
    expect(rotatorOf(annLeaves.h, annLeaves.id)?.username).toBe('ben');
    const rename = apply(h0, ann, { type: 'setName', name: 'x' });
    expect(rotatorOf(rename.h, rename.id)).toBeUndefined();
    const added = apply(h0, ann, add(person('eve')));
    expect(rotatorOf(added.h, added.id)).toBeUndefined();
  });

  test('a key is taken only from the rotator, only for a change on the path, and only once', () => {
    const r = apply(start(), ben, { type: 'removeMember', address: cat.address });
    expect(acceptsEpoch(r.h, [], r.id, ann.address)).toBe(false);
    expect(acceptsEpoch(r.h, [], r.id, dan.address)).toBe(false);
    expect(acceptsEpoch(r.h, [], r.id, cat.address)).toBe(false);
    expect(acceptsEpoch(r.h, [], r.id, ben.address)).toBe(true);
    const held: KeyEpoch[] = [{ change: r.id, version: r.version, key: key(1) }];
    expect(acceptsEpoch(r.h, held, r.id, ben.address)).toBe(false); // a replay changes nothing
    expect(acceptsEpoch(r.h, [], 'ab'.repeat(32), ben.address)).toBe(false);
  });

  test('the newest live epoch seals the blob; before any, the base key', () => {
    const h0 = start();
    expect(currentMasterKey(h0, BASE, [])).toEqual(BASE);
    const r1 = apply(h0, ben, { type: 'removeMember', address: cat.address });
    const r2 = apply(r1.h, ann, { type: 'removeMember', address: dan.address });
    const epochs = [
      { change: r2.id, version: r2.version, key: key(2) },
      { change: r1.id, version: r1.version, key: key(1) }
    ];
    expect(currentMasterKey(r2.h, BASE, epochs)).toEqual(key(2));
    // Holding only the older key (the newer one not arrived yet): the older one, never the base.
    expect(currentMasterKey(r2.h, BASE, [epochs[1]!])).toEqual(key(1));
  });

  test('P19 an epoch whose removal a simultaneous change voided is dead; the winner\'s key is used', () => {
    const h0 = start();
    // ann and ben each remove the other at once: the branches strike each other, one wins.
    const a = change(h0.head, ann, { type: 'removeMember', address: ben.address });
    const b = change(h0.head, ben, { type: 'removeMember', address: ann.address });
    const h = receiveChange(receiveChange(h0, a).history, b).history;
    const win = h.canonical.at(-1)!;
    const lose = win === changeId(a) ? changeId(b) : changeId(a);
    const epochs = [
      { change: lose, version: 1, key: key(7) },
      { change: win, version: 1, key: key(8) }
    ];
    expect(currentMasterKey(h, BASE, epochs)).toEqual(key(8));
    expect(currentMasterKey(h, BASE, [epochs[0]!])).toEqual(BASE);
    expect(acceptsEpoch(h, [], lose, win === changeId(a) ? ben.address : ann.address)).toBe(false);
  });

  test('a leave owes its key to the first admin, until an epoch at or after it exists', () => {
    const left = apply(start(), dan, { type: 'leave' });
    expect(owedEpoch(left.h, [], ben.address)).toBeUndefined();
    expect(owedEpoch(left.h, [], dan.address)).toBeUndefined();
    expect(owedEpoch(left.h, [], ann.address) && changeId(owedEpoch(left.h, [], ann.address)!)).toBe(left.id);
    expect(owedEpoch(left.h, [{ change: left.id, version: left.version, key: key(3) }], ann.address)).toBeUndefined();
    // A later removal by ben supersedes it: ben's key covers both, ann owes nothing.
    const later = apply(left.h, ben, { type: 'removeMember', address: cat.address });
    expect(owedEpoch(later.h, [{ change: later.id, version: later.version, key: key(4) }], ann.address)).toBeUndefined();
    // A rename after the leave does not hide it.
    const renamed = apply(left.h, ben, { type: 'setName', name: 'y' });
    expect(owedEpoch(renamed.h, [], ann.address) && changeId(owedEpoch(renamed.h, [], ann.address)!)).toBe(left.id);
  });

  test('a key is awaited for the newest exclusion until it is held, a newer one is, or its rotator has gone', () => {
    const leave = apply(start(), dan, { type: 'leave' });
    expect(awaitsEpoch(leave.h, [], leave.id)).toBe(true);
    expect(awaitsEpoch(leave.h, [{ change: leave.id, version: leave.version, key: key(1) }], leave.id)).toBe(false);
    // Not a change that took someone out, or not on the path: nothing to wait for.
    const rename = apply(leave.h, ben, { type: 'setName', name: 'x' });
    expect(awaitsEpoch(rename.h, [], rename.id)).toBe(false);
    expect(awaitsEpoch(rename.h, [], 'ab'.repeat(32))).toBe(false);
    // A later removal whose key we hold covers it (dan holds neither key).
    const removal = apply(rename.h, ben, { type: 'removeMember', address: cat.address });
    expect(awaitsEpoch(removal.h, [{ change: removal.id, version: removal.version, key: key(2) }], leave.id)).toBe(false);
    expect(awaitsEpoch(removal.h, [], leave.id)).toBe(true);
    // The rotator (ann, the first admin after dan's leave) leaves too: that key never comes.
    const annLeaves = apply(leave.h, ann, { type: 'leave' });
    expect(awaitsEpoch(annLeaves.h, [], leave.id)).toBe(false);
  });

  test('epochs are bounded, newest kept', () => {
    let epochs: KeyEpoch[] = [];
    for (let v = 1; v <= MAX_KEY_EPOCHS + 3; v++) epochs = withEpoch(epochs, { change: String(v), version: v, key: key(v) });
    expect(epochs).toHaveLength(MAX_KEY_EPOCHS);
    expect(epochs[0]!.version).toBe(MAX_KEY_EPOCHS + 3);
  });
});
