import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import { x25519KeyPair } from '../../src/lib/crypto/primitives';
import { kdfCk } from '../../src/lib/crypto/ratchet/chain-key';
import { skippedEntries } from '../../src/lib/crypto/ratchet/skipped-keys';
import { MAX_OLD_CHAINS, MAX_SKIP, MAX_SKIPPED_KEYS, SKIPPED_KEY_TTL_MS } from '../../src/lib/crypto/ratchet/limits';
import { initReceiver, initSender, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../../src/lib/crypto/ratchet/double-ratchet';
import { decodeRatchetState, encodeRatchetState as enc } from '../../src/lib/crypto/ratchet/ratchet-state';
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';

const AD = new TextEncoder().encode('alice@parley|bob@parley');
const pt = (s: string) => new TextEncoder().encode(s);
type Who = 0 | 1; // 0 = alice, 1 = bob

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

function fastForward(s: RatchetState, k: number): RatchetState {
  let ck = s.sendingChainKey!;
  for (let i = 0; i < k; i++) ck = kdfCk(ck).chainKey;
  return { ...s, sendingChainKey: ck, sendN: s.sendN + k };
}

function refusal(state: RatchetState, fn: () => unknown): string {
  const before = enc(state);
  try {
    fn();
  } catch (e) {
    expect(isProtocolError(e), String(e)).toBe(true);
    expect(enc(state)).toEqual(before);
    return (e as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

/** The sender's ratchet key inside a wire message (header bytes 2..34). */
const chainOf = (m: Uint8Array) => toHex(m.subarray(2, 34));
/** Does `s` still know the chain (current or remembered)? */
const knowsChain = (s: RatchetState, hex: string) =>
  (s.theirRatchetKey !== null && toHex(s.theirRatchetKey) === hex) || s.oldChains.some((c) => toHex(c.ratchetKey) === hex);

describe('P10 reordering', () => {
  const ROUNDS = 4;
  const PER = 40;
  const TOTAL = ROUNDS * 2 * PER + PER - 2 * ROUNDS;
  test('P10 any permutation of ~350 messages across several DH steps decrypts exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(PER - 1), { minLength: 2 * ROUNDS, maxLength: 2 * ROUNDS }),
        fc.shuffledSubarray([...Array(TOTAL).keys()], { minLength: TOTAL, maxLength: TOTAL }),
        (picks, order) => {
          const { deps, parties } = setup('p10');
          const pool: { to: Who; m: Uint8Array; text: string }[] = [];
          const deliver = (to: Who, m: Uint8Array, text: string) => {
            const r = ratchetDecrypt(parties[to], m, AD, deps);
            expect(new TextDecoder().decode(r.plaintext)).toBe(text);
            parties[to] = r.state;
          };
          const burst = (from: Who, round: number, pick: number | undefined) => {
            const batch = Array.from({ length: PER }, (_, i) => {
              const text = `${from}:${round}:${i}`;
              const e = ratchetEncrypt(parties[from], pt(text), AD, deps);
              parties[from] = e.state;
              return { to: (1 - from) as Who, m: e.message, text };
            });
            // One message of each burst is delivered now, so the other side can ratchet.
            if (pick !== undefined) deliver(batch[pick]!.to, batch[pick]!.m, batch[pick]!.text);
            pool.push(...batch.filter((_, i) => i !== pick));
          };
          for (let round = 0; round < ROUNDS; round++) {
            burst(0, round, picks[2 * round]);
            burst(1, round, picks[2 * round + 1]);
          }
          burst(0, ROUNDS, undefined); // a chain Bob has not seen at all
          expect(pool.length).toBe(TOTAL);
          for (const i of order) deliver(pool[i]!.to, pool[i]!.m, pool[i]!.text);
          expect(parties[0].skipped.size + parties[1].skipped.size).toBe(0);
        }
      ),
      { numRuns: 8 }
    );
  });
});

describe('P11 bounded skipped keys', () => {
  test('P11 a hostile peer sending maximal gaps over many chains cannot grow storage past the caps', () => {
    const { deps, parties } = setup('p11');
    const lateOf: Uint8Array[] = [];
    for (let chain = 0; chain < 8; chain++) {
      // Alice keeps message 0 back, then jumps to n = MAX_SKIP (gap 1000 on the new chain);
      // her previous chain also ran MAX_SKIP past what Bob saw (pn gap 1000): 2000 keys at once.
      const late = ratchetEncrypt(parties[0], pt(`late ${chain}`), AD, deps);
      lateOf.push(late.message);
      const jump = ratchetEncrypt(fastForward(late.state, MAX_SKIP - 1), pt('jump'), AD, deps);
      const r = ratchetDecrypt(parties[1], jump.message, AD, deps);
      expect(r.skipped).toBe(chain === 0 ? MAX_SKIP : 2 * MAX_SKIP);
      parties[1] = r.state;
      parties[0] = fastForward(jump.state, MAX_SKIP);
      expect(parties[1].skipped.size).toBeLessThanOrEqual(MAX_SKIPPED_KEYS);
      expect(parties[1].oldChains.length).toBeLessThanOrEqual(MAX_OLD_CHAINS);
      expect(enc(parties[1]).length).toBeLessThan(100_000);
      const reply = ratchetEncrypt(parties[1], pt('reply'), AD, deps);
      parties[1] = reply.state;
      parties[0] = ratchetDecrypt(parties[0], reply.message, AD, deps).state;
    }
    expect(parties[1].skipped.size).toBe(MAX_SKIPPED_KEYS);
    expect(parties[1].oldChains.length).toBe(MAX_OLD_CHAINS);
    // The newest gap still fills; the previous chain's key was evicted (oldest first).
    const bob = parties[1];
    expect(new TextDecoder().decode(ratchetDecrypt(bob, lateOf[7]!, AD, deps).plaintext)).toBe('late 7');
    expect(refusal(bob, () => ratchetDecrypt(bob, lateOf[6]!, AD, deps))).toBe('DuplicateMessage');
    refusal(bob, () => ratchetDecrypt(bob, lateOf[0]!, AD, deps)); // chain forgotten entirely
  });

  test('P11 skipped keys expire after SKIPPED_KEY_TTL_MS and are then gone from storage', () => {
    const { deps, parties } = setup('p11-ttl');
    const sent = ['m0', 'm1', 'm2'].map((t) => {
      const e = ratchetEncrypt(parties[0], pt(t), AD, deps);
      parties[0] = e.state;
      return e.message;
    });
    parties[1] = ratchetDecrypt(parties[1], sent[2]!, AD, deps).state;
    const key1 = [...skippedEntries(parties[1].skipped)][1]!.messageKey;
    deps.advance(SKIPPED_KEY_TTL_MS - 1);
    parties[1] = ratchetDecrypt(parties[1], sent[0]!, AD, deps).state; // still within the TTL
    deps.advance(1);
    const bob = parties[1];
    expect(refusal(bob, () => ratchetDecrypt(bob, sent[1]!, AD, deps))).toBe('DuplicateMessage');
    const next = ratchetEncrypt(parties[0], pt('m3'), AD, deps).message;
    const after = ratchetDecrypt(bob, next, AD, deps).state;
    expect(after.skipped.size).toBe(0);
    expect(toHex(enc(after))).not.toContain(toHex(key1));
    // Sending alone also purges.
    const viaSend = ratchetEncrypt(bob, pt('x'), AD, deps).state;
    expect(viaSend.skipped.size).toBe(0);
  });
});

type Event =
  | { t: 'send'; who: Who; len: number }
  | { t: 'deliver'; i: number }
  | { t: 'duplicate'; i: number }
  | { t: 'drop'; i: number }
  | { t: 'tamper'; i: number; at: number }
  | { t: 'reflect'; i: number }
  | { t: 'reload'; who: Who };

const who = fc.constantFrom<Who>(0, 1);
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('send' as const), who, len: fc.nat(40) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tamper' as const), i: fc.nat(), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reflect' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reload' as const), who }) }
);

describe('interaction (after libsignal fuzz/interaction): send, deliver, drop, duplicate, shuffle, reload', () => {
  test('P10 P12 P13 every delivered message decrypts exactly once; any failure changes nothing', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 40, maxLength: 60, size: 'max' }), (events) => {
        const { deps, parties } = setup('interaction');
        type Msg = { from: Who; m: Uint8Array; text: string };
        const inFlight: Msg[] = [];
        const delivered: Msg[] = [];
        const seenChains: [Set<string>, Set<string>] = [new Set(), new Set()];
        let counter = 0;
        for (const ev of events) {
          if (ev.t === 'send') {
            const s = parties[ev.who];
            if (!s.sendingChainKey) {
              expect(refusal(s, () => ratchetEncrypt(s, pt('x'), AD, deps))).toBe('NotInitialized');
              continue;
            }
            const text = `${ev.who}#${counter++}:${'x'.repeat(ev.len)}`;
            const e = ratchetEncrypt(s, pt(text), AD, deps);
            parties[ev.who] = e.state;
            inFlight.push({ from: ev.who, m: e.message, text });
          } else if (ev.t === 'reload') {
            const bytes = enc(parties[ev.who]);
            const decoded = decodeRatchetState(bytes);
            expect(enc(decoded)).toEqual(bytes);
            parties[ev.who] = decoded;
          } else if (ev.t === 'duplicate') {
            if (delivered.length === 0) continue;
            const d = delivered[ev.i % delivered.length]!;
            const to = (1 - d.from) as Who;
            const s = parties[to];
            const code = refusal(s, () => ratchetDecrypt(s, d.m, AD, deps));
            if (knowsChain(s, chainOf(d.m))) expect(code).toBe('DuplicateMessage');
          } else {
            if (inFlight.length === 0) continue;
            const idx = ev.i % inFlight.length;
            const msg = inFlight[idx]!;
            const to = (1 - msg.from) as Who;
            if (ev.t === 'drop') inFlight.splice(idx, 1);
            else if (ev.t === 'reflect') {
              const s = parties[msg.from];
              refusal(s, () => ratchetDecrypt(s, msg.m, AD, deps));
            } else if (ev.t === 'tamper') {
              const bad = msg.m.slice();
              bad[ev.at % bad.length]! ^= 1 << ev.at % 8;
              const s = parties[to];
              refusal(s, () => ratchetDecrypt(s, bad, AD, deps));
            } else {
              inFlight.splice(idx, 1);
              const s = parties[to];
              const chain = chainOf(msg.m);
              // Only a chain pushed out of the last MAX_OLD_CHAINS may legitimately fail.
              if (seenChains[to].has(chain) && !knowsChain(s, chain)) {
                refusal(s, () => ratchetDecrypt(s, msg.m, AD, deps));
                continue;
              }
              const r = ratchetDecrypt(s, msg.m, AD, deps);
              expect(new TextDecoder().decode(r.plaintext)).toBe(msg.text);
              parties[to] = r.state;
              seenChains[to].add(chain);
              delivered.push(msg);
            }
          }
        }
      }),
      { numRuns: 100 }
    );
  });
});

describe('ratchet state codec is strict and canonical', () => {
  function busyState(): RatchetState {
    const { deps, parties } = setup('codec');
    const late: Uint8Array[] = [];
    for (let round = 0; round < 3; round++) {
      for (const from of [0, 1] as Who[]) {
        const a = ratchetEncrypt(parties[from], pt('late'), AD, deps);
        const b = ratchetEncrypt(a.state, pt('now'), AD, deps);
        parties[from] = b.state;
        late.push(a.message);
        parties[1 - from] = ratchetDecrypt(parties[1 - from]!, b.message, AD, deps).state;
      }
    }
    return parties[1];
  }

  test('round trip: decode(encode(s)) equals s and re-encodes to the same bytes', () => {
    const s = busyState();
    expect(s.skipped.size).toBeGreaterThan(0);
    expect(s.oldChains.length).toBeGreaterThan(0);
    const bytes = enc(s);
    const back = decodeRatchetState(bytes);
    expect(back).toEqual(s);
    expect(enc(back)).toEqual(bytes);
  });

  test('every truncation, a trailing byte, a wrong version or flags are refused with typed errors', () => {
    const bytes = enc(busyState());
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeRatchetState(bytes.subarray(0, n)), `length ${n}`).toThrow(/DecodeFailed|UnsupportedVersion/);
    }
    expect(() => decodeRatchetState(Uint8Array.of(...bytes, 0))).toThrow(/DecodeFailed/);
    expect(() => decodeRatchetState(Uint8Array.of(2, ...bytes.subarray(1)))).toThrow(/UnsupportedVersion/);
    const badKeyType = bytes.slice();
    badKeyType[33] = 6;
    expect(() => decodeRatchetState(badKeyType)).toThrow(/InvalidKey/);
    const flagsAt = 1 + 32 + 33 + 32;
    const badFlags = bytes.slice();
    badFlags[flagsAt] = 0x0f;
    expect(() => decodeRatchetState(badFlags)).toThrow(/DecodeFailed/);
  });

  test('flipping any byte never yields a different state silently re-encoding to other bytes', () => {
    const bytes = enc(busyState());
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x01;
      try {
        // Key bytes may flip freely; structure bytes must either fail or re-encode identically.
        expect(bytesEqual(enc(decodeRatchetState(bad)), bad)).toBe(true);
      } catch (e) {
        expect(isProtocolError(e), `byte ${i}: ${String(e)}`).toBe(true);
      }
    }
  });
});
