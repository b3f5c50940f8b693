import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import {
  MAX_V2_DEVICES,
  MAX_V2_RECIPIENTS,
  openSealedSenderV2,
  parseSealedSenderV2Sent,
  receivedSealedSenderV2,
  sealSenderMulti,
  type SealMultiInput,
  type V2Recipient
} from '../../src/lib/crypto/sealed-sender-v2';
import { openSealedEnvelope } from '../../src/lib/crypto/sealed-envelope';
import { sealSender, sealedSenderLength, type OpenInput } from '../../src/lib/crypto/sealed-sender';
import { ContentHint, SealedContentType, encodeSealedContent, paddedSealedContentLength } from '../../src/lib/crypto/sealed-content';
import { hkdf } from '../../src/lib/crypto/hkdf';
import { aeadDecrypt, aeadEncrypt, x25519 } from '../../src/lib/crypto/primitives';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { flipBit } from '../support/pqxdh-fixtures';
import { sealedWorld, type SealedUser } from './sealed-fixtures';

const te = new TextEncoder();
const world = sealedWorld('sealed-sender-v2');
const { deps, trust } = world;
const alice = world.user('alice');
const bob = world.user('bob');
const carol = world.user('carol');
const mallory = world.user('mallory');
const now = deps.now();
const MAX_UPLOAD = 1 << 20;

const to = (u: SealedUser, devices: number[] = [1]): V2Recipient => ({ username: u.username, devices, identity: identityPublic(u.identity) });

function multiInput(from: SealedUser, recipients: V2Recipient[], content: Uint8Array, extra: Partial<SealMultiInput> = {}): SealMultiInput {
  return { ourIdentity: from.identity, senderCertificate: from.certificate, recipients, contentType: SealedContentType.senderKey, content, ...extra };
}

function openInput(u: SealedUser, message: Uint8Array, extra: Partial<OpenInput> = {}): OpenInput {
  return { message, ourIdentity: u.identity, ourAddress: u.address, trust, ...extra };
}

function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

/** The host's fan-out: parse the upload and build each recipient's message. */
function fanOut(sent: Uint8Array): Map<string, { devices: readonly number[]; message: Uint8Array }> {
  const parsed = parseSealedSenderV2Sent(sent, MAX_UPLOAD);
  return new Map(parsed.recipients.map((r) => [r.username, { devices: r.devices, message: receivedSealedSenderV2(r, parsed) }]));
}

describe('P41 sealed sender v2: one upload, fanned out by the host', () => {
  const groupId = deps.rng(32);
  const content = te.encode('to the group');
  const sent = sealSenderMulti(multiInput(alice, [to(bob, [1, 2]), to(carol)], content, { groupId, contentHint: ContentHint.resendable }), deps);
  const out = fanOut(sent);

  test('each recipient opens its own message and learns alice, the group and the content', () => {
    expect([...out.keys()]).toEqual(['bob', 'carol']);
    expect(out.get('bob')!.devices).toEqual([1, 2]);
    for (const u of [bob, carol]) {
      const opened = openSealedSenderV2(openInput(u, out.get(u.username)!.message), deps);
      expect(opened).toEqual({ sender: alice.certificate, contentType: SealedContentType.senderKey, contentHint: ContentHint.resendable, groupId, content });
      // The one receive door opens v2 and v1 alike.
      expect(openSealedEnvelope(openInput(u, out.get(u.username)!.message), deps)).toEqual(opened);
    }
    const v1 = sealSender({ ...multiInput(alice, [], content), theirIdentity: identityPublic(bob.identity) }, deps);
    expect(openSealedEnvelope(openInput(bob, v1), deps).sender).toEqual(alice.certificate);
  });

  test('the payload is sent once: the upload grows by key material only, and all received messages share it', () => {
    const one = sealSenderMulti(multiInput(alice, [to(bob)], content), deps);
    const two = sealSenderMulti(multiInput(alice, [to(bob), to(carol)], content), deps);
    expect(two.length - one.length).toBe(1 + 'carol'.length + 1 + 4 + 48);
    const [b, c] = [out.get('bob')!.message, out.get('carol')!.message];
    expect(b.length).toBe(c.length);
    expect(b.subarray(49)).toEqual(c.subarray(49));
    expect(b.subarray(1, 49)).not.toEqual(c.subarray(1, 49));
    // Padded like v1: the size depends on the content length only.
    expect(b.length).toBe(1 + 48 + 33 + paddedSealedContentLength(content.length) + 16);
    expect(b.length).toBe(sealedSenderLength(content.length) - 49 + 48);
  });

  test("bob's message does not open for carol, nor carol's for mallory: InvalidMac", () => {
    expect(codeOf(() => openSealedSenderV2(openInput(carol, out.get('bob')!.message), deps))).toBe('InvalidMac');
    expect(codeOf(() => openSealedSenderV2(openInput(mallory, out.get('carol')!.message), deps))).toBe('InvalidMac');
  });

  test("mallory swaps in bob's key material on carol's message: the ephemeral key no longer derives, InvalidMac", () => {
    const b = out.get('bob')!.message;
    const c = out.get('carol')!.message;
    const spliced = concatBytes(c.subarray(0, 1), b.subarray(1, 49), c.subarray(49));
    expect(codeOf(() => openSealedSenderV2(openInput(carol, spliced), deps))).toBe('InvalidMac');
  });

  test('every bit flip of the key material and ephemeral key fails; property: any flip in the payload fails too', () => {
    const m = out.get('bob')!.message;
    const codes = new Set<string>();
    for (let bit = 0; bit < (1 + 48 + 33) * 8; bit++) codes.add(codeOf(() => openSealedSenderV2(openInput(bob, flipBit(m, bit)), deps)));
    expect([...codes].sort()).toEqual(['InvalidKey', 'InvalidMac', 'UnsupportedVersion']);
    fc.assert(
      fc.property(fc.integer({ min: (1 + 48 + 33) * 8, max: m.length * 8 - 1 }), (bit) => {
        expect(codeOf(() => openSealedSenderV2(openInput(bob, flipBit(m, bit)), deps))).toBe('InvalidMac');
      }),
      { numRuns: 200, seed: 41 }
    );
  });

  test('truncated and extended messages fail with typed errors', () => {
    const m = out.get('bob')!.message;
    for (let n = 0; n < m.length; n += 7) expect(['DecodeFailed', 'InvalidMac', 'InvalidKey']).toContain(codeOf(() => openSealedSenderV2(openInput(bob, m.subarray(0, n)), deps)));
    expect(codeOf(() => openSealedSenderV2(openInput(bob, concatBytes(m, Uint8Array.of(0))), deps))).toBe('InvalidMac');
  });
});

describe('P41 sealed sender v2: forged senders are refused', () => {
  test("mallory seals with alice's genuine certificate but her own identity key: the tag does not match, InvalidMac", () => {
    // The sealer refuses a certificate that is not its own, so mallory claims alice's public keys
    // while holding only her own private keys.
    const liar: IdentityKeyPair = {
      signing: { publicKey: alice.identity.signing.publicKey, privateKey: mallory.identity.signing.privateKey },
      dh: { publicKey: alice.identity.dh.publicKey, privateKey: mallory.identity.dh.privateKey },
      dhKeySignature: alice.identity.dhKeySignature
    };
    const sent = sealSenderMulti({ ...multiInput(alice, [to(bob)], te.encode('x')), ourIdentity: liar }, deps);
    expect(codeOf(() => openSealedSenderV2(openInput(bob, fanOut(sent).get('bob')!.message), deps))).toBe('InvalidMac');
  });

  test("carol, a co-recipient who knows the payload key, cannot re-encrypt the payload for bob under alice's name: InvalidMac", () => {
    const out = fanOut(sealSenderMulti(multiInput(alice, [to(bob), to(carol)], te.encode('lunch at 1')), deps));
    const b = out.get('bob')!.message;
    const c = out.get('carol')!.message;
    // Carol recovers M and K from her own message, as any recipient can (the module header's KDFs).
    const eEnc = c.subarray(49, 82);
    const encX = (k: Uint8Array) => concatBytes(Uint8Array.of(0x05), k);
    const mask = hkdf(new Uint8Array(32), x25519(carol.identity.dh.privateKey, eEnc.subarray(1)), concatBytes(te.encode('Parley_SealedMultiMask'), eEnc, encX(carol.identity.dh.publicKey)), 32);
    const M = mask.map((x, i) => x ^ c[1 + i]!);
    const K = hkdf(new Uint8Array(32), M, te.encode('Parley_SealedMultiPayload'), 32);
    const v = Uint8Array.of(2);
    // Her recovery is right: she can re-open her own payload.
    expect(aeadDecrypt(K, new Uint8Array(24), c.subarray(82), concatBytes(v, eEnc)).length).toBeGreaterThan(0);
    const evil = encodeSealedContent({ contentType: SealedContentType.senderKey, contentHint: 0, groupId: null, senderCertificate: alice.certificate, content: te.encode('lunch at 3') });
    const forged = concatBytes(b.subarray(0, 82), aeadEncrypt(K, new Uint8Array(24), evil, concatBytes(v, eEnc)));
    expect(codeOf(() => openSealedSenderV2(openInput(bob, forged), deps))).toBe('InvalidMac');
    expect(openSealedSenderV2(openInput(bob, b), deps).content).toEqual(te.encode('lunch at 1'));
  });

  test('expired, forged and reflected certificates are refused as in v1', () => {
    const dave = world.user('dave', { lifetimeMs: 60_000 });
    const m = fanOut(sealSenderMulti(multiInput(dave, [to(bob)], te.encode('x')), deps)).get('bob')!.message;
    expect(codeOf(() => openSealedSenderV2(openInput(bob, m), seededDeps('sealed-sender-v2', now + 60_001)))).toBe('UntrustedIdentity');
    expect(openSealedSenderV2(openInput(bob, m, { receivedAt: now }), seededDeps('sealed-sender-v2', now + 60_001)).sender.username).toBe('dave');

    const edited = { ...mallory.certificate, username: alice.certificate.username };
    const f = fanOut(sealSenderMulti({ ...multiInput(mallory, [to(bob)], te.encode('x')), senderCertificate: edited }, deps)).get('bob')!.message;
    expect(codeOf(() => openSealedSenderV2(openInput(bob, f), deps))).toBe('InvalidSignature');

    const self = fanOut(sealSenderMulti(multiInput(bob, [to(bob)], te.encode('x')), deps)).get('bob')!.message;
    expect(codeOf(() => openSealedSenderV2(openInput(bob, self), deps))).toBe('InvalidMessage');
  });

  test('a cache gives the same results and is warmed only by envelopes that fully open', () => {
    const sCache = new SealedSenderCache(trust);
    const rCache = new SealedSenderCache(trust);
    const a = sealSenderMulti(multiInput(alice, [to(bob), to(carol)], te.encode('c')), seededDeps('v2-cache'));
    const b = sealSenderMulti({ ...multiInput(alice, [to(bob), to(carol)], te.encode('c')), cache: sCache }, seededDeps('v2-cache'));
    expect(b).toEqual(a);
    const m = fanOut(a).get('bob')!.message;
    expect(openSealedSenderV2(openInput(bob, m, { cache: rCache }), deps)).toEqual(openSealedSenderV2(openInput(bob, m), deps));
    expect(openSealedSenderV2(openInput(bob, m, { cache: rCache }), deps).sender).toEqual(alice.certificate);
    const dave = world.user('dave', { lifetimeMs: 60_000 });
    const late = fanOut(sealSenderMulti(multiInput(dave, [to(bob)], te.encode('x')), deps)).get('bob')!.message;
    const later = seededDeps('sealed-sender-v2', now + 60_001);
    expect(codeOf(() => openSealedSenderV2(openInput(bob, late, { cache: rCache }), later))).toBe('UntrustedIdentity');
    expect(rCache.staticSecret(bob.identity.dh.publicKey, dave.identity.dh.publicKey)).toBeUndefined();
    expect(rCache.staticSecret(bob.identity.dh.publicKey, alice.identity.dh.publicKey)).toBeDefined();
  });
});

describe('P41 the host parses uploads strictly', () => {
  const sent = sealSenderMulti(multiInput(alice, [to(bob, [1, 5]), to(carol)], te.encode('h')), deps);

  test('every truncation is DecodeFailed until the payload, and bounds hold', () => {
    const parsed = parseSealedSenderV2Sent(sent, MAX_UPLOAD);
    const payloadStart = sent.length - parsed.shared.length;
    for (let n = 0; n < payloadStart + 34; n++) expect(['DecodeFailed', 'UnsupportedVersion']).toContain(codeOf(() => parseSealedSenderV2Sent(sent.subarray(0, n), MAX_UPLOAD)));
    expect(codeOf(() => parseSealedSenderV2Sent(sent, sent.length - 1))).toBe('DecodeFailed');
  });

  test.each([
    ['version 4', (b: Uint8Array) => ((b[0] = 4), b), 'UnsupportedVersion'],
    ['zero recipients', (b: Uint8Array) => ((b[1] = 0), (b[2] = 0), b), 'DecodeFailed'],
    ['too many recipients', (b: Uint8Array) => ((b[1] = 0x03), (b[2] = 0xe9), b), 'DecodeFailed'],
    ['zero devices', (b: Uint8Array) => ((b[3 + 4] = 0), b), 'DecodeFailed'],
    ['device 0', (b: Uint8Array) => (b.fill(0, 3 + 5, 3 + 9), b), 'DecodeFailed'],
    ['devices out of order', (b: Uint8Array) => ((b[3 + 8] = 9), b), 'DecodeFailed'],
    ['a non-canonical username', (b: Uint8Array) => ((b[4] = 'B'.charCodeAt(0)), b), 'DecodeFailed']
  ] as const)('%s is refused', (_w, edit, code) => {
    expect(parseSealedSenderV2Sent(sent, MAX_UPLOAD).recipients.map((r) => r.username)).toEqual(['bob', 'carol']);
    expect(codeOf(() => parseSealedSenderV2Sent(edit(sent.slice()), MAX_UPLOAD))).toBe(code);
  });

  test('a recipient listed twice is refused by the sealer and by the host', () => {
    expect(codeOf(() => sealSenderMulti(multiInput(alice, [to(bob), to(bob, [2])], te.encode('h')), deps))).toBe('InvalidArgument');
    const one = sealSenderMulti(multiInput(alice, [to(bob)], te.encode('h')), deps);
    const parsed = parseSealedSenderV2Sent(one, MAX_UPLOAD);
    const bobPart = one.subarray(3, one.length - parsed.shared.length);
    expect(parseSealedSenderV2Sent(concatBytes(Uint8Array.of(2, 0, 1), bobPart, parsed.shared), MAX_UPLOAD).recipients).toHaveLength(1);
    expect(codeOf(() => parseSealedSenderV2Sent(concatBytes(Uint8Array.of(2, 0, 2), bobPart, bobPart, parsed.shared), MAX_UPLOAD))).toBe('DecodeFailed');
  });

  test('the sealer refuses empty, oversized and malformed recipient lists', () => {
    expect(codeOf(() => sealSenderMulti(multiInput(alice, [], te.encode('h')), deps))).toBe('InvalidArgument');
    const many = Array.from({ length: MAX_V2_RECIPIENTS + 1 }, (_, i) => ({ ...to(bob), username: `u${i}xx` }));
    expect(codeOf(() => sealSenderMulti(multiInput(alice, many, te.encode('h')), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderMulti(multiInput(alice, [to(bob, [])], te.encode('h')), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderMulti(multiInput(alice, [to(bob, [2, 1])], te.encode('h')), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderMulti(multiInput(alice, [to(bob, Array.from({ length: MAX_V2_DEVICES + 1 }, (_, i) => i + 1))], te.encode('h')), deps))).toBe('InvalidArgument');
  });
});
