// SECURITY.md P41, sealed sender v3 (src/lib/crypto/sealed-sender-v3.ts): one payload, 48 bytes
// of key material per recipient keyed by the per-pair seal key the sender gave it, parsed and
// fanned out by the host with v2's functions, opened by trying the seal keys the recipient holds.
// The layout is checked against an independent implementation of the module header's formulas;
// tests/crypto/sealed-vectors.test.ts freezes the bytes.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeIdentityPublic, generateIdentity, identityPublic, type IdentityKeyPair, type IdentityPublic } from '../../src/lib/crypto/identity';
import {
  MAX_SEALED_SENDER_V3_RECEIVED_LEN,
  MAX_SEAL_KEY_CANDIDATES,
  SEAL_KEY_LEN,
  openSealedSenderV3,
  sealSenderKeyed,
  type OpenKeyedInput,
  type SealKeyCandidate,
  type SealKeyedInput,
  type V3Recipient
} from '../../src/lib/crypto/sealed-sender-v3';
import { MAX_V2_RECIPIENTS, SEALED_SENDER_V3_VERSION, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { openSealedEnvelope } from '../../src/lib/crypto/sealed-envelope';
import { ContentHint, SealedContentType, encodeSealedContent, paddedSealedContentLength } from '../../src/lib/crypto/sealed-content';
import { hkdf } from '../../src/lib/crypto/hkdf';
import { aeadDecrypt, aeadEncrypt, sha256 } from '../../src/lib/crypto/primitives';
import { sodium } from '../../src/lib/crypto/sodium';
import { seededDeps } from '../../src/lib/crypto/deps';
import { issueSenderCertificate } from '../../src/lib/crypto/certificates';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { flipBit } from '../support/pqxdh-fixtures';
import { sealedWorld, type SealedUser } from './sealed-fixtures';

const te = new TextEncoder();
const world = sealedWorld('sealed-sender-v3');
const { deps, trust } = world;
const alice = world.user('alice');
const bob = world.user('bob');
const carol = world.user('carol');
const dave = world.user('dave');
const mallory = world.user('mallory');
const erin = world.user('erin');
const now = deps.now();
const MAX_UPLOAD = 1 << 20;
/** Received form: v || C_i (32) || AT_i (16) || payload. */
const KEY_MATERIAL_END = 1 + 32 + 16;
const MIN_PAYLOAD = 16 + 1;

/** Someone who receives: what opening needs (no certificate of its own). */
type Member = Pick<SealedUser, 'username' | 'identity' | 'address'>;

function member(username: string): Member {
  return { username, identity: generateIdentity(deps), address: { username: asUsername(username), device: 1 } };
}

/** The seal key `from` drew for `to` (one per ordered pair, as a distribution gives it). */
const sealKeys = new Map<string, Uint8Array>();
function sealKey(from: string, to: string): Uint8Array {
  const id = `${from}>${to}`;
  let k = sealKeys.get(id);
  if (!k) {
    k = deps.rng(SEAL_KEY_LEN);
    sealKeys.set(id, k);
  }
  return k;
}

/** `from`'s recipient entry for `u`, with the seal key `from` gave `u`. */
const to = (from: SealedUser, u: Member, devices: number[] = [1]): V3Recipient => ({
  username: u.username,
  devices,
  identity: identityPublic(u.identity),
  sealKey: sealKey(from.username, u.username)
});

/** What `u` holds after `from`'s distribution: the seal key, with the account and (encoded) identity it came from. */
const given = (from: SealedUser, u: Member): SealKeyCandidate => ({ sealKey: sealKey(from.username, u.username), username: from.username, identity: enc(identityPublic(from.identity)) });
const enc = (id: IdentityPublic): Uint8Array => encodeIdentityPublic(id);

function keyedInput(from: SealedUser, recipients: V3Recipient[], content: Uint8Array, extra: Partial<SealKeyedInput> = {}): SealKeyedInput {
  return { ourIdentity: from.identity, senderCertificate: from.certificate, recipients, contentType: SealedContentType.senderKey, content, ...extra };
}

function openInput(u: Member, message: Uint8Array, candidates: readonly SealKeyCandidate[], extra: Partial<OpenKeyedInput> = {}): OpenKeyedInput {
  return { message, ourIdentity: u.identity, ourAddress: u.address, trust, candidates, ...extra };
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

/**
 * 'tag' when `fn` fails with InvalidMac at the tag, before any key is derived (no seal key fits),
 * rather than later at the payload's AEAD; else the code and message.
 */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return e.code === 'InvalidMac' && /^InvalidMac: none of \d+ seal keys opens/.test(e.message) ? 'tag' : e.message;
  }
  throw new Error('expected a ProtocolError, got a result');
}

/** The host's fan-out: parse the upload and build each recipient's message. */
function fanOut(sent: Uint8Array): Map<string, Uint8Array> {
  const parsed = parseSealedSenderV2Sent(sent, MAX_UPLOAD);
  expect(parsed.version).toBe(SEALED_SENDER_V3_VERSION);
  return new Map(parsed.recipients.map((r) => [r.username, receivedSealedSenderV2(r, parsed)]));
}

/** Alice's v3 message to bob and carol, as each receives it. */
function toBobAndCarol(text: string, extra: Partial<SealKeyedInput> = {}): { b: Uint8Array; c: Uint8Array } {
  const out = fanOut(sealSenderKeyed(keyedInput(alice, [to(alice, bob), to(alice, carol)], te.encode(text), extra), deps));
  return { b: out.get('bob')!, c: out.get('carol')! };
}

// ---- an independent implementation of the module header's formulas ----

/** Typed X25519 key encoding (codec/keys.ts): 0x05 || key. */
const encX = (k: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(0x05), k);
/** X = BLAKE2b-384(key k, L_keyed3 || Enc(R) || D) */
const refX = (k: Uint8Array, R: Uint8Array, D: Uint8Array): Uint8Array => sodium().crypto_generichash(48, concatBytes(te.encode('Parley_SealedKeyedMaterial'), encX(R), D), k);
/** The mask over M: X[0..32] */
const refMask = (k: Uint8Array, R: Uint8Array, D: Uint8Array): Uint8Array => refX(k, R, D).slice(0, 32);
/** AT: X[32..48] (C is not an input: a changed C changes M, and the payload no longer opens) */
const refTag = (k: Uint8Array, R: Uint8Array, D: Uint8Array): Uint8Array => refX(k, R, D).slice(32, 48);
const refPayloadKey = (M: Uint8Array): Uint8Array => hkdf(new Uint8Array(32), M, te.encode('Parley_SealedKeyedPayload'), 32);

/** What any holder of k_i recovers from a received message: C, AT, payload, M and K. */
function refRecover(received: Uint8Array, k: Uint8Array, R: Uint8Array) {
  const C = received.subarray(1, 33);
  const AT = received.subarray(33, KEY_MATERIAL_END);
  const payload = received.subarray(KEY_MATERIAL_END);
  const D = sha256(payload);
  const M = refMask(k, R, D).map((x, i) => x ^ C[i]!);
  return { C, AT, payload, D, M, K: refPayloadKey(M) };
}

describe('P41 sealed sender v3: one upload under per-pair seal keys, fanned out by the host', () => {
  test.each([1, 3, 1000])('%i recipient(s): each opens its own message among other senders\' seal keys and learns the candidate, alice, the group and the content', (n) => {
    const members: Member[] = n === 1 ? [bob] : n === 3 ? [bob, carol, dave] : Array.from({ length: n }, (_, i) => member(`m${String(i).padStart(4, '0')}`));
    const groupId = deps.rng(32);
    const content = te.encode(`to ${n} members`);
    const recipients = members.map((u, i) => to(alice, u, i % 2 === 1 ? [1, 2] : [1]));
    const sent = sealSenderKeyed(keyedInput(alice, recipients, content, { groupId, contentHint: ContentHint.resendable }), deps);

    const parsed = parseSealedSenderV2Sent(sent, MAX_UPLOAD);
    expect(parsed.version).toBe(3);
    expect(sent[0]).toBe(3);
    expect(parsed.recipients.map((r) => [r.username, r.devices])).toEqual(recipients.map((r) => [r.username, r.devices]));
    // v3's shared part is the payload alone (no Enc(E)).
    expect(parsed.shared.length).toBe(paddedSealedContentLength(content.length) + 16);

    for (let i = 0; i < n; i++) {
      const u = members[i]!;
      const message = receivedSealedSenderV2(parsed.recipients[i]!, parsed);
      expect(message[0]).toBe(3);
      expect(message.length).toBe(KEY_MATERIAL_END + parsed.shared.length);
      // Seal keys mallory and erin gave this member too; alice's sits at a varying index.
      const others = [given(mallory, u), given(erin, u)];
      const at = i % 3;
      const candidates = [...others.slice(0, at), given(alice, u), ...others.slice(at)];
      const opened = openSealedSenderV3(openInput(u, message, candidates), deps);
      expect(opened).toEqual({ sender: alice.certificate, contentType: SealedContentType.senderKey, contentHint: ContentHint.resendable, groupId, content, candidate: at });
    }
  });

  test('the bytes follow the header: C_i and AT_i are keyed BLAKE2b under k_i, every C_i unmasks to one M, and K from M opens the payload with ad = v', () => {
    const groupId = deps.rng(32);
    const content = te.encode('by the book');
    const out = fanOut(sealSenderKeyed(keyedInput(alice, [to(alice, bob), to(alice, carol), to(alice, dave)], content, { groupId }), deps));
    const Ms: Uint8Array[] = [];
    for (const u of [bob, carol, dave]) {
      const m = out.get(u.username)!;
      const k = sealKey('alice', u.username);
      const R = u.identity.dh.publicKey;
      const { AT, payload, D, M, K } = refRecover(m, k, R);
      expect(AT).toEqual(refTag(k, R, D));
      Ms.push(M);
      const plain = aeadDecrypt(K, new Uint8Array(24), payload, Uint8Array.of(3));
      expect(plain).toEqual(encodeSealedContent({ contentType: SealedContentType.senderKey, contentHint: ContentHint.default, groupId, senderCertificate: alice.certificate, content }));
    }
    expect(Ms[1]).toEqual(Ms[0]);
    expect(Ms[2]).toEqual(Ms[0]);
  });

  test('the payload is sent once: the upload grows by key material only, and is 33 bytes (no Enc(E)) shorter per recipient than v2', () => {
    const content = te.encode('to the group');
    const one = sealSenderKeyed(keyedInput(alice, [to(alice, bob)], content), deps);
    const two = sealSenderKeyed(keyedInput(alice, [to(alice, bob), to(alice, carol)], content), deps);
    expect(two.length - one.length).toBe(1 + 'carol'.length + 1 + 4 + 48);
    const { b, c } = toBobAndCarol('to the group');
    expect(b.length).toBe(c.length);
    expect(b.subarray(KEY_MATERIAL_END)).toEqual(c.subarray(KEY_MATERIAL_END));
    expect(b.subarray(1, KEY_MATERIAL_END)).not.toEqual(c.subarray(1, KEY_MATERIAL_END));
    const v2 = sealSenderMulti({ ...keyedInput(alice, [], content), recipients: [{ username: 'bob', devices: [1], identity: identityPublic(bob.identity) }] }, deps);
    const v2Parsed = parseSealedSenderV2Sent(v2, MAX_UPLOAD);
    expect(b.length).toBe(receivedSealedSenderV2(v2Parsed.recipients[0]!, v2Parsed).length - 33);
  });

  test('two messages to the same recipient under the same seal key have a fresh M: different C_i, AT_i and payload', () => {
    const first = toBobAndCarol('same words').b;
    const second = toBobAndCarol('same words').b;
    expect(first.subarray(1, 33)).not.toEqual(second.subarray(1, 33));
    expect(first.subarray(33, KEY_MATERIAL_END)).not.toEqual(second.subarray(33, KEY_MATERIAL_END));
    expect(first.subarray(KEY_MATERIAL_END)).not.toEqual(second.subarray(KEY_MATERIAL_END));
    const k = sealKey('alice', 'bob');
    expect(refRecover(first, k, bob.identity.dh.publicKey).M).not.toEqual(refRecover(second, k, bob.identity.dh.publicKey).M);
    for (const m of [first, second]) expect(openSealedSenderV3(openInput(bob, m, [given(alice, bob)]), deps).content).toEqual(te.encode('same words'));
  });

  test('openSealedEnvelope routes 0x03 to v3 with the candidates, and refuses it without any: InvalidMac at the tag', () => {
    const { b } = toBobAndCarol('one door');
    const candidates = [given(mallory, bob), given(alice, bob)];
    const opened = openSealedEnvelope(openInput(bob, b, candidates), deps);
    expect(opened).toEqual(openSealedSenderV3(openInput(bob, b, candidates), deps));
    expect(opened.candidate).toBe(1);
    expect(opened.sender).toEqual(alice.certificate);
    expect(refusal(() => openSealedEnvelope({ message: b, ourIdentity: bob.identity, ourAddress: bob.address, trust }, deps))).toBe('tag');
    expect(refusal(() => openSealedEnvelope(openInput(bob, b, []), deps))).toBe('tag');
  });
});

describe('P41 sealed sender v3: the seal key picks the sender, and nothing else opens', () => {
  test('no candidate fits (other senders\' keys, the key alice gave carol): InvalidMac at the tag; no candidates at all: the same', () => {
    const { b } = toBobAndCarol('for bob');
    expect(refusal(() => openSealedSenderV3(openInput(bob, b, [given(mallory, bob), given(erin, bob)]), deps))).toBe('tag');
    expect(refusal(() => openSealedSenderV3(openInput(bob, b, [{ ...given(alice, carol) }]), deps))).toBe('tag');
    expect(refusal(() => openSealedSenderV3(openInput(bob, b, []), deps))).toBe('tag');
    // bob's whole message delivered to carol, who holds alice's key for her: InvalidMac.
    expect(refusal(() => openSealedSenderV3(openInput(carol, b, [given(alice, carol)]), deps))).toBe('tag');
    expect(openSealedSenderV3(openInput(bob, b, [given(alice, bob)]), deps).candidate).toBe(0);
  });

  test("the host moves bob's key material onto carol's message: InvalidMac at the tag, even were carol to hold bob's key, even had alice reused one key for both", () => {
    const { b, c } = toBobAndCarol('swap');
    const spliced = concatBytes(c.subarray(0, 1), b.subarray(1, KEY_MATERIAL_END), c.subarray(KEY_MATERIAL_END));
    expect(refusal(() => openSealedSenderV3(openInput(carol, spliced, [given(alice, carol)]), deps))).toBe('tag');
    expect(refusal(() => openSealedSenderV3(openInput(carol, spliced, [given(alice, carol), given(alice, bob)]), deps))).toBe('tag');
    // One seal key for both (a sender's mistake): Enc(R_i) in the hash inputs still keeps them apart.
    const shared = sealKey('alice', 'bob');
    const out = fanOut(sealSenderKeyed(keyedInput(alice, [to(alice, bob), { ...to(alice, carol), sealKey: shared }], te.encode('reused')), deps));
    const [b2, c2] = [out.get('bob')!, out.get('carol')!];
    const held: SealKeyCandidate = { ...given(alice, carol), sealKey: shared };
    expect(openSealedSenderV3(openInput(carol, c2, [held]), deps).content).toEqual(te.encode('reused'));
    expect(b2.subarray(1, KEY_MATERIAL_END)).not.toEqual(c2.subarray(1, KEY_MATERIAL_END));
    const spliced2 = concatBytes(c2.subarray(0, 1), b2.subarray(1, KEY_MATERIAL_END), c2.subarray(KEY_MATERIAL_END));
    expect(refusal(() => openSealedSenderV3(openInput(carol, spliced2, [held]), deps))).toBe('tag');
  });

  test('a flipped bit: the version is UnsupportedVersion; every bit of C_i is InvalidMac at the payload (another M, another K), every bit of AT_i InvalidMac at the tag; property: any bit of the payload too (the tag covers its digest)', () => {
    const { b } = toBobAndCarol('flip me');
    const open = (m: Uint8Array) => refusal(() => openSealedSenderV3(openInput(bob, m, [given(alice, bob)]), deps));
    for (let bit = 0; bit < 8; bit++) expect(open(flipBit(b, bit))).toMatch(/^UnsupportedVersion: /);
    // C_i is not under the tag: the tag still picks alice's key, then the payload does not open.
    for (let bit = 8; bit < 33 * 8; bit++) expect(open(flipBit(b, bit)), `C_i bit ${bit - 8}`).toMatch(/^InvalidMac: (?!none of)/);
    for (let bit = 33 * 8; bit < KEY_MATERIAL_END * 8; bit++) expect(open(flipBit(b, bit)), `AT_i bit ${bit - 33 * 8}`).toBe('tag');
    fc.assert(
      fc.property(fc.integer({ min: KEY_MATERIAL_END * 8, max: b.length * 8 - 1 }), (bit) => {
        expect(open(flipBit(b, bit))).toBe('tag');
      }),
      { numRuns: 200, seed: 41 }
    );
    expect(openSealedSenderV3(openInput(bob, b, [given(alice, bob)]), deps).content).toEqual(te.encode('flip me'));
  });

  test('truncated messages are DecodeFailed up to the shortest payload, InvalidMac at the tag after; an extended one is InvalidMac at the tag', () => {
    const { b } = toBobAndCarol('cut me');
    const open = (m: Uint8Array) => codeOf(() => openSealedSenderV3(openInput(bob, m, [given(alice, bob)]), deps));
    for (let n = 0; n < b.length; n++) expect(open(b.subarray(0, n)), `${n} bytes`).toBe(n < KEY_MATERIAL_END + MIN_PAYLOAD ? 'DecodeFailed' : 'InvalidMac');
    expect(refusal(() => openSealedSenderV3(openInput(bob, b.subarray(0, KEY_MATERIAL_END + MIN_PAYLOAD), [given(alice, bob)]), deps))).toBe('tag');
    expect(refusal(() => openSealedSenderV3(openInput(bob, concatBytes(b, Uint8Array.of(0)), [given(alice, bob)]), deps))).toBe('tag');
  });

  test("another upload's payload under bob's original C_i and AT_i is refused: InvalidMac at the tag", () => {
    const first = toBobAndCarol('lunch at 1').b;
    const second = toBobAndCarol('lunch at 3').b;
    expect(second.length).toBe(first.length);
    const spliced = concatBytes(first.subarray(0, KEY_MATERIAL_END), second.subarray(KEY_MATERIAL_END));
    expect(refusal(() => openSealedSenderV3(openInput(bob, spliced, [given(alice, bob)]), deps))).toBe('tag');
  });

  test("carol, a co-recipient who knows M and K, cannot re-encrypt the payload for bob under alice's name: the tag covers the payload digest, InvalidMac at the tag", () => {
    const { b, c } = toBobAndCarol('lunch at 1');
    // Carol recovers M and K from her own message with the seal key alice gave her (the header's formulas).
    const { M, K, payload } = refRecover(c, sealKey('alice', 'carol'), carol.identity.dh.publicKey);
    const v = Uint8Array.of(3);
    expect(aeadDecrypt(K, new Uint8Array(24), payload, v).length).toBeGreaterThan(0);
    // bob's C_i unmasks (with bob's key, which carol lacks) to the same M: only the tag stands in her way.
    expect(refRecover(b, sealKey('alice', 'bob'), bob.identity.dh.publicKey).M).toEqual(M);
    const evil = encodeSealedContent({ contentType: SealedContentType.senderKey, contentHint: 0, groupId: null, senderCertificate: alice.certificate, content: te.encode('lunch at 3') });
    const forged = concatBytes(b.subarray(0, KEY_MATERIAL_END), aeadEncrypt(K, new Uint8Array(24), evil, v));
    expect(refusal(() => openSealedSenderV3(openInput(bob, forged, [given(alice, bob)]), deps))).toBe('tag');
    expect(openSealedSenderV3(openInput(bob, b, [given(alice, bob)]), deps).content).toEqual(te.encode('lunch at 1'));
  });
});

describe('P41 sealed sender v3: the certificate must be the account that gave the seal key, and pass v1\'s checks', () => {
  test('a candidate whose seal key fits but whose username or identity is not the certificate\'s: UntrustedIdentity', () => {
    const { b } = toBobAndCarol('who sent this');
    const right = given(alice, bob);
    expect(openSealedSenderV3(openInput(bob, b, [right]), deps).sender).toEqual(alice.certificate);
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...right, username: 'mallory' }]), deps))).toBe('UntrustedIdentity');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...right, identity: enc(identityPublic(mallory.identity)) }]), deps))).toBe('UntrustedIdentity');
    // Only the signing key differs (same DH key): still another identity.
    const mixed = { ...identityPublic(alice.identity), signingKey: mallory.identity.signing.publicKey };
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...right, identity: enc(mixed) }]), deps))).toBe('UntrustedIdentity');
    // The right identity's encoding cut or extended by a byte is not it either.
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...right, identity: right.identity.subarray(0, right.identity.length - 1) }]), deps))).toBe('UntrustedIdentity');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...right, identity: concatBytes(right.identity, Uint8Array.of(0)) }]), deps))).toBe('UntrustedIdentity');
  });

  test("mallory's seal key cannot carry alice's certificate (the sealed layer uses no identity private key, so she only has to claim alice's public keys): UntrustedIdentity", () => {
    const liar: IdentityKeyPair = {
      signing: { publicKey: alice.identity.signing.publicKey, privateKey: mallory.identity.signing.privateKey },
      dh: { publicKey: alice.identity.dh.publicKey, privateKey: mallory.identity.dh.privateKey },
      dhKeySignature: alice.identity.dhKeySignature
    };
    const sent = sealSenderKeyed({ ...keyedInput(alice, [to(mallory, bob)], te.encode('x')), ourIdentity: liar }, deps);
    const m = fanOut(sent).get('bob')!;
    expect(codeOf(() => openSealedSenderV3(openInput(bob, m, [given(alice, bob), given(mallory, bob)]), deps))).toBe('UntrustedIdentity');
  });

  test('expired, forged and reflected certificates are refused as in v1 and v2', () => {
    const frank = world.user('frank', { lifetimeMs: 60_000 });
    const m = fanOut(sealSenderKeyed(keyedInput(frank, [to(frank, bob)], te.encode('x')), deps)).get('bob')!;
    const later = seededDeps('sealed-sender-v3', now + 60_001);
    expect(openSealedSenderV3(openInput(bob, m, [given(frank, bob)]), deps).sender.username).toBe('frank');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, m, [given(frank, bob)]), later))).toBe('UntrustedIdentity');
    expect(openSealedSenderV3(openInput(bob, m, [given(frank, bob)], { receivedAt: now }), later).sender.username).toBe('frank');

    // Mallory's certificate edited to say alice: even with a candidate naming exactly that (the
    // seal-key check passes), the signature fails.
    const edited = { ...mallory.certificate, username: alice.certificate.username };
    const f = fanOut(sealSenderKeyed({ ...keyedInput(mallory, [to(mallory, bob)], te.encode('x')), senderCertificate: edited }, deps)).get('bob')!;
    expect(codeOf(() => openSealedSenderV3(openInput(bob, f, [{ ...given(mallory, bob), username: 'alice' }]), deps))).toBe('InvalidSignature');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, f, [given(mallory, bob)]), deps))).toBe('UntrustedIdentity');

    // Alice's identity, certified by a server under another trust root.
    const elsewhere = sealedWorld('sealed-sender-v3-elsewhere');
    const foreign = issueSenderCertificate({ server: elsewhere.server, username: 'alice', device: 1, identity: identityPublic(alice.identity) }, deps);
    const g = fanOut(sealSenderKeyed({ ...keyedInput(alice, [to(alice, bob)], te.encode('x')), senderCertificate: foreign }, deps)).get('bob')!;
    expect(codeOf(() => openSealedSenderV3(openInput(bob, g, [given(alice, bob)]), deps))).toBe('InvalidSignature');

    // Reflection: bob's own certificate under a seal key bob holds as his own.
    const self = fanOut(sealSenderKeyed(keyedInput(bob, [to(bob, bob)], te.encode('x')), deps)).get('bob')!;
    expect(codeOf(() => openSealedSenderV3(openInput(bob, self, [given(bob, bob)]), deps))).toBe('InvalidMessage');
  });
});

describe('P41 sealed sender v3: bounds and versions', () => {
  test('a seal key that is not 32 bytes is InvalidKey, to the sealer and the opener', () => {
    const { b } = toBobAndCarol('k');
    for (const len of [0, 16, 31, 33, 64]) {
      const bad = deps.rng(len);
      expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [{ ...to(alice, bob), sealKey: bad }], te.encode('k')), deps)), `${len} bytes`).toBe('InvalidKey');
      expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [to(alice, carol), { ...to(alice, bob), sealKey: bad }], te.encode('k')), deps)), `${len} bytes`).toBe('InvalidKey');
      expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...given(alice, bob), sealKey: bad }]), deps)), `${len} bytes`).toBe('InvalidKey');
    }
    // The right key with one byte more is not the key either.
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, [{ ...given(alice, bob), sealKey: concatBytes(sealKey('alice', 'bob'), Uint8Array.of(0)) }]), deps))).toBe('InvalidKey');
  });

  test('a message over the largest received length is DecodeFailed before any key is tried; one at it is not', () => {
    const at = new Uint8Array(MAX_SEALED_SENDER_V3_RECEIVED_LEN);
    at[0] = 3;
    const over = new Uint8Array(MAX_SEALED_SENDER_V3_RECEIVED_LEN + 1);
    over[0] = 3;
    expect(codeOf(() => openSealedSenderV3(openInput(bob, at, [given(alice, bob)]), deps))).toBe('InvalidMac');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, over, [given(alice, bob)]), deps))).toBe('DecodeFailed');
    expect(codeOf(() => openSealedSenderV3(openInput(bob, over, [{ ...given(alice, bob), sealKey: new Uint8Array(3) }]), deps))).toBe('DecodeFailed');
  });

  test('more seal keys than one open may try: InvalidArgument', () => {
    const { b } = toBobAndCarol('many');
    const many = Array.from({ length: MAX_SEAL_KEY_CANDIDATES + 1 }, () => given(mallory, bob));
    expect(codeOf(() => openSealedSenderV3(openInput(bob, b, many), deps))).toBe('InvalidArgument');
    many.pop();
    many[MAX_SEAL_KEY_CANDIDATES - 1] = given(alice, bob);
    expect(openSealedSenderV3(openInput(bob, b, many), deps).candidate).toBe(MAX_SEAL_KEY_CANDIDATES - 1);
  });

  test('a v2 message, or a v3 message with version byte 1, 2 or 4, given to openSealedSenderV3: UnsupportedVersion', () => {
    const v2 = sealSenderMulti({ ...keyedInput(alice, [], te.encode('v2')), recipients: [{ username: 'bob', devices: [1], identity: identityPublic(bob.identity) }] }, deps);
    const p = parseSealedSenderV2Sent(v2, MAX_UPLOAD);
    expect(p.version).toBe(2);
    expect(codeOf(() => openSealedSenderV3(openInput(bob, receivedSealedSenderV2(p.recipients[0]!, p), [given(alice, bob)]), deps))).toBe('UnsupportedVersion');
    const { b } = toBobAndCarol('v');
    for (const v of [1, 2, 4]) {
      const m = b.slice();
      m[0] = v;
      expect(codeOf(() => openSealedSenderV3(openInput(bob, m, [given(alice, bob)]), deps)), `version ${v}`).toBe('UnsupportedVersion');
    }
  });

  test('the sealer refuses a duplicate recipient, none, more than 1000, and a certificate that is not its own: InvalidArgument', () => {
    expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [to(alice, bob), to(alice, bob, [2])], te.encode('h')), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [], te.encode('h')), deps))).toBe('InvalidArgument');
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...to(alice, bob), username: `u${i}xx` }));
    expect(codeOf(() => sealSenderKeyed(keyedInput(alice, many(MAX_V2_RECIPIENTS + 1), te.encode('h')), deps))).toBe('InvalidArgument');
    expect(parseSealedSenderV2Sent(sealSenderKeyed(keyedInput(alice, many(MAX_V2_RECIPIENTS), te.encode('h')), deps), MAX_UPLOAD).recipients).toHaveLength(MAX_V2_RECIPIENTS);
    expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [to(alice, bob, [])], te.encode('h')), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderKeyed({ ...keyedInput(alice, [to(alice, bob)], te.encode('h')), ourIdentity: mallory.identity }, deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSenderKeyed(keyedInput(alice, [to(alice, bob), { ...to(alice, carol), username: 'Carol' }], te.encode('h')), deps))).toBe('InvalidArgument');
  });

  test('headroom: the sent form after that many zero bytes, the same layout; a bad headroom is InvalidArgument', () => {
    const input = keyedInput(alice, [to(alice, bob), to(alice, carol, [2, 7])], te.encode('room'));
    const withRoom = sealSenderKeyed({ ...input, headroom: 37 }, deps);
    expect([...withRoom.subarray(0, 37)]).toEqual(new Array(37).fill(0));
    const sent = withRoom.subarray(37);
    expect(parseSealedSenderV2Sent(sent, MAX_UPLOAD).recipients.map((r) => [r.username, r.devices])).toEqual([
      ['bob', [1]],
      ['carol', [2, 7]]
    ]);
    const out = fanOut(sent.slice());
    expect(new TextDecoder().decode(openSealedSenderV3(openInput(carol, out.get('carol')!, [given(alice, carol)]), deps).content)).toBe('room');
    expect(sealSenderKeyed(input, deps).length).toBe(sent.length);
    for (const bad of [-1, 1.5, 1 << 17]) expect(codeOf(() => sealSenderKeyed({ ...input, headroom: bad }, deps)), `headroom ${bad}`).toBe('InvalidArgument');
  });
});

describe('P41 the host parses v3 uploads strictly', () => {
  const sent = sealSenderKeyed(keyedInput(alice, [to(alice, bob, [1, 5]), to(alice, carol)], te.encode('h')), deps);
  const parsed = parseSealedSenderV2Sent(sent, MAX_UPLOAD);
  const payloadStart = sent.length - parsed.shared.length;

  test('the shared part is the payload alone: 17 bytes parse, 16 are DecodeFailed', () => {
    expect(parsed.version).toBe(3);
    expect(parsed.recipients.map((r) => [r.username, r.devices])).toEqual([
      ['bob', [1, 5]],
      ['carol', [1]]
    ]);
    expect(parseSealedSenderV2Sent(sent.subarray(0, payloadStart + MIN_PAYLOAD), MAX_UPLOAD).shared).toHaveLength(MIN_PAYLOAD);
    for (let n = 0; n < payloadStart + MIN_PAYLOAD; n++) expect(codeOf(() => parseSealedSenderV2Sent(sent.subarray(0, n), MAX_UPLOAD)), `${n} bytes`).toBe('DecodeFailed');
    expect(codeOf(() => parseSealedSenderV2Sent(sent, sent.length - 1))).toBe('DecodeFailed');
  });

  test.each([
    ['version 4', (b: Uint8Array) => ((b[0] = 4), b), 'UnsupportedVersion'],
    ['version 0', (b: Uint8Array) => ((b[0] = 0), b), 'UnsupportedVersion'],
    ['zero recipients', (b: Uint8Array) => ((b[1] = 0), (b[2] = 0), b), 'DecodeFailed'],
    ['too many recipients', (b: Uint8Array) => ((b[1] = 0x03), (b[2] = 0xe9), b), 'DecodeFailed'],
    ['devices out of order', (b: Uint8Array) => ((b[3 + 8] = 9), b), 'DecodeFailed']
  ] as const)('%s is refused', (_w, edit, code) => {
    expect(codeOf(() => parseSealedSenderV2Sent(edit(sent.slice()), MAX_UPLOAD))).toBe(code);
  });

  test('a recipient listed twice is refused by the host', () => {
    const one = sealSenderKeyed(keyedInput(alice, [to(alice, bob)], te.encode('h')), deps);
    const p = parseSealedSenderV2Sent(one, MAX_UPLOAD);
    const bobPart = one.subarray(3, one.length - p.shared.length);
    expect(parseSealedSenderV2Sent(concatBytes(Uint8Array.of(3, 0, 1), bobPart, p.shared), MAX_UPLOAD).recipients).toHaveLength(1);
    expect(codeOf(() => parseSealedSenderV2Sent(concatBytes(Uint8Array.of(3, 0, 2), bobPart, bobPart, p.shared), MAX_UPLOAD))).toBe('DecodeFailed');
  });
});
