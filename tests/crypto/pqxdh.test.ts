import { hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { seededDeps, type Deps } from '../../src/lib/crypto/deps';
import { identityPublic } from '../../src/lib/crypto/identity';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';
import { kemPreKeyPublic, signedPreKeySigMessage } from '../../src/lib/crypto/prekeys';
import { accept, encodeParty, initiate, pqxdhKdf, type PqxdhHeader } from '../../src/lib/crypto/pqxdh';
import { ed25519Sign, mlkemKeyPair } from '../../src/lib/crypto/primitives';
import { sodium } from '../../src/lib/crypto/sodium';
import { encodeBundle, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import { concatBytes, toHex } from '../../src/lib/codec/bytes';
import { KeyType, encodeKey } from '../../src/lib/codec/keys';
import { bundleOf, consume, expectFailsUnchanged, flipBit, lookupOf, makeUser, type TestUser } from '../support/pqxdh-fixtures';

const deps = seededDeps('pqxdh-test');
const alice = makeUser('alice', deps);
const bob = makeUser('bob', deps);
const mallory = makeUser('mallory', deps);

function start(bundle: PreKeyBundle, d: Deps = deps) {
  return initiate({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle }, d);
}

function bobAccepts(header: PqxdhHeader, from: TestUser = alice, fromName = 'alice', to: TestUser = bob) {
  return accept({
    ourIdentity: to.identity,
    ourUsername: to.username,
    theirUsername: fromName,
    theirIdentity: identityPublic(from.identity),
    header,
    prekeys: lookupOf(to)
  });
}

/** Counts rng calls: the ephemeral key is drawn right before the first DH. */
function countingDeps(): Deps & { calls: number } {
  const d = seededDeps('counting');
  const c = { calls: 0, rng: (n: number) => (c.calls++, d.rng(n)), now: d.now };
  return c;
}

describe('PQXDH agreement', () => {
  test.each([
    ['one-time X25519 + one-time KEM', { oneTimeId: 100, kemId: 200 }],
    ['no one-time X25519 + last-resort KEM', { oneTimeId: null, kemId: 999 }]
  ] as const)('alice and bob derive the same secret and AD (%s)', (_name, opts) => {
    const bundle = bundleOf(bob, opts);
    const a = start(bundle);
    const b = bobAccepts(a.initialMessageHeader);
    expect(a.secret).toHaveLength(32);
    expect(b.secret).toEqual(a.secret);
    expect(b.ad).toEqual(a.ad);
    expect(a.initialMessageHeader.oneTimePreKeyId).toBe(opts.oneTimeId ?? undefined);
    expect(b.consumed).toEqual({
      ...(opts.oneTimeId === null ? {} : { oneTimePreKeyId: 100 }),
      kemPreKeyId: opts.kemId,
      kemLastResort: opts.kemId === 999
    });
  });

  test('P4 usernames and both identities are in the AD, initiator first', () => {
    const a = start(bundleOf(bob));
    const expected = concatBytes(encodeParty('alice', identityPublic(alice.identity)), encodeParty('bob', identityPublic(bob.identity)));
    expect(a.ad).toEqual(expected);
    expect(a.ad[0]).toBe(5);
    expect(new TextDecoder().decode(a.ad.subarray(1, 6))).toBe('alice');
  });

  test('P4 alice->bob delivered to carol, or relabelled as from mallory, never yields alice and bob\'s secret or AD', () => {
    const carol = makeUser('carol', seededDeps('carol')); // same prekey ids as bob, different keys
    const a = start(bundleOf(bob));
    const c = bobAccepts(a.initialMessageHeader, alice, 'alice', carol);
    expect(c.secret).not.toEqual(a.secret);
    expect(c.ad).not.toEqual(a.ad);
    const asMallory = bobAccepts(a.initialMessageHeader, mallory, 'mallory');
    expect(asMallory.secret).not.toEqual(a.secret);
    const renamed = bobAccepts(a.initialMessageHeader, alice, 'mallory');
    expect(renamed.ad).not.toEqual(a.ad);
  });
});

describe('P1 signatures are verified before any DH', () => {
  const bundle = bundleOf(bob);

  test('P1 every flipped bit of the signed-prekey and KEM-prekey signatures: InvalidSignature, no key drawn', () => {
    const d = countingDeps();
    for (let bit = 0; bit < 512; bit++) {
      const spkBad = { ...bundle, signedPreKey: { ...bundle.signedPreKey, signature: flipBit(bundle.signedPreKey.signature, bit) } };
      expectFailsUnchanged('InvalidSignature', () => start(spkBad, d), spkBad, alice.identity);
      const kemBad = { ...bundle, kemPreKey: { ...bundle.kemPreKey, signature: flipBit(bundle.kemPreKey.signature, bit) } };
      expectFailsUnchanged('InvalidSignature', () => start(kemBad, d), kemBad, alice.identity);
    }
    expect(d.calls).toBe(0);
  });

  test('P1 a flipped identity dh-key signature, or prekeys signed by another identity: InvalidSignature', () => {
    const d = countingDeps();
    const idBad = { ...bundle, identity: { ...bundle.identity, dhKeySignature: flipBit(bundle.identity.dhKeySignature, 77) } };
    expectFailsUnchanged('InvalidSignature', () => start(idBad, d), idBad);
    const m = bundleOf(mallory);
    for (const forged of [{ ...bundle, signedPreKey: m.signedPreKey }, { ...bundle, kemPreKey: m.kemPreKey }]) {
      expectFailsUnchanged('InvalidSignature', () => start(forged, d), forged);
    }
    expect(d.calls).toBe(0);
  });
});

describe('P5 degenerate X25519 keys are rejected', () => {
  const P = 2n ** 255n - 19n;
  const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  const base = [
    0n,
    1n,
    325606250916557431795983626356110631294008115727848805560023387167927233504n,
    39382357235489614581723060781553021112529911719440698176882885853963445705823n,
    P - 1n,
    P,
    P + 1n
  ].map(le);
  // The same points with the (ignored) top bit set, as Wycheproof does.
  const points = [...base, ...base.map((b) => Uint8Array.from(b, (x, i) => (i === 31 ? x | 0x80 : x)))];

  test('the list matches RFC 7748 / libsodium encodings', () => {
    expect(toHex(base[2]!)).toBe('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800');
    expect(toHex(base[3]!)).toBe('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157');
    expect(toHex(base[5]!)).toBe('ed' + 'ff'.repeat(30) + '7f');
  });

  const sign = (msg: Uint8Array) => ed25519Sign(bob.identity.signing.privateKey, msg);
  const idSig = (k: Uint8Array) => sign(concatBytes(labelBytes(Labels.identityDhKeySig), encodeKey(KeyType.X25519, k)));

  test.each(points.map((p, i) => [i, p] as const))('P5 point %i as identity dh key, signed prekey or one-time prekey: InvalidKey', (_i, point) => {
    const good = bundleOf(bob);
    const asIdentity = { ...good, identity: { ...good.identity, dhKey: point, dhKeySignature: idSig(point) } };
    const asSpk = { ...good, signedPreKey: { id: 1, publicKey: point, signature: sign(signedPreKeySigMessage(1, point)) } };
    const asOpk = { ...good, oneTimePreKey: { id: 100, publicKey: point } };
    for (const b of [asIdentity, asSpk, asOpk]) expectFailsUnchanged('InvalidKey', () => start(b), b, alice.identity);
  });

  test.each(points.map((p, i) => [i, p] as const))('P5 point %i as base key or initiator identity key: InvalidKey, nothing consumed', (_i, point) => {
    const { initialMessageHeader: h } = start(bundleOf(bob));
    const header = { ...h, baseKey: point };
    expectFailsUnchanged('InvalidKey', () => bobAccepts(header), header, bob.oneTimePreKeys, bob.kemPreKeys);
    const aliceSig = ed25519Sign(alice.identity.signing.privateKey, concatBytes(labelBytes(Labels.identityDhKeySig), encodeKey(KeyType.X25519, point)));
    const theirIdentity = { ...identityPublic(alice.identity), dhKey: point, dhKeySignature: aliceSig };
    const input = { ourIdentity: bob.identity, ourUsername: 'bob', theirUsername: 'alice', theirIdentity, header: h, prekeys: lookupOf(bob) };
    expectFailsUnchanged('InvalidKey', () => accept(input), theirIdentity, h, bob.oneTimePreKeys);
  });
});

describe('P6 the PQXDH KDF is exact', () => {
  const fill = (v: number) => new Uint8Array(32).fill(v);
  const reference = (ikmParts: Uint8Array[]) =>
    new Uint8Array(hkdfSync('sha256', concatBytes(fill(0xff), ...ikmParts), new Uint8Array(32), labelBytes(Labels.pqxdh), 32));

  test('P6 fixed DH outputs and KEM secret give node:crypto HKDF-SHA256 over 0xFF*32 || DH1..DH4 || SS', () => {
    const [dh1, dh2, dh3, dh4, ss] = [fill(0x11), fill(0x22), fill(0x33), fill(0x44), fill(0x55)];
    expect(pqxdhKdf([dh1, dh2, dh3, dh4], ss)).toEqual(reference([dh1, dh2, dh3, dh4, ss]));
    expect(pqxdhKdf([dh1, dh2, dh3], ss)).toEqual(reference([dh1, dh2, dh3, ss]));
    expect(toHex(pqxdhKdf([dh1, dh2, dh3, dh4], ss))).toBe(vectors.kdf.sk4);
    expect(toHex(pqxdhKdf([dh1, dh2, dh3], ss))).toBe(vectors.kdf.sk3);
    expect(() => pqxdhKdf([dh1, dh2], ss)).toThrow(/InvalidArgument/);
  });

  test('P6 the session secret equals an independent recomputation from bob\'s private keys', () => {
    const s = sodium();
    const a = start(bundleOf(bob));
    const h = a.initialMessageHeader;
    const spk = bob.signedPreKey.keyPair.privateKey;
    const dh1 = s.crypto_scalarmult(spk, alice.identity.dh.publicKey);
    const dh2 = s.crypto_scalarmult(bob.identity.dh.privateKey, h.baseKey);
    const dh3 = s.crypto_scalarmult(spk, h.baseKey);
    const dh4 = s.crypto_scalarmult(bob.oneTimePreKeys.get(100)!.keyPair.privateKey, h.baseKey);
    const ss = s.crypto_kem_mlkem768_dec(h.kemCiphertext, bob.kemPreKeys.get(200)!.keyPair.privateKey);
    expect(a.secret).toEqual(reference([dh1, dh2, dh3, dh4, ss]));
  });
});

describe('P7 and P8: the KEM prekey is mandatory and bound', () => {
  test('P7 a bundle stripped of its KEM prekey is refused before any DH', () => {
    const d = countingDeps();
    const { kemPreKey: _gone, ...rest } = bundleOf(bob);
    const stripped = rest as unknown as PreKeyBundle;
    expectFailsUnchanged('PostQuantumDowngrade', () => start(stripped, d), stripped);
    expect(d.calls).toBe(0);
  });

  test('P8 a substituted KEM key (host-generated, or another user\'s) fails the signature check', () => {
    const good = bundleOf(bob);
    const hostKey = mlkemKeyPair(seededDeps('host'));
    const subs = [
      { ...good, kemPreKey: { ...good.kemPreKey, publicKey: hostKey.publicKey } },
      { ...good, kemPreKey: { ...kemPreKeyPublic(mallory.kemPreKeys.get(200)!) } }
    ];
    for (const b of subs) expectFailsUnchanged('InvalidSignature', () => start(b), b);
  });

  test('P8 a tampered KEM ciphertext gives bob a different secret (implicit rejection), never alice\'s', () => {
    const a = start(bundleOf(bob));
    const header = { ...a.initialMessageHeader, kemCiphertext: flipBit(a.initialMessageHeader.kemCiphertext, 100) };
    expect(bobAccepts(header).secret).not.toEqual(a.secret);
    const short = { ...a.initialMessageHeader, kemCiphertext: a.initialMessageHeader.kemCiphertext.subarray(1) };
    expectFailsUnchanged('DecodeFailed', () => bobAccepts(short), short);
  });
});

describe('P9 one-time prekeys are consumed once', () => {
  test('P9 replaying an initial message after its one-time prekeys were deleted fails with MissingPrekey', () => {
    const b2 = makeUser('bob', seededDeps('bob-p9'));
    const a = initiate({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(b2) }, deps);
    const first = bobAccepts(a.initialMessageHeader, alice, 'alice', b2);
    consume(b2, first.consumed);
    expect(b2.oneTimePreKeys.has(100)).toBe(false);
    expect(b2.kemPreKeys.has(200)).toBe(false);
    expect(b2.kemPreKeys.has(999)).toBe(true);
    expectFailsUnchanged('MissingPrekey', () => bobAccepts(a.initialMessageHeader, alice, 'alice', b2), a.initialMessageHeader, b2.oneTimePreKeys);
  });

  test('P9 an unknown signed prekey or KEM prekey id is MissingPrekey', () => {
    const { initialMessageHeader: h } = start(bundleOf(bob));
    for (const header of [{ ...h, signedPreKeyId: 2 }, { ...h, kemPreKeyId: 201 }, { ...h, oneTimePreKeyId: 5 }]) {
      expectFailsUnchanged('MissingPrekey', () => bobAccepts(header), header);
    }
  });
});

// ---- golden vector ----

const VECTOR_PATH = new URL('../vectors/pqxdh.json', import.meta.url);

function generateVector() {
  const d = seededDeps(1);
  const a = makeUser('alice', d);
  const b = makeUser('bob', d);
  const bundle = bundleOf(b);
  const r = initiate({ ourIdentity: a.identity, ourUsername: 'alice', theirUsername: 'bob', bundle }, d);
  const fill = (v: number) => new Uint8Array(32).fill(v);
  return {
    source: 'frozen from seededDeps seed 1 (users from tests/support/pqxdh-fixtures.ts makeUser); kdf from fixed inputs 0x11..0x55',
    kdf: {
      sk4: toHex(pqxdhKdf([fill(0x11), fill(0x22), fill(0x33), fill(0x44)], fill(0x55))),
      sk3: toHex(pqxdhKdf([fill(0x11), fill(0x22), fill(0x33)], fill(0x55)))
    },
    bundle: toHex(encodeBundle(bundle)),
    baseKey: toHex(r.initialMessageHeader.baseKey),
    kemCiphertext: toHex(r.initialMessageHeader.kemCiphertext),
    ad: toHex(r.ad),
    secret: toHex(r.secret)
  };
}

if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(generateVector(), null, 2) + '\n');
const vectors = JSON.parse(readFileSync(VECTOR_PATH, 'utf8')) as ReturnType<typeof generateVector>;

test('golden vector: bundle, initial header, AD and secret regenerate byte-for-byte from seed 1', () => {
  expect(generateVector()).toEqual(vectors);
});
