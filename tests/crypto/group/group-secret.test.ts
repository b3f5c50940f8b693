import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { bytesEqual, toHex } from '../../../src/lib/codec/bytes';
import { isProtocolError } from '../../../src/lib/codec/errors';
import { encodeIdentityPublic } from '../../../src/lib/crypto/identity';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { createChange } from '../../../src/lib/crypto/group/group-change';
import { findMember, type GroupState } from '../../../src/lib/crypto/group/group-state';
import { encodeGroupState, stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { encodeGroupHistory, historyFromParts } from '../../../src/lib/crypto/group/group-history-codec';
import { receiveChange, receiveChanges, startHistory, type GroupHistory } from '../../../src/lib/crypto/group/group-history';
import {
  decodeInviteLink,
  encodeInviteLink,
  generateInviteSecret,
  generateMasterKey,
  inviteBlobWriteToken,
  inviteKeys,
  stateBlobKeys
} from '../../../src/lib/crypto/group/group-secret';
import { BlobKind, MIN_BLOB_BUCKET, blobBucket, openBlob, openInviteBlob, openStateBlob, sealBlob, sealInviteBlob, sealStateBlob, sealedBlobLength } from '../../../src/lib/crypto/group/state-blob';
import { add, change, makeGroup, person, pub } from './fixtures';

const deps = seededDeps('group-secret');
const ann = person('ann');
const te = new TextEncoder();

/** Does `needle` occur anywhere in `hay`? */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function groupOf(n: number, name = 'Secret Society of Owls'): GroupHistory {
  const members = Array.from({ length: n - 1 }, (_, i) => person(`member${i}`));
  return startHistory(makeGroup({ creator: ann, members, name }));
}

describe('group secrets', () => {
  test('master key -> blob key, address and write token: distinct, deterministic, bound to the group id', () => {
    const mk = generateMasterKey(deps);
    const g1 = deps.rng(32);
    const g2 = deps.rng(32);
    const k = stateBlobKeys(mk, g1);
    expect(stateBlobKeys(mk, g1)).toEqual(k);
    const all = [k.key, k.address, k.writeToken, ...Object.values(stateBlobKeys(mk, g2)).filter((v) => v instanceof Uint8Array), ...Object.values(stateBlobKeys(generateMasterKey(deps), g1))];
    expect(new Set(all.map(toHex)).size).toBe(all.length);
    expect(() => stateBlobKeys(mk.subarray(1), g1)).toThrow(/masterKey: 31 bytes/);
  });

  test('invite secret -> link key, blob key and address; the invite blob\'s write token needs the master key', () => {
    const s = generateInviteSecret(deps);
    const k = inviteKeys(s);
    expect(inviteKeys(s)).toEqual(k);
    expect(k.signing.publicKey).toHaveLength(32);
    expect(new Set([k.key, k.address, k.signing.publicKey].map(toHex)).size).toBe(3);
    const mk = generateMasterKey(deps);
    const gid = deps.rng(32);
    const w = inviteBlobWriteToken(mk, gid, k.address);
    expect(bytesEqual(w, inviteBlobWriteToken(generateMasterKey(deps), gid, k.address))).toBe(false);
    expect(bytesEqual(w, stateBlobKeys(mk, gid).writeToken)).toBe(false);
  });

  test('invite link text: 44 base64url characters, strict', () => {
    const s = generateInviteSecret(deps);
    const text = encodeInviteLink(s);
    expect(text).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(decodeInviteLink(text)).toEqual(s);
    expect(() => decodeInviteLink(text.slice(0, 43))).toThrow();
    expect(() => decodeInviteLink(text + 'A')).toThrow();
    expect(text[0]).toBe('A'); // version 1 in the top bits
    expect(() => decodeInviteLink('E' + text.slice(1))).toThrow(/version/);
  });

  test('P19 what a removed member can read (the state) holds only the link\'s public key, never its secret or blob key', () => {
    const secret = generateInviteSecret(deps);
    const k = inviteKeys(secret);
    const s0 = makeGroup({ creator: ann });
    const s = applyChange(s0, change(s0, ann, { type: 'setInviteLink', invite: { publicKey: k.signing.publicKey, approval: false } }));
    const enc = encodeGroupState(s);
    expect(contains(enc, k.signing.publicKey)).toBe(true);
    for (const hidden of [secret, k.key, k.address, k.signing.privateKey.subarray(0, 32)]) expect(contains(enc, hidden)).toBe(false);
  });
});

describe('state blob: what the host keeps', () => {
  test('seal and open round-trip; the wrong key, address, kind or a flipped byte is refused', () => {
    const mk = generateMasterKey(deps);
    const h = groupOf(3);
    const { address, writeToken, sealed } = sealStateBlob(h, mk, deps);
    expect(address).toEqual(stateBlobKeys(mk, h.anchor.groupId).address);
    expect(writeToken).toEqual(stateBlobKeys(mk, h.anchor.groupId).writeToken);
    const parts = openStateBlob(sealed, mk, h.anchor.groupId);
    expect(parts.anchor).toEqual(h.anchor);
    expect(() => openStateBlob(sealed, generateMasterKey(deps), h.anchor.groupId)).toThrow(/InvalidMac/);
    expect(() => openStateBlob(sealed, mk, deps.rng(32))).toThrow(/InvalidMac/);
    const keys = stateBlobKeys(mk, h.anchor.groupId);
    expect(() => openBlob({ keys, kind: BlobKind.invite, sealed })).toThrow(/kind/);
    const relabelled = sealed.slice();
    relabelled[1] = BlobKind.invite;
    expect(() => openBlob({ keys, kind: BlobKind.invite, sealed: relabelled })).toThrow(/InvalidMac/);
    for (let i = 2; i < sealed.length; i += 997) {
      const bad = sealed.slice();
      bad[i]! ^= 1;
      expect(() => openStateBlob(bad, mk, h.anchor.groupId)).toThrow(/InvalidMac/);
    }
  });

  test('breach: a sealed blob holds no group name, member username, identity key, group id or member count', () => {
    const mk = generateMasterKey(deps);
    const small = groupOf(1, 'Owls');
    const big = groupOf(40, 'Owls');
    const a = sealStateBlob(small, mk, deps).sealed;
    const b = sealStateBlob(big, mk, deps).sealed;
    // Same size: the host cannot tell 1 member from 40.
    expect(a.length).toBe(b.length);
    expect(a.length).toBe(sealedBlobLength(0));
    for (const sealed of [a, b]) {
      for (const secret of [te.encode('Owls'), te.encode('ann'), te.encode('member39'), big.anchor.groupId, encodeIdentityPublic(pub(ann)).subarray(1, 33)]) {
        expect(contains(sealed, secret)).toBe(false);
      }
    }
    // A full 1000-member group lands in a larger bucket, which says only "several hundred".
    const payload = encodeGroupHistory(big).length;
    expect(payload).toBeLessThan(MIN_BLOB_BUCKET);
  });

  test('buckets: 32 KiB, then doubling; padding is canonical', () => {
    expect(blobBucket(0)).toBe(32 * 1024);
    expect(blobBucket(32 * 1024 - 1)).toBe(32 * 1024);
    expect(blobBucket(32 * 1024)).toBe(64 * 1024);
    expect(blobBucket(200_000)).toBe(256 * 1024);
    expect(() => blobBucket(4 * 1024 * 1024)).toThrow(/exceeds/);
    const keys = stateBlobKeys(generateMasterKey(deps), deps.rng(32));
    const payload = deps.rng(100);
    const sealed = sealBlob({ keys, kind: BlobKind.state, payload }, deps);
    expect(openBlob({ keys, kind: BlobKind.state, sealed })).toEqual(payload);
    expect(sealed.length).toBe(2 + 24 + 32 * 1024 + 16);
  });

  test('P19 a blob rewritten by a former member (who kept the master key) cannot add anyone to a history we trust', () => {
    const mk = generateMasterKey(deps);
    const g = makeGroup({ creator: ann, members: [person('ben')] });
    const ours = startHistory(g);
    // The former member forges a history: its own anchor listing mallory as admin.
    const mallory = person('mallory');
    const fake = startHistory(makeGroup({ creator: mallory, members: [ann], deps: seededDeps('fake') }));
    const forgedBlob = sealStateBlob({ ...fake, anchor: { ...fake.anchor, groupId: g.groupId } }, mk, deps).sealed;
    const parts = openStateBlob(forgedBlob, mk, g.groupId);
    // A change signed by mallory against the forged anchor has no known base in our history.
    const forgedChange = change(parts.anchor, mallory, add(person('zed')));
    const merged = receiveChanges(ours, [...parts.changes, forgedChange]);
    expect(merged.history.head).toBe(ours.head);
    expect(merged.history.edges.size).toBe(0);
    expect(findMember(merged.history.head, mallory.address)).toBeUndefined();
  });

  test('a blob carries the path to the head, not lost branches', () => {
    const mk = generateMasterKey(deps);
    const g = makeGroup({ creator: ann, admins: [person('ben')] });
    const win = change(g, ann, { type: 'setName', name: 'ann wins' });
    const lose = change(g, person('ben'), { type: 'setName', name: 'ben loses' });
    const h = receiveChanges(startHistory(g), [lose, win]).history;
    expect(h.edges.size).toBe(2);
    const parts = openStateBlob(sealStateBlob(h, mk, deps).sealed, mk, g.groupId);
    expect(parts.changes).toEqual([win]);
  });

  test('a member who missed changes catches up from the blob, each change verified', () => {
    const mk = generateMasterKey(deps);
    const ben = person('ben');
    const g = makeGroup({ creator: ann, members: [ben] });
    let annView = startHistory(g);
    const benView = startHistory(g);
    for (const name of ['one', 'two', 'three']) annView = receiveChange(annView, change(annView.head, ann, { type: 'setName', name })).history;
    const blob = sealStateBlob(annView, mk, deps).sealed;
    const parts = openStateBlob(blob, mk, g.groupId);
    const caught = receiveChanges(benView, parts.changes);
    expect(caught.refused).toEqual([]);
    expect(stateHash(caught.history.head)).toEqual(stateHash(annView.head));
  });
});

describe('joining by link while every admin is offline', () => {
  test('the joiner reads the invite blob, signs a join with its identity and the link key, and members apply it', () => {
    const mk = generateMasterKey(deps);
    const secret = generateInviteSecret(deps);
    const link = encodeInviteLink(secret);
    const ben = person('ben');
    const g0 = makeGroup({ creator: ann, members: [ben] });
    let h = startHistory(g0);
    h = receiveChange(h, change(h.head, ann, { type: 'setInviteLink', invite: { publicKey: inviteKeys(secret).signing.publicKey, approval: false } })).history;
    const inviteBlob = sealInviteBlob(h, secret, deps);
    expect(inviteBlob.address).toEqual(inviteKeys(secret).address);
    expect(inviteBlobWriteToken(mk, h.anchor.groupId, inviteBlob.address)).toHaveLength(32);

    // The joiner has only the link text.
    const joiner = person('zoe');
    const s = decodeInviteLink(link);
    const seen: GroupState = historyFromParts(openInviteBlob(inviteBlob.sealed, s)).head;
    expect(seen.members.map((m) => m.address.username)).toEqual(['ann', 'ben']);
    const join = createChange({ base: seen, author: joiner.address, authorIdentity: joiner.identity, actions: [{ type: 'joinByLink', identity: pub(joiner) }], inviteSigningKey: inviteKeys(s).signing });
    // Ben, a plain member, applies it: no admin needed to be online.
    const benView = receiveChange(h, join).history;
    expect(findMember(benView.head, joiner.address)).toBeDefined();
    // Someone with the blob but not the link (a former member reading the state) cannot.
    const nope = createChange({ base: seen, author: person('yan').address, authorIdentity: person('yan').identity, actions: [{ type: 'joinByLink', identity: pub(person('yan')) }] });
    expect(() => receiveChange(h, nope)).toThrow(/InvalidSignature/);
    expect(isProtocolError(catchIt(() => openInviteBlob(inviteBlob.sealed, generateInviteSecret(deps))))).toBe(true);
  });
});

function catchIt(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
