// Sealed sender v2's sending-side key material (src/lib/crypto/sealed-v2-keys.ts) and the
// per-pair secrets it keeps in a SealedSenderCache (P41): a warm cache seals exactly the bytes no
// cache does, and a changed identity key on either side is never sealed with the old key's
// cached secret (the tag would then name the wrong pair: the recipient refuses it, InvalidMac).
import { describe, expect, test } from 'vitest';
import { identityPublic } from '../../src/lib/crypto/identity';
import { openSealedSenderV2, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti, type SealMultiInput, type V2Recipient } from '../../src/lib/crypto/sealed-sender-v2';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { hkdfExtract } from '../../src/lib/crypto/hkdf';
import { x25519 } from '../../src/lib/crypto/primitives';
import { Labels } from '../../src/lib/crypto/labels';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { sealedWorld, type SealedUser } from './sealed-fixtures';

const te = new TextEncoder();
const world = sealedWorld('sealed-v2-keys');
const { deps, trust } = world;
const alice = world.user('alice');
const bob = world.user('bob');
const carol = world.user('carol');
/** Bob after a reinstall: same username, new identity key. */
const bobAgain = world.user('bob');

const to = (u: SealedUser, username = u.username): V2Recipient => ({ username, devices: [1], identity: identityPublic(u.identity) });
const input = (from: SealedUser, recipients: V2Recipient[], cache?: SealedSenderCache): SealMultiInput => ({
  ourIdentity: from.identity,
  senderCertificate: from.certificate,
  recipients,
  contentType: SealedContentType.senderKey,
  content: te.encode('to the group'),
  ...(cache ? { cache } : {})
});

function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

/** What the host delivers to the i-th listed recipient. */
function received(sent: Uint8Array, i: number): Uint8Array {
  const parsed = parseSealedSenderV2Sent(sent, 1 << 20);
  return receivedSealedSenderV2(parsed.recipients[i]!, parsed);
}

const open = (u: SealedUser, message: Uint8Array) => openSealedSenderV2({ message, ourIdentity: u.identity, ourAddress: u.address, trust }, deps);

describe('P41 sealed sender v2 key material and its cache', () => {
  test('a warm cache seals byte for byte what no cache seals, for one and for fifty recipients', () => {
    const many = Array.from({ length: 50 }, (_, i) => to(world.user(`member${i}`)));
    for (const recipients of [[to(bob)], many]) {
      const cache = new SealedSenderCache(trust);
      sealSenderMulti(input(alice, recipients, cache), deps); // warms it
      const warm = sealSenderMulti(input(alice, recipients, cache), seededDeps('same-rng'));
      const none = sealSenderMulti(input(alice, recipients), seededDeps('same-rng'));
      expect(warm).toEqual(none);
    }
  });

  test('the cache holds the tag key HKDF-Extract(0, DH(S, R)) for exactly the pairs sealed to', () => {
    const cache = new SealedSenderCache(trust);
    sealSenderMulti(input(alice, [to(bob), to(carol)], cache), deps);
    const S = alice.identity.dh.publicKey;
    for (const u of [bob, carol]) {
      const expected = hkdfExtract(new Uint8Array(32), x25519(alice.identity.dh.privateKey, u.identity.dh.publicKey));
      expect(cache.derivedSecret(Labels.sealedMultiTag, S, u.identity.dh.publicKey)).toEqual(expected);
    }
    expect(cache.derivedSecret(Labels.sealedMultiTag, S, bobAgain.identity.dh.publicKey)).toBeUndefined();
  });

  test("a recipient's new identity key is sealed to with its own secret, not the cached one of the old key", () => {
    const cache = new SealedSenderCache(trust);
    const before = sealSenderMulti(input(alice, [to(bob), to(carol)], cache), deps);
    expect(open(bob, received(before, 0)).sender).toEqual(alice.certificate);
    // Same username, same cache, new key: the new bob opens it, the old key does not.
    const after = sealSenderMulti(input(alice, [to(bobAgain, 'bob'), to(carol)], cache), deps);
    expect(open(bobAgain, received(after, 0)).sender).toEqual(alice.certificate);
    expect(codeOf(() => open(bob, received(after, 0)))).toBe('InvalidMac');
    expect(open(carol, received(after, 1)).sender).toEqual(alice.certificate);
    // Back to the old key (a restore): its entry is still exact.
    const again = sealSenderMulti(input(alice, [to(bob), to(carol)], cache), deps);
    expect(open(bob, received(again, 0)).sender).toEqual(alice.certificate);
  });

  test('our own new identity key is sealed with its own secrets, not those cached for the old one', () => {
    const cache = new SealedSenderCache(trust);
    sealSenderMulti(input(alice, [to(bob)], cache), deps);
    const aliceAgain = world.user('alice');
    const sent = sealSenderMulti(input(aliceAgain, [to(bob)], cache), deps);
    expect(open(bob, received(sent, 0)).sender).toEqual(aliceAgain.certificate);
  });

  test('a low-order recipient key is refused with InvalidKey and nothing is sealed', () => {
    const cache = new SealedSenderCache(trust);
    const bad: V2Recipient = { ...to(carol), identity: { ...identityPublic(carol.identity), dhKey: new Uint8Array(32) } };
    expect(codeOf(() => sealSenderMulti(input(alice, [to(bob), bad], cache), deps))).toBe('InvalidKey');
    const short: V2Recipient = { ...to(carol), identity: { ...identityPublic(carol.identity), dhKey: new Uint8Array(31) } };
    expect(codeOf(() => sealSenderMulti(input(alice, [short], cache), deps))).toBe('InvalidKey');
    // The arena was released: the next seal works.
    expect(open(bob, received(sealSenderMulti(input(alice, [to(bob)], cache), deps), 0)).sender).toEqual(alice.certificate);
  });
});
