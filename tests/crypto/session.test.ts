import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import { identityPublic } from '../../src/lib/crypto/identity';
import {
  acceptPreKeyMessage,
  acceptSession,
  decodeSession,
  encodeSession,
  initiateSession,
  peekMessageType,
  preKeyMessageSender,
  sessionDecrypt,
  sessionEncrypt,
  type SessionState
} from '../../src/lib/crypto/session';
import { concatBytes, toHex } from '../../src/lib/codec/bytes';
import { decodePreKeyMessage, decodeRatchetMessage, encodePreKeyMessage, encodeRatchetMessage } from '../../src/lib/crypto/message';
import { encodeBundle } from '../../src/lib/crypto/bundle';
import { bundleOf, consume, expectFailsUnchanged, flipBit, lookupOf, makeUser, type TestUser } from '../support/pqxdh-fixtures';

const te = new TextEncoder();
const td = new TextDecoder();
const deps = seededDeps('session-test');
const alice = makeUser('alice', deps);
const mallory = makeUser('mallory', deps);

function freshBob(seed: string): TestUser {
  return makeUser('bob', seededDeps(seed));
}

function aliceStarts(bob: TestUser, opts: Parameters<typeof bundleOf>[1] = {}): SessionState {
  return initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(bob, opts) }, deps);
}

function bobAccepts(bob: TestUser, message: Uint8Array) {
  return acceptSession({ ourIdentity: bob.identity, ourUsername: 'bob', message, prekeys: lookupOf(bob) }, deps);
}

function send(s: SessionState, text: string) {
  return sessionEncrypt(s, te.encode(text), deps);
}

describe('session round trip', () => {
  test('alice sends PreKeyMessages until bob replies, then RatchetMessages', () => {
    const bob = freshBob('rt');
    let a = aliceStarts(bob);
    const m1 = send(a, 'hello bob');
    a = m1.state;
    expect(peekMessageType(m1.message)).toBe('prekey');
    expect(preKeyMessageSender(m1.message)).toEqual({ username: 'alice', identity: identityPublic(alice.identity) });
    const m2 = send(a, 'are you there?');
    a = m2.state;
    expect(peekMessageType(m2.message)).toBe('prekey');

    const acc = bobAccepts(bob, m1.message);
    expect(td.decode(acc.plaintext)).toBe('hello bob');
    expect(acc.theirUsername).toBe('alice');
    expect(acc.consumed).toEqual({ oneTimePreKeyId: 100, kemPreKeyId: 200, kemLastResort: false });
    let b = acc.state;
    const r2 = sessionDecrypt(b, m2.message, deps);
    expect(td.decode(r2.plaintext)).toBe('are you there?');
    b = r2.state;

    const reply = send(b, 'yes');
    expect(peekMessageType(reply.message)).toBe('ratchet');
    const got = sessionDecrypt(a, reply.message, deps);
    expect(td.decode(got.plaintext)).toBe('yes');
    expect(got.state.pendingPreKey).toBeUndefined();
    expect(a.pendingPreKey).toBeDefined(); // input untouched
    expect(peekMessageType(send(got.state, 'great').message)).toBe('ratchet');
  });

  test('bob can start from alice\'s second PreKeyMessage and still read the first', () => {
    const bob = freshBob('reorder');
    const m1 = send(aliceStarts(bob), 'one');
    const m2 = send(m1.state, 'two');
    const acc = bobAccepts(bob, m2.message);
    expect(td.decode(acc.plaintext)).toBe('two');
    expect(td.decode(sessionDecrypt(acc.state, m1.message, deps).plaintext)).toBe('one');
  });

  test('padding hides lengths within a 160-byte bucket', () => {
    const a = aliceStarts(freshBob('pad'));
    const sizes = [0, 1, 159].map((n) => sessionEncrypt(a, new Uint8Array(n), deps).message.length);
    expect(new Set(sizes).size).toBe(1);
    expect(sessionEncrypt(a, new Uint8Array(160), deps).message.length).toBe(sizes[0]! + 160);
  });

  test('sessions survive encode/decode on both sides', () => {
    const bob = freshBob('codec');
    const m1 = send(aliceStarts(bob), 'x');
    const a = decodeSession(encodeSession(m1.state));
    expect(a).toEqual(m1.state);
    const b = decodeSession(encodeSession(bobAccepts(bob, m1.message).state));
    const reply = send(b, 'y');
    expect(td.decode(sessionDecrypt(a, reply.message, deps).plaintext)).toBe('y');
  });

  test('the session codec is strict', () => {
    const e = encodeSession(aliceStarts(freshBob('strict')));
    expect(() => decodeSession(concatBytes(e, Uint8Array.of(0)))).toThrow(/DecodeFailed/);
    expect(() => decodeSession(e.subarray(0, e.length - 1))).toThrow(/DecodeFailed/);
    const v = e.slice();
    v[0] = 2;
    expect(() => decodeSession(v)).toThrow(/UnsupportedVersion/);
    // AD starts after version, two usernames and two identities, and its u16 length.
    const adAt = 1 + 6 + 4 + 131 + 131 + 2;
    expect(() => decodeSession(flipBit(e, adAt * 8 + 3))).toThrow(/DecodeFailed/);
  });
});

describe('P4 no misbinding', () => {
  test('P4 alice->bob\'s first message delivered to carol fails, with or without matching prekey ids', () => {
    const bob = freshBob('p4');
    const { message } = send(aliceStarts(bob), 'for bob only');
    const carol = makeUser('carol', seededDeps('carol'));
    const carolAccepts = (prekeys = lookupOf(carol)) =>
      acceptSession({ ourIdentity: carol.identity, ourUsername: 'carol', message, prekeys }, deps);
    expectFailsUnchanged('InvalidMac', () => carolAccepts(), message, carol.oneTimePreKeys, carol.kemPreKeys);
    const none = { signedPreKey: () => undefined, oneTimePreKey: () => undefined, kemPreKey: () => undefined };
    expectFailsUnchanged('MissingPrekey', () => carolAccepts(none), message);
  });

  test('P4 a first message relabelled with mallory\'s username and/or identity fails', () => {
    const bob = freshBob('p4-relabel');
    const { message } = send(aliceStarts(bob), 'signed alice');
    const m = decodePreKeyMessage(message);
    const malloryId = identityPublic(mallory.identity);
    for (const relabel of [
      { senderUsername: 'mallory', senderIdentity: malloryId },
      { senderUsername: 'mallory' },
      { senderIdentity: malloryId }
    ]) {
      const forged = encodePreKeyMessage({ ...m, ...relabel });
      expectFailsUnchanged('InvalidMac', () => bobAccepts(bob, forged), forged, bob.oneTimePreKeys, bob.kemPreKeys);
    }
  });

  test('P13 alice\'s own message reflected back to her fails', () => {
    const bob = freshBob('p13');
    const m1 = send(aliceStarts(bob), 'hi');
    const acc = bobAccepts(bob, m1.message);
    const reply = sessionDecrypt(m1.state, send(acc.state, 'r').message, deps).state;
    const mine = send(reply, 'mine');
    expect(() => sessionDecrypt(mine.state, mine.message, deps)).toThrow(/InvalidMessage|InvalidMac|DuplicateMessage/);
  });
});

describe('P7, P8 and P9 through the session layer', () => {
  test('P7 a tampered PreKeyMessage version byte is refused', () => {
    const bob = freshBob('p7');
    const { message } = send(aliceStarts(bob), 'v');
    const t = message.slice();
    t[1] = 2;
    expectFailsUnchanged('UnsupportedVersion', () => bobAccepts(bob, t), t, bob.oneTimePreKeys);
  });

  test('P7 version bytes are authenticated: a version a lenient decoder admits fails the MAC, not only the decoder', () => {
    const bob = freshBob('p7-bound');
    const { message } = send(aliceStarts(bob), 'written as version 1');
    const m = decodePreKeyMessage(message);
    const bobAcceptsDecoded = (decoded: typeof m) =>
      acceptPreKeyMessage({ ourIdentity: bob.identity, ourUsername: 'bob', message: decoded, prekeys: lookupOf(bob) }, deps);
    // What a lenient (or future) decoder would hand over had the version byte been rewritten.
    for (const version of [0, 2, 255]) {
      const forged = { ...m, version };
      expectFailsUnchanged('InvalidMac', () => bobAcceptsDecoded(forged), forged, bob.oneTimePreKeys, bob.kemPreKeys);
    }
    // The strict decoder refuses the byte outright, and the untouched message still starts a session.
    const rewritten = message.slice();
    rewritten[1] = 2;
    expectFailsUnchanged('UnsupportedVersion', () => bobAccepts(bob, rewritten), bob.oneTimePreKeys);
    expect(td.decode(bobAcceptsDecoded(m).plaintext)).toBe('written as version 1');
  });

  test('P7 the envelope type byte is authenticated: an inner message re-wrapped in the other envelope fails', () => {
    const bob = freshBob('p7-type');
    const m1 = send(aliceStarts(bob), 'one');
    const m2 = send(m1.state, 'two (prekey)');
    const acc = bobAccepts(bob, m1.message);
    const asRatchet = encodeRatchetMessage(decodePreKeyMessage(m2.message).message);
    expectFailsUnchanged('InvalidMac', () => sessionDecrypt(acc.state, asRatchet, deps), acc.state, asRatchet);
    const b = sessionDecrypt(acc.state, m2.message, deps).state;

    const a = sessionDecrypt(m2.state, send(b, 'ack').message, deps).state;
    const m3 = send(a, 'three (ratchet)');
    expect(peekMessageType(m3.message)).toBe('ratchet');
    const asPreKey = encodePreKeyMessage({ ...decodePreKeyMessage(m1.message), message: decodeRatchetMessage(m3.message) });
    expectFailsUnchanged('InvalidMac', () => sessionDecrypt(b, asPreKey, deps), b, asPreKey);
    expect(td.decode(sessionDecrypt(b, m3.message, deps).plaintext)).toBe('three (ratchet)');
  });

  test('P12 every byte of a resent PreKeyMessage is authenticated, also where only the base key routes it', () => {
    const bob = freshBob('p12-resent');
    const m1 = send(aliceStarts(bob), 'one');
    const m2 = send(m1.state, 'two');
    const b = bobAccepts(bob, m1.message).state;
    const stored = encodeSession(b);
    const headerLen = m2.message.length - 4 - decodePreKeyMessage(m2.message).message.length;
    for (let i = 0; i < m2.message.length; i++) {
      const t = m2.message.slice();
      t[i]! ^= 0x10;
      let error: unknown;
      try {
        sessionDecrypt(b, t, deps);
      } catch (e) {
        error = e;
      }
      expect(isProtocolError(error), `byte ${i} of ${m2.message.length}: ${String(error)}`).toBe(true);
    }
    expect(encodeSession(b)).toEqual(stored);
    // The KEM ciphertext and prekey ids are not compared with the session, only MAC-bound.
    const m = decodePreKeyMessage(m2.message);
    const forged = encodePreKeyMessage({ ...m, kemCiphertext: flipBit(m.kemCiphertext, 5), kemPreKeyId: 999 });
    expectFailsUnchanged('InvalidMac', () => sessionDecrypt(b, forged, deps), b, forged);
    expect(headerLen).toBeGreaterThan(1088);
    expect(td.decode(sessionDecrypt(b, m2.message, deps).plaintext)).toBe('two');
  });

  test('P8 a tampered KEM ciphertext yields InvalidMac, never a session', () => {
    const bob = freshBob('p8');
    const { message } = send(aliceStarts(bob), 'pq');
    const m = decodePreKeyMessage(message);
    for (const bit of [0, 4000, 8703]) {
      const forged = encodePreKeyMessage({ ...m, kemCiphertext: flipBit(m.kemCiphertext, bit) });
      expectFailsUnchanged('InvalidMac', () => bobAccepts(bob, forged), forged, bob.kemPreKeys, bob.oneTimePreKeys);
    }
  });

  test('P9 a replayed first message is shown at most once: new session MissingPrekey, same session DuplicateMessage', () => {
    const bob = freshBob('p9');
    const { message } = send(aliceStarts(bob), 'once');
    const acc = bobAccepts(bob, message);
    consume(bob, acc.consumed);
    expectFailsUnchanged('MissingPrekey', () => bobAccepts(bob, message), message, bob.oneTimePreKeys);
    expectFailsUnchanged('DuplicateMessage', () => sessionDecrypt(acc.state, message, deps), acc.state, message);
  });

  test('a PreKeyMessage from a different handshake is not decrypted by an existing session', () => {
    const bob = freshBob('other-handshake');
    const first = bobAccepts(bob, send(aliceStarts(bob), 'a').message);
    const second = send(aliceStarts(bob, { oneTimeId: 101 }), 'b').message;
    expectFailsUnchanged('InvalidMessage', () => sessionDecrypt(first.state, second, deps), first.state, second);
  });

  test('P12 flipped bytes in a ratchet message fail and leave the session unchanged', () => {
    const bob = freshBob('p12');
    const m1 = send(aliceStarts(bob), 'hi');
    const b = bobAccepts(bob, m1.message).state;
    const { message } = send(b, 'reply to flip');
    for (let i = 0; i < message.length; i += 7) {
      const t = message.slice();
      t[i]! ^= 0x40;
      expect(() => sessionDecrypt(m1.state, t, deps)).toThrow();
    }
    expectFailsUnchanged('InvalidMac', () => sessionDecrypt(m1.state, flipBit(message, message.length * 8 - 1), deps), m1.state);
  });
});

// ---- golden vector ----

const VECTOR_PATH = new URL('../vectors/session.json', import.meta.url);

function generateVector() {
  const d = seededDeps(2);
  const a = makeUser('alice', d);
  const b = makeUser('bob', d);
  const bundle = bundleOf(b);
  const s0 = initiateSession({ ourIdentity: a.identity, ourUsername: 'alice', theirUsername: 'bob', bundle }, d);
  const first = sessionEncrypt(s0, te.encode('hello bob'), d);
  const acc = acceptSession({ ourIdentity: b.identity, ourUsername: 'bob', message: first.message, prekeys: lookupOf(b) }, d);
  const second = sessionEncrypt(acc.state, te.encode('hello alice'), d);
  return {
    source: 'frozen from seededDeps seed 2 (users from tests/support/pqxdh-fixtures.ts makeUser)',
    bundle: toHex(encodeBundle(bundle)),
    firstMessage: toHex(first.message),
    secondMessage: toHex(second.message),
    aliceSession: toHex(encodeSession(first.state)),
    bobSession: toHex(encodeSession(second.state))
  };
}

if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(generateVector(), null, 2) + '\n');

test('golden vector: bundle, initial PreKeyMessage, first reply and both sessions regenerate from seed 2', () => {
  const vectors = JSON.parse(readFileSync(VECTOR_PATH, 'utf8')) as ReturnType<typeof generateVector>;
  expect(generateVector()).toEqual(vectors);
});
