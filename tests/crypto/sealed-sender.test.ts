import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { identityPublic } from '../../src/lib/crypto/identity';
import {
  MAX_SEALED_SENDER_LEN,
  checkSenderMatchesSession,
  openSealedSender,
  sealSender,
  sealedSenderLength,
  type OpenInput,
  type SealInput
} from '../../src/lib/crypto/sealed-sender';
import { ContentHint, SealedContentType, encodeSealedContent, paddedSealedContentLength } from '../../src/lib/crypto/sealed-content';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { encodeSenderCertificate, generateServerSigningKey, generateTrustRoot, issueSenderCertificate, type SenderCertificate } from '../../src/lib/crypto/certificates';
import { sessionDecrypt, sessionEncrypt } from '../../src/lib/crypto/session';
import { encodeContent } from '../../src/lib/wire/content';
import { ed25519Sign, x25519KeyPair } from '../../src/lib/crypto/primitives';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { PADDING_BLOCK } from '../../src/lib/codec/padding';
import { expectFailsUnchanged, flipBit } from '../support/pqxdh-fixtures';
import { DAY, referenceSeal, sealedWorld, sessionBetween, type SealedUser } from './sealed-fixtures';

const te = new TextEncoder();
const world = sealedWorld('sealed-sender');
const { deps, trust } = world;
const alice = world.user('alice');
const bob = world.user('bob');
const carol = world.user('carol');
const mallory = world.user('mallory');
const now = deps.now();

function sealInput(from: SealedUser, to: SealedUser, content: Uint8Array, extra: Partial<SealInput> = {}): SealInput {
  return {
    ourIdentity: from.identity,
    senderCertificate: from.certificate,
    theirIdentity: identityPublic(to.identity),
    contentType: SealedContentType.session,
    content,
    ...extra
  };
}

function openInput(to: SealedUser, message: Uint8Array, extra: Partial<OpenInput> = {}): OpenInput {
  return { message, ourIdentity: to.identity, ourAddress: to.address, trust, ...extra };
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

/** Re-signs an edited certificate body with `key` (what a holder of that key could make). */
function signedBy(c: Omit<SenderCertificate, 'signature'>, key: Uint8Array): SenderCertificate {
  const unsigned = encodeSenderCertificate({ ...c, signature: new Uint8Array(64) }).slice(0, -64);
  return { ...c, signature: ed25519Sign(key, concatBytes(te.encode('Parley_SenderCertificate'), unsigned)) };
}

/** Raw padded content, as the real sealer would write it (for the reference sealer). */
function padded(cert: SenderCertificate, content: Uint8Array): Uint8Array {
  return encodeSealedContent({ contentType: 1, contentHint: 0, groupId: null, senderCertificate: cert, content });
}

function containsBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('P41 sealed sender v1: round trip', () => {
  test('alice seals a session message to bob; bob opens it, learns alice from the verified certificate, and decrypts it', () => {
    const { a, b } = sessionBetween(alice, bob, deps);
    const msg = sessionEncrypt(a, te.encode('meet at noon'), deps);
    const sealed = sealSender(sealInput(alice, bob, msg.message), deps);
    const opened = openSealedSender(openInput(bob, sealed), deps);
    expect(opened.sender).toEqual(alice.certificate);
    expect(opened.contentType).toBe(SealedContentType.session);
    expect(opened.contentHint).toBe(ContentHint.default);
    expect(opened.groupId).toBeNull();
    expect(opened.content).toEqual(msg.message);
    checkSenderMatchesSession(opened.sender, b);
    expect(new TextDecoder().decode(sessionDecrypt(b, opened.content, deps).plaintext)).toBe('meet at noon');
  });

  test('content hint and group id travel inside the envelope', () => {
    const groupId = deps.rng(32);
    const sealed = sealSender(sealInput(alice, bob, te.encode('g'), { contentType: SealedContentType.senderKey, contentHint: ContentHint.implicit, groupId }), deps);
    const opened = openSealedSender(openInput(bob, sealed), deps);
    expect(opened).toMatchObject({ contentType: SealedContentType.senderKey, contentHint: ContentHint.implicit, groupId, content: te.encode('g') });
  });

  test('the envelope is the specified layout: an independent implementation of the module header gives the same bytes', () => {
    const content = te.encode('layout');
    const ours = sealSender(sealInput(alice, bob, content), seededDeps('layout'));
    const e = x25519KeyPair(seededDeps('layout'));
    const ref = referenceSeal({
      padded: padded(alice.certificate, content),
      recipient: bob.identity.dh.publicKey,
      claimedStatic: alice.identity.dh.publicKey,
      staticPrivate: alice.identity.dh.privateKey,
      ephemeral: e,
      deps
    });
    expect(ours).toEqual(ref);
  });

  test('the envelope names no sender: no username, key or certificate bytes of alice appear, and two seals share nothing', () => {
    const content = te.encode('same');
    const s1 = sealSender(sealInput(alice, bob, content), deps);
    const s2 = sealSender(sealInput(alice, bob, content), deps);
    for (const s of [s1, s2]) {
      expect(containsBytes(s, te.encode('alice'))).toBe(false);
      expect(containsBytes(s, alice.identity.dh.publicKey.subarray(0, 8))).toBe(false);
      expect(containsBytes(s, alice.identity.signing.publicKey.subarray(0, 8))).toBe(false);
      expect(containsBytes(s, encodeSenderCertificate(alice.certificate).subarray(-16))).toBe(false);
    }
    expect(s1.length).toBe(s2.length);
    expect(containsBytes(s2, s1.subarray(1, 17))).toBe(false);
  });
});

describe('P41 sealed sender v1: every tampering is refused with a typed error', () => {
  const sealed = sealSender(sealInput(alice, bob, te.encode('x')), deps);

  const fieldOf = (byte: number): string =>
    byte === 0 ? 'version' : byte === 1 ? 'ephemeral type' : byte < 34 ? 'ephemeral key' : byte < 34 + 49 ? 'static box' : 'message box';
  const expected: Record<string, ProtocolErrorCode> = {
    version: 'UnsupportedVersion',
    'ephemeral type': 'InvalidKey',
    // A flipped ephemeral key is another key: another DH, so the static box fails its MAC.
    'ephemeral key': 'InvalidMac',
    'static box': 'InvalidMac',
    'message box': 'InvalidMac'
  };
  const flipFails = (bit: number): void => {
    const m = flipBit(sealed, bit);
    const copy = m.slice();
    expect(codeOf(() => openSealedSender(openInput(bob, m), deps)), `bit ${bit}`).toBe(expected[fieldOf(bit >> 3)]);
    expect(m).toEqual(copy);
  };

  test('every single bit flip in the header (version, ephemeral key, static box) fails with the code its field calls for', () => {
    for (let bit = 0; bit < (1 + 33 + 49) * 8; bit++) flipFails(bit);
  });

  test('property: any bit flip in the message box fails with InvalidMac and leaves the input untouched', () => {
    const first = (1 + 33 + 49) * 8;
    // Its first and last bytes always, then random positions.
    for (const bit of [first, first + 7, sealed.length * 8 - 8, sealed.length * 8 - 1]) flipFails(bit);
    fc.assert(fc.property(fc.integer({ min: first, max: sealed.length * 8 - 1 }), flipFails), { numRuns: 300, seed: 41 });
  });

  test('every truncation and an extension fail (DecodeFailed before the body, InvalidMac after)', () => {
    for (let n = 0; n < sealed.length; n++) {
      const code = codeOf(() => openSealedSender(openInput(bob, sealed.subarray(0, n)), deps));
      expect(['DecodeFailed', 'InvalidMac'], `prefix ${n}: ${code}`).toContain(code);
      if (n < 1 + 33 + 49 + 17) expect(code, `prefix ${n}`).toBe('DecodeFailed');
    }
    expect(codeOf(() => openSealedSender(openInput(bob, concatBytes(sealed, Uint8Array.of(0))), deps))).toBe('InvalidMac');
    expect(codeOf(() => openSealedSender(openInput(bob, concatBytes(sealed, new Uint8Array(PADDING_BLOCK))), deps))).toBe('InvalidMac');
    expect(codeOf(() => openSealedSender(openInput(bob, new Uint8Array(MAX_SEALED_SENDER_LEN + 1)), deps))).toBe('DecodeFailed');
  });

  test('an envelope for bob does not open for carol: InvalidMac', () => {
    expectFailsUnchanged('InvalidMac', () => openSealedSender(openInput(carol, sealed), deps), sealed, carol.identity);
  });

  test('a low-order ephemeral key is refused: InvalidKey', () => {
    const zeroE = sealed.slice();
    zeroE.fill(0, 2, 34);
    expect(codeOf(() => openSealedSender(openInput(bob, zeroE), deps))).toBe('InvalidKey');
  });
});

describe('P41 forged, expired and misused certificates are refused', () => {
  test('a certificate from another trust root: InvalidSignature', () => {
    const rogueRoot = generateTrustRoot(deps);
    const rogue = generateServerSigningKey({ rootPrivateKey: rogueRoot.privateKey, keyId: 7, expires: now + DAY }, deps);
    const forged = issueSenderCertificate({ server: rogue, username: 'alice', device: 1, identity: identityPublic(mallory.identity) }, deps);
    const sealed = sealSender(sealInput(mallory, bob, te.encode('hi'), { senderCertificate: forged }), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidSignature');
  });

  test('a certificate signed by a key that is not the server key: InvalidSignature', () => {
    const { signature: _, ...body } = mallory.certificate;
    const forged = signedBy({ ...body, username: asUsername('alice') }, generateTrustRoot(deps).privateKey);
    const sealed = sealSender(sealInput(mallory, bob, te.encode('hi'), { senderCertificate: forged }), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidSignature');
  });

  test.each([
    ['username', (c: SenderCertificate): SenderCertificate => ({ ...c, username: asUsername('alice') })],
    ['device', (c: SenderCertificate): SenderCertificate => ({ ...c, device: 3 })],
    ['expiry', (c: SenderCertificate): SenderCertificate => ({ ...c, expires: c.expires + 30 * DAY })]
  ])('mallory edits the %s of her own certificate: InvalidSignature', (_f, edit) => {
    const sealed = sealSender(sealInput(mallory, bob, te.encode('hi'), { senderCertificate: edit(mallory.certificate) }), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidSignature');
  });

  test("mallory edits alice's certificate to carry her own identity: InvalidSignature", () => {
    const edited = { ...alice.certificate, identity: identityPublic(mallory.identity) };
    const sealed = sealSender(sealInput(mallory, bob, te.encode('hi'), { senderCertificate: edited }), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidSignature');
  });

  test("mallory wraps alice's genuine certificate around her own envelope: the static layer does not match, UntrustedIdentity", () => {
    const sealed = referenceSeal({
      padded: padded(alice.certificate, te.encode('from alice, honest')),
      recipient: bob.identity.dh.publicKey,
      claimedStatic: mallory.identity.dh.publicKey,
      staticPrivate: mallory.identity.dh.privateKey,
      deps
    });
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('UntrustedIdentity');
  });

  test("mallory claims alice's static key without her private key: InvalidMac", () => {
    const sealed = referenceSeal({
      padded: padded(alice.certificate, te.encode('from alice, honest')),
      recipient: bob.identity.dh.publicKey,
      claimedStatic: alice.identity.dh.publicKey,
      staticPrivate: mallory.identity.dh.privateKey,
      deps
    });
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidMac');
  });

  test('an expired certificate is refused, judged at the time the host accepted the envelope (never later than now)', () => {
    const shortLived = world.user('dave', { lifetimeMs: 60_000 });
    const sealed = sealSender(sealInput(shortLived, bob, te.encode('hi')), deps);
    const later = seededDeps('sealed-sender', now + 60_001);
    expectFailsUnchanged('UntrustedIdentity', () => openSealedSender(openInput(bob, sealed), later), sealed);
    // It waited in the mailbox: accepted by the host in time, read later.
    expect(openSealedSender(openInput(bob, sealed, { receivedAt: now + 1000 }), later).sender.username).toBe('dave');
    // A receivedAt in the future buys nothing.
    expect(codeOf(() => openSealedSender(openInput(bob, sealed, { receivedAt: now + 10 * DAY }), later))).toBe('UntrustedIdentity');
  });

  test('a certificate under a revoked server key id: UntrustedIdentity', () => {
    const revoked = generateServerSigningKey({ rootPrivateKey: world.root.privateKey, keyId: 0xdeadc357, expires: now + DAY }, deps);
    const eve = world.user('eve', { server: revoked });
    const sealed = sealSender(sealInput(eve, bob, te.encode('hi')), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('UntrustedIdentity');
  });

  test('an envelope from our own address is a reflection: InvalidMessage; another device of ours is not', () => {
    const sealed = sealSender(sealInput(bob, bob, te.encode('hi')), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, sealed), deps))).toBe('InvalidMessage');
    const opened = openSealedSender(openInput(bob, sealed, { ourAddress: { username: asUsername('bob'), device: 2 } }), deps);
    expect(opened.sender.device).toBe(1);
  });

  test('the engine check: a certificate for another username or identity than the session holds is UntrustedIdentity', () => {
    const { b } = sessionBetween(alice, bob, deps);
    checkSenderMatchesSession(alice.certificate, b);
    expect(codeOf(() => checkSenderMatchesSession(mallory.certificate, b))).toBe('UntrustedIdentity');
    // The host signs certificates: it could certify "alice" with mallory's key. The session refuses.
    const hostForged = issueSenderCertificate({ server: world.server, username: 'alice', device: 1, identity: identityPublic(mallory.identity) }, deps);
    expect(codeOf(() => checkSenderMatchesSession(hostForged, b))).toBe('UntrustedIdentity');
  });

  test('the sealer refuses a certificate that is not its own, an expired one, and bad content fields', () => {
    expect(codeOf(() => sealSender(sealInput(mallory, bob, te.encode('x'), { senderCertificate: alice.certificate }), deps))).toBe('InvalidArgument');
    const later = seededDeps('sealed-sender', alice.certificate.expires + 1);
    expect(codeOf(() => sealSender(sealInput(alice, bob, te.encode('x')), later))).toBe('InvalidArgument');
    expect(codeOf(() => sealSender(sealInput(alice, bob, te.encode('x'), { groupId: new Uint8Array(31) }), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSender(sealInput(alice, bob, te.encode('x'), { contentType: 9 as never }), deps))).toBe('InvalidArgument');
    expect(codeOf(() => sealSender(sealInput(alice, bob, te.encode('x'), { contentHint: 3 as never }), deps))).toBe('InvalidArgument');
  });
});

describe('P41 sealed content is strict once decrypted', () => {
  const good = padded(alice.certificate, te.encode('abc'));
  const seal = (p: Uint8Array) =>
    referenceSeal({ padded: p, recipient: bob.identity.dh.publicKey, claimedStatic: alice.identity.dh.publicKey, staticPrivate: alice.identity.dh.privateKey, deps });

  test.each([
    ['an unknown version', (p: Uint8Array) => ((p[0] = 2), p), 'UnsupportedVersion'],
    ['an unknown content type', (p: Uint8Array) => ((p[1] = 7), p), 'DecodeFailed'],
    ['an unknown content hint', (p: Uint8Array) => ((p[2] = 3), p), 'DecodeFailed'],
    ['a group flag of 2', (p: Uint8Array) => ((p[3] = 2), p), 'DecodeFailed'],
    ['a non-zero padding byte', (p: Uint8Array) => ((p[p.length - 1] = 1), p), 'DecodeFailed'],
    ['no padding marker', (p: Uint8Array) => ((p[p.length - 1] = 0), p.fill(0, p.lastIndexOf(0x80))), 'DecodeFailed'],
    ['one block too much padding', (p: Uint8Array) => concatBytes(p, new Uint8Array(PADDING_BLOCK)), 'DecodeFailed'],
    ['one block too little padding', (p: Uint8Array) => p.slice(0, p.length - PADDING_BLOCK), 'DecodeFailed']
  ] as const)('%s is refused after the MACs pass', (_what, edit, code) => {
    expect(openSealedSender(openInput(bob, seal(good.slice())), deps).content).toEqual(te.encode('abc'));
    expect(codeOf(() => openSealedSender(openInput(bob, seal(edit(good.slice()))), deps))).toBe(code);
  });
});

describe('P41 padding: the host cannot tell a receipt from a short message, nor who sent it', () => {
  test('a read receipt and a 1-byte text, each through the ratchet and sealed, are the same size', () => {
    const { a } = sessionBetween(alice, bob, deps);
    const ids = Array.from({ length: 4 }, (_, i) => i.toString(16).padStart(32, '0'));
    const receipt = sessionEncrypt(a, encodeContent({ kind: 'receipt', receipt: 'read', ids }), deps);
    const text = sessionEncrypt(receipt.state, encodeContent({ kind: 'text', id: 'f'.repeat(32), sentAt: now, text: 'k' }), deps);
    const typingLike = sessionEncrypt(text.state, new Uint8Array(0), deps);
    const sizes = [receipt, text, typingLike].map(
      (m) => sealSender(sealInput(alice, bob, m.message, { contentHint: ContentHint.implicit }), deps).length
    );
    expect(new Set(sizes).size).toBe(1);
    expect(sizes[0]).toBe(sealedSenderLength(receipt.message.length));
    expect(sizes[0]).toBe(739);
  });

  test('senders with 3- and 32-character usernames, and group or not, seal the same content to the same size', () => {
    const shortName = world.user('amy');
    const longName = world.user('a'.repeat(32));
    // Every offset within a padding block, so a size that depended on the sender would show.
    for (let n = 200; n < 200 + PADDING_BLOCK; n += 3) {
      const content = new Uint8Array(n);
      const sizes = [
        sealSender(sealInput(shortName, bob, content), deps).length,
        sealSender(sealInput(longName, bob, content), deps).length,
        sealSender(sealInput(shortName, bob, content, { groupId: deps.rng(32) }), deps).length,
        sealSender(sealInput(longName, bob, content, { groupId: deps.rng(32), contentType: SealedContentType.senderKey }), deps).length
      ];
      expect(new Set(sizes).size, `content of ${n} bytes`).toBe(1);
    }
  });

  test('sizes grow in whole 160-byte blocks with the content alone', () => {
    for (const n of [0, 1, 100, 159, 160, 1000, 5000]) {
      const s = sealSender(sealInput(alice, bob, new Uint8Array(n)), deps);
      expect(s.length).toBe(sealedSenderLength(n));
      expect(paddedSealedContentLength(n) % PADDING_BLOCK).toBe(0);
      expect(paddedSealedContentLength(n + PADDING_BLOCK)).toBe(paddedSealedContentLength(n) + PADDING_BLOCK);
    }
  });
});

describe('P41 the sealed-sender cache never changes an answer', () => {
  test('sealed bytes and opened results are the same with and without a cache', () => {
    const sCache = new SealedSenderCache(trust);
    const rCache = new SealedSenderCache(trust);
    for (let i = 0; i < 3; i++) {
      const content = te.encode(`m${i}`);
      const plain = sealSender(sealInput(alice, bob, content), seededDeps(`cache-${i}`));
      const cached = sealSender(sealInput(alice, bob, content, { cache: sCache }), seededDeps(`cache-${i}`));
      expect(cached).toEqual(plain);
      expect(openSealedSender(openInput(bob, plain, { cache: rCache }), deps)).toEqual(openSealedSender(openInput(bob, plain), deps));
    }
    expect(sCache.staticSecret(alice.identity.dh.publicKey, bob.identity.dh.publicKey)).toBeDefined();
    expect(rCache.staticSecret(bob.identity.dh.publicKey, alice.identity.dh.publicKey)).toEqual(
      sCache.staticSecret(alice.identity.dh.publicKey, bob.identity.dh.publicKey)
    );
  });

  test('refusals are the same with a warm cache, and a refused envelope leaves no static secret behind', () => {
    const rCache = new SealedSenderCache(trust);
    const good = sealSender(sealInput(alice, bob, te.encode('warm')), deps);
    openSealedSender(openInput(bob, good, { cache: rCache }), deps);
    const shortLived = world.user('dave', { lifetimeMs: 60_000 });
    const expired = sealSender(sealInput(shortLived, bob, te.encode('hi')), deps);
    const later = seededDeps('sealed-sender', now + 60_001);
    const wrapped = referenceSeal({
      padded: padded(alice.certificate, te.encode('x')),
      recipient: bob.identity.dh.publicKey,
      claimedStatic: mallory.identity.dh.publicKey,
      staticPrivate: mallory.identity.dh.privateKey,
      deps
    });
    const cases: [Uint8Array, typeof deps][] = [
      [expired, later],
      [wrapped, deps],
      [flipBit(good, good.length * 8 - 3), deps],
      [sealSender(sealInput(alice, bob, te.encode('late')), deps), seededDeps('sealed-sender', alice.certificate.expires + 1)]
    ];
    for (const [m, d] of cases) {
      const cold = codeOf(() => openSealedSender(openInput(bob, m), d));
      expect(codeOf(() => openSealedSender(openInput(bob, m, { cache: rCache }), d))).toBe(cold);
      // Twice: the first refusal must not have warmed anything that changes the second.
      expect(codeOf(() => openSealedSender(openInput(bob, m, { cache: rCache }), d))).toBe(cold);
    }
    expect(rCache.staticSecret(bob.identity.dh.publicKey, shortLived.identity.dh.publicKey)).toBeUndefined();
    expect(rCache.staticSecret(bob.identity.dh.publicKey, mallory.identity.dh.publicKey)).toBeUndefined();
  });

  test('a cache made for another trust is refused: InvalidArgument', () => {
    const other = new SealedSenderCache({ root: generateTrustRoot(deps).publicKey, revokedServerKeyIds: [] });
    const good = sealSender(sealInput(alice, bob, te.encode('x')), deps);
    expect(codeOf(() => openSealedSender(openInput(bob, good, { cache: other }), deps))).toBe('InvalidArgument');
  });
});
