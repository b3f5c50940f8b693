import { describe, expect, test } from 'vitest';
import { seededDeps, type TestDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import { x25519KeyPair } from '../../src/lib/crypto/primitives';
import { kdfCk } from '../../src/lib/crypto/ratchet/chain-key';
import { skippedEntries } from '../../src/lib/crypto/ratchet/skipped-keys';
import { HEADER_LEN, MESSAGE_OVERHEAD, decodeMessage } from '../../src/lib/crypto/ratchet/header';
import { MAX_OLD_CHAINS, MAX_SKIP, SKIPPED_KEY_TTL_MS } from '../../src/lib/crypto/ratchet/limits';
import { initReceiver, initSender, missingMessages, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../../src/lib/crypto/ratchet/double-ratchet';
import { encodeRatchetState as enc } from '../../src/lib/crypto/ratchet/ratchet-state';

const AD = new TextEncoder().encode('alice@parley|bob@parley');
const pt = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

interface Pair {
  deps: TestDeps;
  alice: RatchetState;
  bob: RatchetState;
}

function setup(seed: string): Pair {
  const deps = seededDeps(seed);
  const sharedSecret = deps.rng(32);
  const spk = x25519KeyPair(deps);
  return {
    deps,
    alice: initSender({ sharedSecret, theirRatchetKey: spk.publicKey }, deps),
    bob: initReceiver({ sharedSecret, ourRatchetKeyPair: spk })
  };
}

/** Sends from `from` to `to` and delivers at once; returns the wire message. */
function exchange(p: Pair, from: 'alice' | 'bob', text: string): Uint8Array {
  const to = from === 'alice' ? 'bob' : 'alice';
  const e = ratchetEncrypt(p[from], pt(text), AD, p.deps);
  p[from] = e.state;
  const d = ratchetDecrypt(p[to], e.message, AD, p.deps);
  expect(str(d.plaintext)).toBe(text);
  p[to] = d.state;
  return e.message;
}

function send(p: Pair, from: 'alice' | 'bob', text: string): Uint8Array {
  const e = ratchetEncrypt(p[from], pt(text), AD, p.deps);
  p[from] = e.state;
  return e.message;
}

/** Asserts `fn` throws a ProtocolError (of `code` if given) and `state` still encodes the same. */
function expectRefused(state: RatchetState, fn: () => unknown, code?: string): void {
  const before = enc(state);
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isProtocolError(caught), `expected a ProtocolError, got ${String(caught)}`).toBe(true);
  if (code) expect((caught as { code: string }).code).toBe(code);
  expect(enc(state)).toEqual(before);
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** A hostile sender's view: its sending chain advanced `k` messages without sending them. */
function fastForward(s: RatchetState, k: number): RatchetState {
  let ck = s.sendingChainKey!;
  for (let i = 0; i < k; i++) ck = kdfCk(ck).chainKey;
  return { ...s, sendingChainKey: ck, sendN: s.sendN + k };
}

describe('Double Ratchet basics', () => {
  test('alice and bob talk across several DH steps, inputs untouched', () => {
    const p = setup('basic');
    for (let round = 0; round < 4; round++) {
      exchange(p, 'alice', `a${round}.0`);
      exchange(p, 'alice', `a${round}.1`);
      exchange(p, 'bob', `b${round}`);
    }
    const before = structuredClone(p.bob);
    const m = send(p, 'alice', 'untouched?');
    const mCopy = m.slice();
    const adCopy = AD.slice();
    ratchetDecrypt(p.bob, m, AD, p.deps);
    expect(p.bob).toEqual(before);
    expect(m).toEqual(mCopy);
    expect(AD).toEqual(adCopy);
  });

  test('bob cannot send before receiving (NotInitialized)', () => {
    const p = setup('not-init');
    expectRefused(p.bob, () => ratchetEncrypt(p.bob, pt('x'), AD, p.deps), 'NotInitialized');
  });

  test('message = 42-byte header (version, typed key, pn, n) || ciphertext; overhead 58 bytes', () => {
    const p = setup('layout');
    const m = send(p, 'alice', 'hello');
    expect(HEADER_LEN).toBe(42);
    expect(MESSAGE_OVERHEAD).toBe(58);
    expect(m.length).toBe(5 + MESSAGE_OVERHEAD);
    const { header } = decodeMessage(m);
    expect(header).toEqual({ ratchetKey: p.alice.ourRatchetKey.publicKey, pn: 0, n: 0 });
    expect(() => decodeMessage(Uint8Array.of(2, ...m.subarray(1)))).toThrow(/UnsupportedVersion/);
    expect(() => decodeMessage(Uint8Array.of(1, 6, ...m.subarray(2)))).toThrow(/InvalidKey/);
    expect(() => decodeMessage(m.subarray(0, MESSAGE_OVERHEAD - 1))).toThrow(/DecodeFailed/);
  });
});

describe('P10 gaps are bounded', () => {
  test('P10 a jump beyond MAX_SKIP is rejected and leaves state byte-identical; exactly MAX_SKIP is fine', () => {
    const p = setup('gap');
    exchange(p, 'alice', 'first');
    const tooFar = ratchetEncrypt(fastForward(p.alice, MAX_SKIP + 1), pt('x'), AD, p.deps).message;
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, tooFar, AD, p.deps), 'TooBigMessageGap');
    expect(() => ratchetDecrypt(p.bob, tooFar, AD, p.deps)).toThrow(`gap ${MAX_SKIP + 1} exceeds ${MAX_SKIP}`);
    const edge = ratchetEncrypt(fastForward(p.alice, MAX_SKIP), pt('edge'), AD, p.deps).message;
    const r = ratchetDecrypt(p.bob, edge, AD, p.deps);
    expect(str(r.plaintext)).toBe('edge');
    expect(r.skipped).toBe(MAX_SKIP);
  });

  test('P10 a new chain whose pn or n jumps beyond MAX_SKIP is rejected before any state change', () => {
    const p = setup('gap-dh');
    exchange(p, 'alice', 'a');
    exchange(p, 'bob', 'b');
    // Alice's previous chain claimed 1002 messages (Bob saw 1): pn gap 1001.
    const viaPn = ratchetEncrypt({ ...p.alice, prevSendN: 1 + MAX_SKIP + 1 }, pt('x'), AD, p.deps).message;
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, viaPn, AD, p.deps), 'TooBigMessageGap');
    const viaN = ratchetEncrypt(fastForward(p.alice, MAX_SKIP + 1), pt('x'), AD, p.deps).message;
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, viaN, AD, p.deps), 'TooBigMessageGap');
  });
});

describe('P11 skipped keys do not outlive their chain or their time', () => {
  test('P11 a chain that falls off the old-chains list takes its skipped keys with it', () => {
    const p = setup('drop-chain');
    const late = send(p, 'alice', 'late');
    exchange(p, 'alice', 'ahead');
    for (let i = 1; i <= MAX_OLD_CHAINS + 1; i++) {
      exchange(p, 'bob', 'b');
      exchange(p, 'alice', 'a'); // Bob's old chains: i of them, capped at MAX_OLD_CHAINS
      expect(p.bob.skipped.size).toBe(i <= MAX_OLD_CHAINS ? 1 : 0);
    }
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, late, AD, p.deps));
  });

  test('P11 a clock that went backwards cannot revive an expired key hidden behind a live one', () => {
    const p = setup('clock-back');
    const m = [0, 1, 2, 3].map((i) => send(p, 'alice', `m${i}`));
    p.bob = ratchetDecrypt(p.bob, m[1]!, AD, p.deps).state; // key 0 stored at T
    p.deps.advance(-10 * 86_400_000);
    p.bob = ratchetDecrypt(p.bob, m[3]!, AD, p.deps).state; // key 2 stored at T - 10 days
    p.deps.advance(SKIPPED_KEY_TTL_MS);
    const bob = p.bob;
    expectRefused(bob, () => ratchetDecrypt(bob, m[2]!, AD, p.deps), 'DuplicateMessage');
    expect(str(ratchetDecrypt(bob, m[0]!, AD, p.deps).plaintext)).toBe('m0');
  });
});

describe('P12 atomic failure', () => {
  test('P12 flipping any byte of header, ciphertext, tag or AD fails and leaves the state byte-identical', () => {
    const p = setup('flip');
    exchange(p, 'alice', 'a0');
    const skippedLater = send(p, 'alice', 'will arrive late');
    const sameChain = send(p, 'alice', 'same chain');
    const cases: [string, RatchetState, Uint8Array][] = [['same chain', p.bob, sameChain]];
    p.bob = ratchetDecrypt(p.bob, sameChain, AD, p.deps).state;
    cases.push(['late (skipped key)', p.bob, skippedLater]);
    exchange(p, 'bob', 'b0');
    const newChain = send(p, 'alice', 'new chain after DH step');
    cases.push(['new chain (DH step)', p.bob, newChain]);
    for (const [, state, m] of cases) {
      for (let i = 0; i < m.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const bad = m.slice();
          bad[i]! ^= bit;
          expectRefused(state, () => ratchetDecrypt(state, bad, AD, p.deps));
        }
      }
      for (let i = 0; i < AD.length; i++) {
        const badAd = AD.slice();
        badAd[i]! ^= 0x01;
        expectRefused(state, () => ratchetDecrypt(state, m, badAd, p.deps), 'InvalidMac');
      }
      expectRefused(state, () => ratchetDecrypt(state, m.subarray(0, m.length - 1), AD, p.deps));
      expectRefused(state, () => ratchetDecrypt(state, Uint8Array.of(...m, 0), AD, p.deps));
      expect(str(ratchetDecrypt(state, m, AD, p.deps).plaintext)).not.toBe('');
    }
  });
});

describe('P13 duplicates and reflections', () => {
  test('P13 the same message twice: DuplicateMessage on the second, on every kind of chain', () => {
    const p = setup('dup');
    const first = exchange(p, 'alice', 'first');
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, first, AD, p.deps), 'DuplicateMessage');
    const late = send(p, 'alice', 'late');
    exchange(p, 'alice', 'jumps ahead');
    p.bob = ratchetDecrypt(p.bob, late, AD, p.deps).state;
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, late, AD, p.deps), 'DuplicateMessage');
    exchange(p, 'bob', 'reply');
    exchange(p, 'alice', 'new chain');
    // `first` now belongs to an old receiving chain.
    expectRefused(p.bob, () => ratchetDecrypt(p.bob, first, AD, p.deps), 'DuplicateMessage');
  });

  test("P13 alice's own ciphertext reflected to alice fails, current chain or old", () => {
    const p = setup('reflect');
    const old = exchange(p, 'alice', 'to bob');
    exchange(p, 'bob', 'to alice');
    const current = send(p, 'alice', 'to bob again');
    expectRefused(p.alice, () => ratchetDecrypt(p.alice, current, AD, p.deps), 'InvalidMessage');
    expectRefused(p.alice, () => ratchetDecrypt(p.alice, old, AD, p.deps));
  });
});

describe('P14 deletions are detectable', () => {
  test('P14 a dropped message shows as a gap and fills when it arrives late', () => {
    const p = setup('gap-ui');
    const m0 = send(p, 'alice', 'zero');
    const m1 = send(p, 'alice', 'one');
    const m2 = send(p, 'alice', 'two');
    const r2 = ratchetDecrypt(p.bob, m2, AD, p.deps);
    expect(r2.skipped).toBe(2);
    expect(r2.late).toBe(false);
    expect(missingMessages(r2.state).map((m) => m.n)).toEqual([0, 1]);
    const r1 = ratchetDecrypt(r2.state, m1, AD, p.deps);
    expect(r1).toMatchObject({ skipped: 0, late: true });
    expect(str(r1.plaintext)).toBe('one');
    expect(missingMessages(r1.state).map((m) => m.n)).toEqual([0]);
    const r0 = ratchetDecrypt(r1.state, m0, AD, p.deps);
    expect(missingMessages(r0.state)).toEqual([]);
  });
});

describe('P15 forward secrecy in storage', () => {
  test('P15 after decrypting, the used message key and the previous chain key are not in the stored state', () => {
    const p = setup('fs');
    exchange(p, 'alice', 'a');
    const m = send(p, 'alice', 'b');
    const previousChainKey = p.bob.receivingChainKey!;
    const usedMessageKey = kdfCk(previousChainKey).messageKey;
    const after = ratchetDecrypt(p.bob, m, AD, p.deps).state;
    const bytes = enc(after);
    expect(contains(enc(p.bob), previousChainKey)).toBe(true); // the search works
    expect(contains(bytes, previousChainKey)).toBe(false);
    expect(contains(bytes, usedMessageKey)).toBe(false);
    // Sender side: the chain key that produced the last message is gone too.
    const senderBefore = p.alice.sendingChainKey!;
    const sent = ratchetEncrypt(p.alice, pt('c'), AD, p.deps).state;
    expect(contains(enc(sent), senderBefore)).toBe(false);
  });

  test('P15 a used skipped key is removed', () => {
    const p = setup('fs-skip');
    const late = send(p, 'alice', 'late');
    exchange(p, 'alice', 'ahead');
    const stored = [...skippedEntries(p.bob.skipped)][0]!.messageKey;
    expect(contains(enc(p.bob), stored)).toBe(true);
    const after = ratchetDecrypt(p.bob, late, AD, p.deps).state;
    expect(after.skipped.size).toBe(0);
    expect(contains(enc(after), stored)).toBe(false);
  });
});

describe('P16 post-compromise healing', () => {
  test("P16 a snapshot of bob's state stops working once bob has ratcheted with a fresh key", () => {
    const p = setup('pcs');
    exchange(p, 'alice', 'hi');
    exchange(p, 'bob', 'hello');
    const snapshot = p.bob; // attacker copies Bob's state (the codec would give the same bytes)
    const readable = send(p, 'alice', 'still under the stolen chain');
    // With Bob's stolen ratchet private key the attacker reads Alice's chain built against it...
    expect(str(ratchetDecrypt(snapshot, readable, AD, p.deps).plaintext)).toBe('still under the stolen chain');
    p.bob = ratchetDecrypt(p.bob, readable, AD, p.deps).state;
    // ...but Bob now has a fresh ratchet key. Bob replies, Alice replies: the new chain is sealed.
    const bobReply = send(p, 'bob', 'reply from a fresh key');
    p.alice = ratchetDecrypt(p.alice, bobReply, AD, p.deps).state;
    const healed = send(p, 'alice', 'after healing');
    expectRefused(snapshot, () => ratchetDecrypt(snapshot, healed, AD, p.deps));
    // Even an attacker who kept following with the snapshot (it read `readable`) is locked out.
    const followed = ratchetDecrypt(snapshot, readable, AD, p.deps).state;
    expect(() => ratchetDecrypt(followed, healed, AD, p.deps)).toThrow(/InvalidMac/);
    expect(str(ratchetDecrypt(p.bob, healed, AD, p.deps).plaintext)).toBe('after healing');
  });
});
