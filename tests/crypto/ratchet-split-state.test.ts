/**
 * The split storage encoding (ratchet-state.ts v2 head + skipped-bucket.ts buckets, and the
 * session head of session-state.ts v2): what the vault stores on every message. It must lose
 * nothing (the whole state, skipped-key order included, comes back exactly: P10, P11 eviction
 * and expiry depend on that order) and be as strict as the whole-state codec (P12: a damaged
 * value is a typed error, never a different state).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import { x25519KeyPair } from '../../src/lib/crypto/primitives';
import { initReceiver, initSender, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../../src/lib/crypto/ratchet/double-ratchet';
import { decodeRatchetHead, encodeRatchetHead, encodeRatchetState as enc } from '../../src/lib/crypto/ratchet/ratchet-state';
import { decodeSkippedBucket, encodeSkippedBucket, withSkippedKeys, type SkippedBucket } from '../../src/lib/crypto/ratchet/skipped-bucket';
import { MAX_SKIPPED_KEYS } from '../../src/lib/crypto/ratchet/limits';
import { acceptSession, encodeSession, initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import { decodeSessionHead, encodeSessionHead } from '../../src/lib/crypto/session-state';
import { bundleOf, lookupOf, makeUser } from '../support/pqxdh-fixtures';

const AD = new TextEncoder().encode('alice@parley|bob@parley');
const pt = (s: string) => new TextEncoder().encode(s);
type Who = 0 | 1;

function setup(seed: string) {
  const deps = seededDeps(seed);
  const sharedSecret = deps.rng(32);
  const spk = x25519KeyPair(deps);
  const parties: [RatchetState, RatchetState] = [
    initSender({ sharedSecret, theirRatchetKey: spk.publicKey }, deps),
    initReceiver({ sharedSecret, ourRatchetKeyPair: spk })
  ];
  return { deps, parties };
}

/** The state as the vault stores it: the head, and each bucket encoded on its own. */
function split(s: RatchetState): { head: Uint8Array; buckets: Uint8Array[] } {
  return { head: encodeRatchetHead(s), buckets: [...s.skipped.buckets.values()].map(encodeSkippedBucket) };
}

function join(stored: { head: Uint8Array; buckets: Uint8Array[] }): RatchetState {
  return withSkippedKeys(decodeRatchetHead(stored.head), stored.buckets.map(decodeSkippedBucket));
}

/** Bob with skipped keys on two chains and old chains: every part of the layout in use. */
function busyState(): RatchetState {
  const { deps, parties } = setup('split-codec');
  for (let round = 0; round < 3; round++) {
    for (const from of [0, 1] as Who[]) {
      const a = ratchetEncrypt(parties[from], pt('late'), AD, deps);
      const b = ratchetEncrypt(a.state, pt('now'), AD, deps);
      parties[from] = b.state;
      parties[1 - from] = ratchetDecrypt(parties[1 - from]!, b.message, AD, deps).state;
    }
  }
  return parties[1];
}

describe('split ratchet state: head and skipped-key buckets', () => {
  test('P10 P11 through send, drop, reorder and reload via the split form, the state comes back exactly, key order included', () => {
    const event = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant('send' as const), who: fc.constantFrom<Who>(0, 1), n: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), i: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('reload' as const), who: fc.constantFrom<Who>(0, 1) }) }
    );
    fc.assert(
      fc.property(fc.array(event, { minLength: 20, maxLength: 50 }), (events) => {
        const { deps, parties } = setup('split-interaction');
        const inFlight: { to: Who; m: Uint8Array; text: string }[] = [];
        let counter = 0;
        for (const ev of events) {
          if (ev.t === 'send') {
            if (!parties[ev.who].sendingChainKey) continue;
            for (let k = 0; k < ev.n; k++) {
              const text = `#${counter++}`;
              const e = ratchetEncrypt(parties[ev.who], pt(text), AD, deps);
              parties[ev.who] = e.state;
              inFlight.push({ to: (1 - ev.who) as Who, m: e.message, text });
            }
          } else if (ev.t === 'deliver') {
            if (inFlight.length === 0) continue;
            const [msg] = inFlight.splice(ev.i % inFlight.length, 1);
            try {
              const r = ratchetDecrypt(parties[msg!.to], msg!.m, AD, deps);
              expect(new TextDecoder().decode(r.plaintext)).toBe(msg!.text);
              parties[msg!.to] = r.state;
            } catch (e) {
              // A chain that fell off the old-chain list: refused, as without reloads.
              expect(isProtocolError(e)).toBe(true);
            }
          } else {
            const s = parties[ev.who];
            const back = join(split(s));
            // The whole-state encoding is canonical and lists keys in order: equal bytes = equal state.
            expect(enc(back)).toEqual(enc(s));
            parties[ev.who] = back;
          }
        }
      }),
      { numRuns: 60 }
    );
  });

  test('a bucket whose keys were skipped under different copies of the same chain key encodes as one bucket', () => {
    const { deps, parties } = setup('split-copies');
    const sent = Array.from({ length: 6 }, (_, i) => {
      const e = ratchetEncrypt(parties[0], pt(`m${i}`), AD, deps);
      parties[0] = e.state;
      return e.message;
    });
    // Skips 0..1 under one header's key object, reloads (chain key object from the head), skips 3..4.
    let bob = ratchetDecrypt(parties[1], sent[2]!, AD, deps).state;
    bob = join(split(bob));
    bob = ratchetDecrypt(bob, sent[5]!, AD, deps).state;
    const [bucket] = bob.skipped.buckets.values();
    expect([...bucket!.keys()]).toEqual([0, 1, 3, 4]);
    let back = join(split(bob));
    expect(enc(back)).toEqual(enc(bob));
    for (const i of [4, 0, 3, 1]) {
      const r = ratchetDecrypt(back, sent[i]!, AD, deps);
      expect(new TextDecoder().decode(r.plaintext)).toBe(`m${i}`);
      back = join(split(r.state));
    }
    expect(back.skipped.size).toBe(0);
  });

  test('P12 every truncation, a trailing byte or a wrong version of a bucket or a head is a typed error', () => {
    const s = busyState();
    const { head, buckets } = split(s);
    expect(buckets.length).toBeGreaterThan(1);
    for (const bytes of [head, buckets[0]!]) {
      const decode = bytes === head ? decodeRatchetHead : decodeSkippedBucket;
      for (let n = 0; n < bytes.length; n++) expect(() => decode(bytes.subarray(0, n)), `length ${n}`).toThrow(/DecodeFailed|UnsupportedVersion/);
      expect(() => decode(Uint8Array.of(...bytes, 0))).toThrow(/DecodeFailed/);
      expect(() => decode(Uint8Array.of(9, ...bytes.subarray(1)))).toThrow(/UnsupportedVersion/);
    }
    // A whole-state (v1) value is not a head, and the reverse.
    expect(() => decodeRatchetHead(enc(s))).toThrow(/UnsupportedVersion/);
  });

  test('P12 flipping any byte of a bucket either fails or yields exactly the bytes flipped, never a silently different layout', () => {
    const s = busyState();
    const { head, buckets } = split(s);
    const bytes = buckets[0]!;
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x01;
      try {
        const state = withSkippedKeys(decodeRatchetHead(head), [decodeSkippedBucket(bad), ...buckets.slice(1).map(decodeSkippedBucket)]);
        expect(encodeSkippedBucket(state.skipped.buckets.values().next().value!)).toEqual(bad);
      } catch (e) {
        expect(isProtocolError(e), `byte ${i}: ${String(e)}`).toBe(true);
      }
    }
  });

  test('P11 reassembly refuses what the ratchet could never hold: unknown chain, key at or past its chain end, repeats, over the cap', () => {
    const s = busyState();
    const head = decodeRatchetHead(encodeRatchetHead(s));
    const decoded = [...s.skipped.buckets.values()].map((b) => decodeSkippedBucket(encodeSkippedBucket(b)));
    const first = decoded[0]!;
    const refuse = (buckets: SkippedBucket[]) => expect(() => withSkippedKeys(head, buckets)).toThrow(/DecodeFailed/);
    refuse([{ ...first, ratchetKey: x25519KeyPair(seededDeps('stranger')).publicKey }]);
    refuse([{ ...first, keys: [{ ...first.keys[0]!, n: 0xffff_fffe }] }]);
    refuse([first, first]);
    const many: SkippedBucket[] = [];
    for (let b = 0; many.length * 32 <= MAX_SKIPPED_KEYS; b++) {
      many.push({ ratchetKey: first.ratchetKey, bucket: b, keys: Array.from({ length: 32 }, (_, i) => ({ n: b * 32 + i, messageKey: new Uint8Array(32), createdAt: 1 })) });
    }
    expect(() => withSkippedKeys({ ...head, recvN: 10_000, oldChains: head.oldChains.map((c) => ({ ...c, length: 10_000 })) }, many)).toThrow(/DecodeFailed/);
    expect(() => withSkippedKeys(s, decoded)).toThrow(/InvalidArgument/);
  });
});

describe('split session state: the session head with its buckets', () => {
  test('a session with skipped keys and a pending PreKeyMessage header comes back exactly from its head and buckets', () => {
    const deps = seededDeps('split-session');
    const alice = makeUser('alice', deps);
    const bob = makeUser('bob', deps);
    let a: SessionState = initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(bob) }, deps);
    const sent = [];
    for (let i = 0; i < 5; i++) {
      const r = sessionEncrypt(a, pt(`m${i}`), deps);
      a = r.state;
      sent.push(r.message);
    }
    let b = acceptSession({ ourIdentity: bob.identity, ourUsername: 'bob', message: sent[0]!, prekeys: lookupOf(bob) }, deps).state;
    b = sessionDecrypt(b, sent[4]!, deps).state;
    expect(b.ratchet.skipped.size).toBe(3);
    for (const s of [a, b]) {
      const buckets = [...s.ratchet.skipped.buckets.values()].map((k) => decodeSkippedBucket(encodeSkippedBucket(k)));
      const back = decodeSessionHead(encodeSessionHead(s), buckets);
      expect(encodeSession(back)).toEqual(encodeSession(s));
    }
    // The head is small: no skipped key is in it.
    expect(encodeSessionHead(b).length).toBeLessThan(encodeSession(b).length - 3 * 32);
    expect(() => decodeSessionHead(encodeSession(b), [])).toThrow(/UnsupportedVersion/);
  });
});
