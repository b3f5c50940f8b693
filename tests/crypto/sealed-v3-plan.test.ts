/**
 * The prepared v3 send (src/lib/crypto/sealed-sender-v3-plan.ts; SECURITY.md P41, P46): a kept
 * plan seals byte for byte what a one-use plan (`sealSenderKeyed`, the frozen vectors' path) does,
 * serves only the list it was made for, picks up a changed identity key, and holds no seal key in
 * libsodium's heap between sends; the per-group cache keeps one plan per group, a few groups.
 */
import { describe, expect, test } from 'vitest';
import { codeOf } from '../support/code-of';
import { seededDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic, type IdentityPublic } from '../../src/lib/crypto/identity';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { parseSealedSenderV2Sent, receivedSealedSenderV2 } from '../../src/lib/crypto/sealed-sender-v2';
import { openSealedSenderV3, sealSenderKeyed, type SealKeyCandidate } from '../../src/lib/crypto/sealed-sender-v3';
import { KeyedPlanCache, KeyedSendPlan, type KeyedSealInput, type PlanRecipient } from '../../src/lib/crypto/sealed-sender-v3-plan';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { sodium } from '../../src/lib/crypto/sodium';
import { asUsername } from '../../src/lib/codec/username';
import { sealedWorld } from './sealed-fixtures';

const world = sealedWorld('sealed-v3-plan');
const { deps, trust } = world;
const alice = world.user('alice');
const te = new TextEncoder();
const names = ['bob', 'carol', 'dave', 'erin'];
const members = names.map((username) => ({ username, identity: generateIdentity(deps) }));
const recipients: PlanRecipient[] = members.map((m, i) => ({ username: m.username, devices: i === 2 ? [1, 4] : [1], identity: identityPublic(m.identity) }));
const keys = members.map(() => deps.rng(32));

function input(text: string, headroom = 0): KeyedSealInput {
  return { ourIdentity: alice.identity, senderCertificate: alice.certificate, contentType: SealedContentType.senderKey, content: te.encode(text), headroom };
}

/** What member `i` (holding its identity `id`) reads of `sent`. */
function openAs(i: number, sent: Uint8Array, sealKey = keys[i]!, identity = members[i]!.identity): string {
  const parsed = parseSealedSenderV2Sent(sent, 1 << 20);
  const mine = receivedSealedSenderV2(parsed.recipients.find((r) => r.username === names[i])!, parsed);
  const candidates: SealKeyCandidate[] = [{ sealKey, username: 'alice', identity: encodeIdentityPublic(identityPublic(alice.identity)) }];
  const opened = openSealedSenderV3({ message: mine, ourIdentity: identity, ourAddress: { username: asUsername(names[i]!), device: 1 }, trust, candidates }, deps);
  return new TextDecoder().decode(opened.content);
}

/** Where `needle` occurs in libsodium's whole heap (the raw module's HEAPU8). */
function inHeap(needle: Uint8Array): boolean {
  const heap = (sodium() as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
  const first = needle[0]!;
  for (let p = heap.indexOf(first); p >= 0 && p <= heap.length - needle.length; p = heap.indexOf(first, p + 1)) {
    let i = 1;
    while (i < needle.length && heap[p + i] === needle[i]) i++;
    if (i === needle.length) return true;
  }
  return false;
}

describe('P41 a kept v3 send plan', () => {
  test('seals byte for byte what sealSenderKeyed seals, send after send, with headroom or not', () => {
    const plan = new KeyedSendPlan(recipients);
    try {
      for (const [n, text] of ['one', 'two', 'a third, longer message'].entries()) {
        // The same random draws for both (M, and the padding's), from the same seed.
        const a = seededDeps(`plan-${n}`);
        const b = seededDeps(`plan-${n}`);
        const kept = plan.trySeal(input(text, n * 7), recipients, keys, a)!;
        const once = sealSenderKeyed({ ...input(text, n * 7), recipients: recipients.map((r, i) => ({ ...r, sealKey: keys[i]! })) }, b);
        expect(kept).toEqual(once);
        expect(kept.subarray(0, n * 7)).toEqual(new Uint8Array(n * 7));
        for (let i = 0; i < names.length; i++) expect(openAs(i, kept.subarray(n * 7))).toBe(text);
      }
    } finally {
      plan.dispose();
    }
  });

  test('serves only its own list: another order, name, device list or count seals nothing and draws no randomness', () => {
    const plan = new KeyedSendPlan(recipients);
    try {
      let draws = 0;
      const counting = { ...deps, rng: (n: number) => (draws++, deps.rng(n)) };
      const swapped = [recipients[1]!, recipients[0]!, ...recipients.slice(2)];
      const renamed = recipients.map((r, i) => (i === 3 ? { ...r, username: 'frank' } : r));
      const moreDevices = recipients.map((r, i) => (i === 0 ? { ...r, devices: [1, 2] } : r));
      const otherDevice = recipients.map((r, i) => (i === 2 ? { ...r, devices: [1, 5] } : r));
      expect(plan.trySeal(input('x'), swapped, [keys[1]!, keys[0]!, ...keys.slice(2)], counting)).toBeUndefined();
      expect(plan.trySeal(input('x'), renamed, keys, counting)).toBeUndefined();
      expect(plan.trySeal(input('x'), moreDevices, keys, counting)).toBeUndefined();
      expect(plan.trySeal(input('x'), otherDevice, keys, counting)).toBeUndefined();
      expect(plan.trySeal(input('x'), recipients.slice(1), keys.slice(1), counting)).toBeUndefined();
      expect(draws).toBe(0);
      // The check can fail: its own list seals.
      expect(plan.trySeal(input('x'), recipients, keys, counting)).toBeInstanceOf(Uint8Array);
      expect(draws).toBeGreaterThan(0);
    } finally {
      plan.dispose();
    }
  });

  test('a recipient whose identity key changed gets the new key in its input: it opens with the new identity, not the old', () => {
    const plan = new KeyedSendPlan(recipients);
    try {
      const carolAgain = generateIdentity(deps);
      const changed = recipients.map((r, i) => (i === 1 ? { ...r, identity: identityPublic(carolAgain) as IdentityPublic } : r));
      const sent = plan.trySeal(input('after the key change'), changed, keys, deps)!;
      expect(openAs(1, sent, keys[1], carolAgain)).toBe('after the key change');
      expect(codeOf(() => openAs(1, sent, keys[1], members[1]!.identity))).toBe('InvalidMac');
      // And back: the plan follows the list it is given each time.
      expect(openAs(1, plan.trySeal(input('back'), recipients, keys, deps)!)).toBe('back');
    } finally {
      plan.dispose();
    }
  });

  test('P46 holds no seal key between sends: after a send none is in the heap, while the (public) identity keys it keeps are', () => {
    const plan = new KeyedSendPlan(recipients);
    try {
      const fresh = members.map(() => deps.rng(32));
      plan.trySeal(input('secret keys in, then out'), recipients, fresh, deps);
      for (const k of fresh) expect(inHeap(k)).toBe(false);
      // The search can fail: what the plan does keep is found.
      for (const r of recipients) expect(inHeap(r.identity.dhKey)).toBe(true);
      // A failed send (a bad key part-way) zeroes what it had written as well.
      const bad = [...fresh.slice(0, 2), new Uint8Array(31), fresh[3]!];
      expect(codeOf(() => plan.trySeal(input('x'), recipients, bad, deps))).toBe('InvalidKey');
      for (const k of fresh) expect(inHeap(k)).toBe(false);
    } finally {
      plan.dispose();
    }
  });

  test('bad input is refused with a clear code: seal keys of another count, a bad identity key, a bad headroom, a bad list', () => {
    const plan = new KeyedSendPlan(recipients);
    try {
      expect(codeOf(() => plan.trySeal(input('x'), recipients, keys.slice(1), deps))).toBe('InvalidArgument');
      expect(codeOf(() => plan.trySeal(input('x', -1), recipients, keys, deps))).toBe('InvalidArgument');
      const short = recipients.map((r, i) => (i === 0 ? { ...r, identity: { ...r.identity, dhKey: new Uint8Array(31) } } : r));
      expect(codeOf(() => plan.trySeal(input('x'), short, keys, deps))).toBe('InvalidKey');
    } finally {
      plan.dispose();
    }
    expect(codeOf(() => new KeyedSendPlan([recipients[0]!, recipients[0]!]))).toBe('InvalidArgument');
    expect(codeOf(() => new KeyedSendPlan([]))).toBe('InvalidArgument');
    expect(codeOf(() => new KeyedSendPlan([{ ...recipients[0]!, devices: [2, 1] }]))).toBe('InvalidArgument');
  });
});

describe('P41 the per-group plan cache', () => {
  test('keeps one plan per group while its list holds, replaces it when the list changes, keeps a few groups and clears', () => {
    const cache = new KeyedPlanCache(2);
    const spy = (group: string, list: PlanRecipient[], ks: Uint8Array[], text: string) => {
      const before = cache.size;
      const sent = cache.seal(group, input(text), list, ks, deps);
      return { sent, before };
    };
    const first = spy('g1', recipients, keys, 'g1 first');
    expect(first.before).toBe(0);
    expect(cache.size).toBe(1);
    expect(openAs(0, first.sent)).toBe('g1 first');
    // A member left: g1's plan is replaced, not added to.
    const fewer = spy('g1', recipients.slice(1), keys.slice(1), 'g1 without bob');
    expect(cache.size).toBe(1);
    expect(openAs(3, fewer.sent)).toBe('g1 without bob');
    expect(parseSealedSenderV2Sent(fewer.sent, 1 << 20).recipients.map((r) => r.username)).toEqual(names.slice(1));
    spy('g2', recipients.slice(0, 2), keys.slice(0, 2), 'g2');
    spy('g3', recipients.slice(2), keys.slice(2), 'g3');
    expect(cache.size).toBe(2);
    // g1 was the least recently used: made again, and it still seals right.
    expect(openAs(1, spy('g1', recipients, keys, 'g1 back').sent)).toBe('g1 back');
    expect(cache.size).toBe(2);
    // A send that fails (a bad seal key) drops that group's plan, freed, and the next one makes it again.
    const bad = [new Uint8Array(31), ...keys.slice(1)];
    expect(codeOf(() => cache.seal('g1', input('x'), recipients, bad, deps))).toBe('InvalidKey');
    expect(cache.size).toBe(1);
    expect(openAs(2, spy('g1', recipients, keys, 'g1 again').sent)).toBe('g1 again');
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(codeOf(() => new KeyedPlanCache(0))).toBe('InvalidArgument');
  });
});
