import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { concatBytes } from '../../../src/lib/codec/bytes';
import { isCodedError, isProtocolError } from '../../../src/lib/codec/errors';
import { acceptSession, initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../../src/lib/crypto/session';
import { MessageType } from '../../../src/lib/crypto/message';
import { MAX_SKIP, SKIPPED_KEY_TTL_MS } from '../../../src/lib/crypto/ratchet/limits';
import { address } from '../../../src/lib/crypto/group/address';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { mustRotateSenderKey, senderKeyRecipients, type GroupState } from '../../../src/lib/crypto/group/group-state';
import {
  acceptSenderKeyDistribution,
  createSenderKey,
  forgetSkipped,
  groupDecrypt,
  groupEncrypt,
  rotateSenderKey,
  senderKeyDistribution,
  type OurSenderKey,
  type TheirSenderKey
} from '../../../src/lib/crypto/group/sender-key';
import {
  GROUP_MESSAGE_TYPE,
  decodeSenderKeyDistribution,
  encodeSenderKeyDistribution,
  peekGroupMessage
} from '../../../src/lib/crypto/group/sender-key-message';
import { decodeOurSenderKey, decodeTheirSenderKey, encodeOurSenderKey, encodeTheirSenderKey } from '../../../src/lib/crypto/group/sender-key-state';
import { bundleOf, lookupOf, makeUser } from '../../support/pqxdh-fixtures';
import { change, makeGroup, person } from './fixtures';

const te = new TextEncoder();
const td = new TextDecoder();
const deps = seededDeps('sender-key');
const [ann, ben, cat, dan] = ['ann', 'ben', 'cat', 'dan'].map(person) as [ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>];
const group = makeGroup({ creator: ann, admins: [ben], members: [cat, dan] });

function annSends(): { ours: OurSenderKey; theirs: (g?: GroupState) => TheirSenderKey } {
  const { state, distribution } = createSenderKey({ groupId: group.groupId, ourAddress: ann.address }, deps);
  // The distribution travels pairwise inside the ratchet, as bytes.
  const wire = encodeSenderKeyDistribution(distribution);
  return { ours: state, theirs: (g = group) => acceptSenderKeyDistribution({ group: g, from: ann.address, distribution: decodeSenderKeyDistribution(wire) }) };
}

function send(ours: OurSenderKey, ...texts: string[]): { ours: OurSenderKey; messages: Uint8Array[] } {
  const messages: Uint8Array[] = [];
  for (const t of texts) {
    const r = groupEncrypt(ours, te.encode(t));
    ours = r.state;
    messages.push(r.message);
  }
  return { ours, messages };
}

function refusal(fn: () => unknown, ...states: TheirSenderKey[]): string {
  const before = states.map(encodeTheirSenderKey);
  try {
    fn();
  } catch (e) {
    expect(isCodedError(e), String(e)).toBe(true);
    states.forEach((s, i) => expect(encodeTheirSenderKey(s)).toEqual(before[i]));
    return (e as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('sender keys: one encryption, every member reads it', () => {
  test('ann encrypts once; ben, cat and dan each decrypt the same bytes', () => {
    const { ours, theirs } = annSends();
    const { messages } = send(ours, 'hello group', 'second');
    for (const _member of [ben, cat, dan]) {
      let t = theirs();
      for (const [i, text] of ['hello group', 'second'].entries()) {
        const r = groupDecrypt(t, messages[i]!, deps);
        expect(td.decode(r.plaintext)).toBe(text);
        t = r.state;
      }
      expect(t.iteration).toBe(2);
    }
    expect(peekGroupMessage(messages[1]!)).toEqual({ distributionId: ours.distributionId, iteration: 1 });
    expect(senderKeyRecipients(group, ann.address).map((a) => a.username)).toEqual(['ben', 'cat', 'dan']);
  });

  test('P21 reordering and jumps within MAX_SKIP decrypt; late messages use stored keys and are flagged', () => {
    const { ours, theirs } = annSends();
    const texts = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const { messages } = send(ours, ...texts);
    let t = theirs();
    const order = [11, 3, 0, 7, 1, 10, 2, 5, 4, 9, 8, 6];
    for (const i of order) {
      const r = groupDecrypt(t, messages[i]!, deps);
      expect(td.decode(r.plaintext)).toBe(texts[i]);
      expect(r.late).toBe(i !== 11);
      if (i === 11) expect(r.skipped).toBe(11);
      t = r.state;
    }
    expect(t.skipped.size).toBe(0);
  });

  test(`P21 a jump beyond MAX_SKIP (${MAX_SKIP}) is TooBigMessageGap and leaves the state unchanged; exactly MAX_SKIP is fine`, () => {
    const { ours, theirs } = annSends();
    const far = { ...ours, iteration: MAX_SKIP + 1 };
    // Fast-forward a copy of the chain to iteration MAX_SKIP + 1 by sending into the void.
    let skipping = ours;
    for (let i = 0; i <= MAX_SKIP; i++) skipping = groupEncrypt(skipping, te.encode('.')).state;
    expect(skipping.iteration).toBe(far.iteration);
    const tooFar = groupEncrypt(skipping, te.encode('too far')).message;
    const t = theirs();
    expect(refusal(() => groupDecrypt(t, tooFar, deps), t)).toBe('TooBigMessageGap');
    let justFar = ours;
    for (let i = 0; i < MAX_SKIP; i++) justFar = groupEncrypt(justFar, te.encode('.')).state;
    const r = groupDecrypt(t, groupEncrypt(justFar, te.encode('just')).message, deps);
    expect(td.decode(r.plaintext)).toBe('just');
    expect(r.state.skipped.size).toBe(MAX_SKIP);
  });

  test('P21 a duplicate is DuplicateMessage and leaves the state unchanged; skipped keys expire', () => {
    const { ours, theirs } = annSends();
    const { messages } = send(ours, 'a', 'b', 'c');
    const t0 = theirs();
    const t1 = groupDecrypt(t0, messages[0]!, deps).state;
    expect(refusal(() => groupDecrypt(t1, messages[0]!, deps), t1)).toBe('DuplicateMessage');
    const t3 = groupDecrypt(t1, messages[2]!, deps).state; // skips b
    const late = groupDecrypt(t3, messages[1]!, deps);
    expect(late.late).toBe(true);
    expect(refusal(() => groupDecrypt(late.state, messages[1]!, deps), late.state)).toBe('DuplicateMessage');
    const later = seededDeps('later');
    later.advance(deps.now() - later.now() + SKIPPED_KEY_TTL_MS);
    expect(refusal(() => groupDecrypt(t3, messages[1]!, later), t3)).toBe('DuplicateMessage');
  });

  test('P21 forgetSkipped drops one kept key (a withdrawn jump): that iteration is then a duplicate, the others still arrive', () => {
    const { ours, theirs } = annSends();
    const { messages } = send(ours, 'a', 'b', 'c', 'd');
    const t = groupDecrypt(theirs(), messages[3]!, deps).state; // jumps a, b, c
    expect(t.skipped.size).toBe(3);
    const forgot = forgetSkipped(t, 1, deps.now());
    expect(forgot.skipped.size).toBe(2);
    expect(t.skipped.size).toBe(3); // the input is not changed
    expect(refusal(() => groupDecrypt(forgot, messages[1]!, deps), forgot)).toBe('DuplicateMessage');
    expect(td.decode(groupDecrypt(forgot, messages[0]!, deps).plaintext)).toBe('a');
    expect(td.decode(groupDecrypt(forgot, messages[2]!, deps).plaintext)).toBe('c');
    // An iteration with no kept key: nothing changes.
    expect(forgetSkipped(t, 7, deps.now()).skipped.size).toBe(3);
  });

  test('P21 a failed decrypt (any flipped byte) leaves the receiver\'s state byte-identical', () => {
    const { ours, theirs } = annSends();
    const { messages } = send(ours, 'integrity');
    const t = theirs();
    const m = messages[0]!;
    for (let i = 0; i < m.length; i += 5) {
      const bad = m.slice();
      bad[i]! ^= 0x10;
      refusal(() => groupDecrypt(t, bad, deps), t);
    }
    expect(td.decode(groupDecrypt(t, m, deps).plaintext)).toBe('integrity');
  });

  test('a member cannot forge another member\'s message: the chain key alone does not sign', () => {
    const { ours, theirs } = annSends();
    // cat knows ann's chain key (everyone does) and encrypts "as ann" with her own signing key.
    const catAsAnn: OurSenderKey = { ...ours, signing: createSenderKey({ groupId: group.groupId, ourAddress: cat.address }, deps).state.signing };
    const forged = groupEncrypt(catAsAnn, te.encode('pay cat')).message;
    const t = theirs();
    expect(refusal(() => groupDecrypt(t, forged, deps), t)).toBe('InvalidSignature');
  });

  test('the caller\'s associated data is bound: another AD is InvalidMac', () => {
    const { ours, theirs } = annSends();
    const m = groupEncrypt(ours, te.encode('x'), te.encode('ctx-1')).message;
    const t = theirs();
    expect(refusal(() => groupDecrypt(t, m, deps, te.encode('ctx-2')), t)).toBe('InvalidMac');
    expect(td.decode(groupDecrypt(t, m, deps, te.encode('ctx-1')).plaintext)).toBe('x');
  });

  test('a newcomer reads nothing sent before the distribution it was given', () => {
    const { ours } = annSends();
    const { ours: after, messages } = send(ours, 'before you joined');
    const late = acceptSenderKeyDistribution({ group, from: ann.address, distribution: senderKeyDistribution(after) });
    expect(refusal(() => groupDecrypt(late, messages[0]!, deps), late)).toBe('DuplicateMessage');
    expect(td.decode(groupDecrypt(late, groupEncrypt(after, te.encode('welcome')).message, deps).plaintext)).toBe('welcome');
  });
});

describe('P19 sender keys only from members', () => {
  test('P19 a distribution is refused from a non-member, for another group, or relayed for someone else', () => {
    const { state } = createSenderKey({ groupId: group.groupId, ourAddress: address('mallory') }, deps);
    const d = senderKeyDistribution(state);
    expect(() => acceptSenderKeyDistribution({ group, from: address('mallory'), distribution: d })).toThrow(/NotMember/);
    const other = makeGroup({ creator: ann, deps: seededDeps('other-group') });
    const annKey = createSenderKey({ groupId: other.groupId, ourAddress: ann.address }, deps);
    expect(() => acceptSenderKeyDistribution({ group, from: ann.address, distribution: annKey.distribution })).toThrow(/WrongGroup/);
    const annHere = createSenderKey({ groupId: group.groupId, ourAddress: ann.address }, deps);
    expect(() => acceptSenderKeyDistribution({ group, from: ben.address, distribution: annHere.distribution })).toThrow(/InvalidMessage/);
  });
});

describe('P21 rotation when someone leaves or is removed', () => {
  test('P21 a removed member\'s old sender-key state decrypts nothing sent after rotation', () => {
    const { ours, theirs } = annSends();
    const danOld = theirs();
    const { ours: afterOne, messages: [before] } = send(ours, 'dan can read this');
    expect(td.decode(groupDecrypt(danOld, before!, deps).plaintext)).toBe('dan can read this');

    const removed = applyChange(group, change(group, ann, { type: 'removeMember', address: dan.address }));
    const holders = senderKeyRecipients(group, ann.address);
    expect(mustRotateSenderKey(holders, removed)).toBe(true);
    expect(mustRotateSenderKey(senderKeyRecipients(removed, ann.address), removed)).toBe(false);

    const rotated = rotateSenderKey(afterOne, deps);
    expect(rotated.distribution.distributionId).not.toEqual(afterOne.distributionId);
    const secret = groupEncrypt(rotated.state, te.encode('not for dan')).message;
    // Dan's old state: another distribution, and even forced onto it, another signing key and chain.
    expect(refusal(() => groupDecrypt(danOld, secret, deps), danOld)).toBe('InvalidMessage');
    const forced: TheirSenderKey = { ...danOld, distributionId: rotated.state.distributionId };
    expect(refusal(() => groupDecrypt(forced, secret, deps), forced)).toBe('InvalidSignature');
    const forcedKey: TheirSenderKey = { ...forced, signingKey: rotated.state.signing.publicKey };
    expect(refusal(() => groupDecrypt(forcedKey, secret, deps), forcedKey)).toBe('InvalidMac');
    // Dan gets no new key: he is not a member of the state that decides recipients.
    expect(senderKeyRecipients(removed, ann.address).map((a) => a.username)).toEqual(['ben', 'cat']);
    expect(() => acceptSenderKeyDistribution({ group: removed, from: dan.address, distribution: createSenderKey({ groupId: group.groupId, ourAddress: dan.address }, deps).distribution })).toThrow(/NotMember/);
    // Cat, still a member, reads it with the new distribution.
    const catNew = acceptSenderKeyDistribution({ group: removed, from: ann.address, distribution: decodeSenderKeyDistribution(encodeSenderKeyDistribution(rotated.distribution)) });
    expect(td.decode(groupDecrypt(catNew, secret, deps).plaintext)).toBe('not for dan');
  });
});

describe('P20 group and 1:1 ciphertexts cannot be confused', () => {
  const sdeps = seededDeps('p20-session');
  const alice = makeUser('alice', sdeps);
  const bob = makeUser('bob', sdeps);
  function session(): { a: SessionState; b: SessionState; oneToOne: Uint8Array } {
    const a0 = initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(bob) }, sdeps);
    const first = sessionEncrypt(a0, te.encode('hi bob'), sdeps);
    const acc = acceptSession({ ourIdentity: bob.identity, ourUsername: 'bob', message: first.message, prekeys: lookupOf(bob) }, sdeps);
    const reply = sessionEncrypt(acc.state, te.encode('hi alice'), sdeps);
    const a = sessionDecrypt(first.state, reply.message, sdeps).state;
    const oneToOne = sessionEncrypt(a, te.encode('one to one'), sdeps).message;
    return { a, b: reply.state, oneToOne };
  }

  test('P20 the group type byte is neither 1:1 envelope type', () => {
    expect(GROUP_MESSAGE_TYPE).not.toBe(MessageType.preKey);
    expect(GROUP_MESSAGE_TYPE).not.toBe(MessageType.ratchet);
  });

  test('P20 a 1:1 message (ratchet and prekey) is refused by groupDecrypt, even relabelled as a group message', () => {
    const { oneToOne } = session();
    const { theirs } = annSends();
    const t = theirs();
    expect(refusal(() => groupDecrypt(t, oneToOne, deps), t)).toBe('DecodeFailed');
    const relabelled = oneToOne.slice();
    relabelled[0] = GROUP_MESSAGE_TYPE;
    expect(isProtocolError(catchError(() => groupDecrypt(t, relabelled, deps)))).toBe(true);
    const a0 = initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(bob) }, sdeps);
    const prekey = sessionEncrypt(a0, te.encode('x'), sdeps).message;
    expect(refusal(() => groupDecrypt(t, prekey, deps), t)).toBe('DecodeFailed');
  });

  test('P20 a group message is refused by a 1:1 session, even relabelled as a ratchet message', () => {
    const { b, oneToOne } = session();
    const { ours } = annSends();
    const groupMessage = groupEncrypt(ours, te.encode('to the group')).message;
    expect((catchError(() => sessionDecrypt(b, groupMessage, sdeps)) as { code: string }).code).toBe('DecodeFailed');
    const relabelled = concatBytes(Uint8Array.of(MessageType.ratchet), groupMessage.subarray(1));
    expect(isProtocolError(catchError(() => sessionDecrypt(b, relabelled, sdeps)))).toBe(true);
    // The session still works: nothing was consumed.
    expect(td.decode(sessionDecrypt(b, oneToOne, sdeps).plaintext)).toBe('one to one');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('sender-key codecs', () => {
  test('distribution and both states round-trip byte for byte, skipped keys included', () => {
    const { ours, theirs } = annSends();
    const { messages } = send(ours, 'a', 'b', 'c', 'd');
    const t = groupDecrypt(theirs(), messages[3]!, deps).state;
    expect(t.skipped.size).toBe(3);
    const tBytes = encodeTheirSenderKey(t);
    expect(encodeTheirSenderKey(decodeTheirSenderKey(tBytes))).toEqual(tBytes);
    const back = decodeTheirSenderKey(tBytes);
    expect(td.decode(groupDecrypt(back, messages[1]!, deps).plaintext)).toBe('b');
    const oBytes = encodeOurSenderKey(ours);
    expect(decodeOurSenderKey(oBytes)).toEqual(ours);
    const dBytes = encodeSenderKeyDistribution(senderKeyDistribution(ours));
    expect(encodeSenderKeyDistribution(decodeSenderKeyDistribution(dBytes))).toEqual(dBytes);
  });

  test('strict: trailing bytes, wrong kind, skipped keys out of order', () => {
    const { ours, theirs } = annSends();
    const oBytes = encodeOurSenderKey(ours);
    expect(() => decodeOurSenderKey(concatBytes(oBytes, Uint8Array.of(0)))).toThrow(/trailing/);
    expect(() => decodeTheirSenderKey(oBytes)).toThrow(/kind 1/);
    const { messages } = send(ours, 'a', 'b', 'c');
    const t = groupDecrypt(theirs(), messages[2]!, deps).state;
    const bytes = encodeTheirSenderKey(t);
    // Two skipped entries of 44 bytes at the end: swap them.
    const e1 = bytes.slice(bytes.length - 88, bytes.length - 44);
    const e2 = bytes.slice(bytes.length - 44);
    expect(() => decodeTheirSenderKey(concatBytes(bytes.subarray(0, bytes.length - 88), e2, e1))).toThrow(/out of order/);
    const d = encodeSenderKeyDistribution(senderKeyDistribution(ours));
    expect(() => decodeSenderKeyDistribution(d.subarray(0, d.length - 1))).toThrow(/truncated/);
  });
});
