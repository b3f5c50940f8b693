/**
 * The key handoff (src/lib/crypto/group/key-handoff.ts; README "Groups": master key rotation):
 * each member after the change finds the new key under its own identity, nobody else does, and
 * only the rotator's signature is taken.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { initSodium } from '../../../src/lib/crypto/sodium';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { isProtocolError } from '../../../src/lib/codec/errors';
import { decodeHandoff, encodeHandoff, makeHandoff, openHandoff } from '../../../src/lib/crypto/group/key-handoff';
import { makeGroup, person } from './fixtures';

beforeAll(initSodium);

const ann = person('ann');
const ben = person('ben');
const cat = person('cat');
const dan = person('dan');
const KEY = new Uint8Array(32).map((_, i) => i + 1);
const CHANGE = 'ab'.repeat(32);

function handoff() {
  const after = makeGroup({ creator: ann, members: [ben, cat] });
  const made = makeHandoff({ groupId: after.groupId, change: CHANGE, history: new Uint8Array([1, 2, 3]), after, key: KEY, rotator: { address: ann.address, identity: ann.identity } }, seededDeps('handoff'));
  return { after, made };
}

describe('key handoff', () => {
  test('every member after the change but the rotator opens the key; one who is not there finds no entry', () => {
    const { after, made } = handoff();
    const h = decodeHandoff(encodeHandoff(made));
    expect(h.entries.map((e) => e.address.username)).toEqual(['ben', 'cat']);
    const open = (p: typeof ben) => openHandoff(h, { groupId: after.groupId, us: p.address, identity: p.identity, rotatorSigningKey: ann.identity.signing.publicKey });
    expect(open(ben)).toEqual(KEY);
    expect(open(cat)).toEqual(KEY);
    expect(open(dan)).toBeUndefined();
  });

  test('another identity cannot open someone else\'s entry', () => {
    const { after, made } = handoff();
    const stolen = openHandoff(made, { groupId: after.groupId, us: ben.address, identity: dan.identity, rotatorSigningKey: ann.identity.signing.publicKey });
    expect(stolen).not.toEqual(KEY);
  });

  test.each([
    ['signed by someone else', (h: ReturnType<typeof handoff>['made']) => h, dan.identity.signing.publicKey],
    ['an entry changed', (h: ReturnType<typeof handoff>['made']) => ({ ...h, entries: h.entries.map((e, i) => (i === 0 ? { ...e, masked: e.masked.map((b, j) => (j === 0 ? b ^ 1 : b)) } : e)) }), ann.identity.signing.publicKey],
    ['bound to another change', (h: ReturnType<typeof handoff>['made']) => ({ ...h, change: 'cd'.repeat(32) }), ann.identity.signing.publicKey],
    ['an entry dropped', (h: ReturnType<typeof handoff>['made']) => ({ ...h, entries: h.entries.slice(1) }), ann.identity.signing.publicKey]
  ])('%s: InvalidSignature, no key', (_name, change, signer) => {
    const { after, made } = handoff();
    try {
      openHandoff(change(made), { groupId: after.groupId, us: cat.address, identity: cat.identity, rotatorSigningKey: signer });
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'InvalidSignature')).toBe(true);
    }
  });

  test('a truncated or extended encoding does not decode', () => {
    const bytes = encodeHandoff(handoff().made);
    expect(() => decodeHandoff(bytes.subarray(0, bytes.length - 1))).toThrow();
    expect(() => decodeHandoff(new Uint8Array([...bytes, 0]))).toThrow();
  });
});
