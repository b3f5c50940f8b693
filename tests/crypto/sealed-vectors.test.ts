// Frozen vectors for sealed sender, profiles and delivery tokens (P41, P43): regenerated from the
// seed and compared byte for byte (any change to a layout, label or KDF shows here), and opened
// from the frozen bytes alone with the frozen keys (the receive path without the generator).
// UPDATE_VECTORS=1 rewrites tests/vectors/sealed-sender.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { decodeIdentityKeyPair, encodeIdentityKeyPair, encodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { decodeSenderCertificate, encodeSenderCertificate, encodeServerCertificate } from '../../src/lib/crypto/certificates';
import { openSealedSender, sealSender } from '../../src/lib/crypto/sealed-sender';
import { openSealedSenderV2, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { SEAL_KEY_LEN, openSealedSenderV3, sealSenderKeyed } from '../../src/lib/crypto/sealed-sender-v3';
import { ContentHint, SealedContentType } from '../../src/lib/crypto/sealed-content';
import { generateProfileKey, openProfile, profileAddress, profileWriteToken, profileWriteVerifier, sealProfile } from '../../src/lib/crypto/profile';
import { decodeSealedAccess, deliveryToken, encodeSealedAccess, mayDeliverSealed, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { sealedWorld } from './sealed-fixtures';

const SEED = 'sealed-sender-vectors-1';
const VECTOR_PATH = new URL('../vectors/sealed-sender.json', import.meta.url);
const te = new TextEncoder();

function generateVector() {
  const world = sealedWorld(SEED);
  const { deps } = world;
  const alice = world.user('alice');
  const bob = world.user('bob');
  const carol = world.user('carol', { device: 2 });
  const content = te.encode('a session message, opaque to the sealed layer');
  const groupId = deps.rng(32);
  const v1 = sealSender(
    {
      ourIdentity: alice.identity,
      senderCertificate: alice.certificate,
      theirIdentity: identityPublic(bob.identity),
      contentType: SealedContentType.session,
      contentHint: ContentHint.implicit,
      content
    },
    deps
  );
  const sent = sealSenderMulti(
    {
      ourIdentity: alice.identity,
      senderCertificate: alice.certificate,
      recipients: [
        { username: 'bob', devices: [1], identity: identityPublic(bob.identity) },
        { username: 'carol', devices: [1, 2], identity: identityPublic(carol.identity) }
      ],
      contentType: SealedContentType.senderKey,
      groupId,
      content
    },
    deps
  );
  const parsed = parseSealedSenderV2Sent(sent, 1 << 20);
  const profileKey = generateProfileKey(deps);
  const profile = { displayName: 'Alice', about: 'curiouser', avatar: deps.rng(64) };
  const sealedProfile = sealProfile({ profile, profileKey, username: 'alice' }, deps);
  const token = deliveryToken(profileKey, 'alice');
  const writeToken = profileWriteToken(alice.identity, sealedProfile.address);
  // v3 draws from the rng after everything above, so the older vectors keep their bytes.
  const sealKeyBob = deps.rng(SEAL_KEY_LEN);
  const sealKeyCarol = deps.rng(SEAL_KEY_LEN);
  const v3GroupId = deps.rng(32);
  const sentV3 = sealSenderKeyed(
    {
      ourIdentity: alice.identity,
      senderCertificate: alice.certificate,
      recipients: [
        { username: 'bob', devices: [1], identity: identityPublic(bob.identity), sealKey: sealKeyBob },
        { username: 'carol', devices: [1, 2], identity: identityPublic(carol.identity), sealKey: sealKeyCarol }
      ],
      contentType: SealedContentType.senderKey,
      contentHint: ContentHint.resendable,
      groupId: v3GroupId,
      content
    },
    deps
  );
  const parsedV3 = parseSealedSenderV2Sent(sentV3, 1 << 20);
  return {
    source: `frozen from seededDeps seed "${SEED}" (tests/crypto/sealed-fixtures.ts sealedWorld: root, server key 7, users alice, bob, carol device 2)`,
    now: deps.now(),
    trustRoot: toHex(world.trust.root),
    serverCertificate: toHex(encodeServerCertificate(world.server.certificate)),
    aliceIdentityKeyPair: toHex(encodeIdentityKeyPair(alice.identity)),
    aliceCertificate: toHex(encodeSenderCertificate(alice.certificate)),
    bobIdentityKeyPair: toHex(encodeIdentityKeyPair(bob.identity)),
    carolIdentityKeyPair: toHex(encodeIdentityKeyPair(carol.identity)),
    content: toHex(content),
    v1: { contentType: SealedContentType.session, contentHint: ContentHint.implicit, envelope: toHex(v1) },
    v2: {
      groupId: toHex(groupId),
      sent: toHex(sent),
      receivedBob: toHex(receivedSealedSenderV2(parsed.recipients[0]!, parsed)),
      receivedCarol: toHex(receivedSealedSenderV2(parsed.recipients[1]!, parsed))
    },
    v3: {
      groupId: toHex(v3GroupId),
      contentHint: ContentHint.resendable,
      sealKeyBob: toHex(sealKeyBob),
      sealKeyCarol: toHex(sealKeyCarol),
      sent: toHex(sentV3),
      receivedBob: toHex(receivedSealedSenderV2(parsedV3.recipients[0]!, parsedV3)),
      receivedCarol: toHex(receivedSealedSenderV2(parsedV3.recipients[1]!, parsedV3))
    },
    profile: {
      profileKey: toHex(profileKey),
      username: 'alice',
      displayName: profile.displayName,
      about: profile.about,
      avatar: toHex(profile.avatar),
      address: toHex(sealedProfile.address),
      blob: toHex(sealedProfile.blob),
      writeToken: toHex(writeToken),
      writeVerifier: toHex(profileWriteVerifier(writeToken))
    },
    delivery: { token: toHex(token), access: toHex(encodeSealedAccess(sealedAccessFor(profileKey, 'alice', false))) }
  };
}

if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(generateVector(), null, 2) + '\n');
const vectors = JSON.parse(readFileSync(VECTOR_PATH, 'utf8')) as ReturnType<typeof generateVector>;

test('P41 P43 sealed sender, profile and delivery-token vectors regenerate byte for byte from their seed', () => {
  expect(generateVector()).toEqual(vectors);
});

test('P41 the frozen v1, v2 and v3 envelopes open with the frozen keys alone', () => {
  const deps = seededDeps('any', vectors.now);
  const trust = { root: fromHex(vectors.trustRoot), revokedServerKeyIds: [] };
  const bob = decodeIdentityKeyPair(fromHex(vectors.bobIdentityKeyPair));
  const carol = decodeIdentityKeyPair(fromHex(vectors.carolIdentityKeyPair));
  const cert = decodeSenderCertificate(fromHex(vectors.aliceCertificate));
  expect(cert.username).toBe('alice');
  const v1 = openSealedSender({ message: fromHex(vectors.v1.envelope), ourIdentity: bob, ourAddress: { username: asUsername('bob'), device: 1 }, trust }, deps);
  expect(v1).toEqual({ sender: cert, contentType: vectors.v1.contentType, contentHint: vectors.v1.contentHint, groupId: null, content: fromHex(vectors.content) });
  for (const [who, id, msg] of [
    ['bob', bob, vectors.v2.receivedBob],
    ['carol', carol, vectors.v2.receivedCarol]
  ] as const) {
    const opened = openSealedSenderV2({ message: fromHex(msg), ourIdentity: id, ourAddress: { username: asUsername(who), device: 1 }, trust }, deps);
    expect(opened).toEqual({ sender: cert, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, groupId: fromHex(vectors.v2.groupId), content: fromHex(vectors.content) });
  }
  expect(parseSealedSenderV2Sent(fromHex(vectors.v2.sent), 1 << 20).recipients.map((r) => [r.username, r.devices])).toEqual([
    ['bob', [1]],
    ['carol', [1, 2]]
  ]);

  // v3: each opens with the seal key alice gave it, tried after the other's (which does not fit).
  const keyBob = fromHex(vectors.v3.sealKeyBob);
  const keyCarol = fromHex(vectors.v3.sealKeyCarol);
  for (const [who, id, msg, keys] of [
    ['bob', bob, vectors.v3.receivedBob, [keyCarol, keyBob]],
    ['carol', carol, vectors.v3.receivedCarol, [keyBob, keyCarol]]
  ] as const) {
    const candidates = keys.map((sealKey) => ({ sealKey, username: cert.username, identity: encodeIdentityPublic(cert.identity) }));
    const message = fromHex(msg);
    expect(message[0]).toBe(3);
    const opened = openSealedSenderV3({ message, ourIdentity: id, ourAddress: { username: asUsername(who), device: 1 }, trust, candidates }, deps);
    expect(opened).toEqual({
      sender: cert,
      contentType: SealedContentType.senderKey,
      contentHint: vectors.v3.contentHint,
      groupId: fromHex(vectors.v3.groupId),
      content: fromHex(vectors.content),
      candidate: 1
    });
  }
  const sentV3 = parseSealedSenderV2Sent(fromHex(vectors.v3.sent), 1 << 20);
  expect(sentV3.version).toBe(3);
  expect(sentV3.recipients.map((r) => [r.username, r.devices])).toEqual([
    ['bob', [1]],
    ['carol', [1, 2]]
  ]);
  expect(toHex(receivedSealedSenderV2(sentV3.recipients[0]!, sentV3))).toBe(vectors.v3.receivedBob);
});

test('P43 the frozen profile blob opens at its address, and the frozen tokens check', () => {
  const p = vectors.profile;
  const key = fromHex(p.profileKey);
  expect(toHex(profileAddress(key, p.username))).toBe(p.address);
  expect(openProfile({ blob: fromHex(p.blob), profileKey: key, username: p.username })).toEqual({ displayName: p.displayName, about: p.about, avatar: fromHex(p.avatar) });
  expect(toHex(profileWriteVerifier(fromHex(p.writeToken)))).toBe(p.writeVerifier);
  const access = decodeSealedAccess(fromHex(vectors.delivery.access));
  expect(mayDeliverSealed(access, fromHex(vectors.delivery.token))).toBe(true);
  expect(toHex(deliveryToken(key, p.username))).toBe(vectors.delivery.token);
});
