/**
 * SECURITY.md P36 and P3 in groups: a sender key handed over under a member's changed safety
 * number (one the user has not accepted yet: an unverified contact's new key, or a verified
 * contact's pending one) is what a host that makes up a new identity for a member would use. As
 * in a 1:1 chat, its messages are flagged and never sort above the history shown, whatever date
 * they claim, and its edits, deletes and reactions are dropped. Once the user accepts the new
 * safety number, the same key's messages are ordinary again.
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, test } from 'vitest';
import { fromHex } from '../../src/lib/codec/bytes';
import { systemDeps } from '../../src/lib/crypto/deps';
import { address } from '../../src/lib/crypto/group/address';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { createSenderKey, groupEncrypt, type OurSenderKey } from '../../src/lib/crypto/group/sender-key';
import { encodeSenderKeyDistribution } from '../../src/lib/crypto/group/sender-key-message';
import { encodeContent, type Content } from '../../src/lib/wire/content';
import { encodeGroupText, encodeGroupUpdate } from '../../src/lib/wire/group-content';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import type { Username } from '../../src/lib/codec/username';
import { MemoryHost } from '../../workers/engine/memory-host';
import { getGroup } from '../../workers/storage/group-repo';
import { getContact } from '../../workers/storage/contact-repo';
import { Impostor } from './impostor';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const textsOf = async (u: User, id: string): Promise<Text[]> => (await u.engine.listGroupMessages(id)).filter((m): m is Text => m.kind === 'text');

/** Alice, bob and carol in a group with one message each from alice and bob. */
async function group(host: MemoryHost): Promise<{ alice: User; bob: User; carol: User; id: string }> {
  const [alice, bob, carol] = [await newUser(host, 'alice'), await newUser(host, 'bob'), await newUser(host, 'carol')];
  open.push(alice, bob, carol);
  const id = await alice.engine.createGroup('Trail crew', '', ['bob', 'carol']);
  await settle(alice, bob, carol);
  await alice.engine.sendGroupText(id, 'one');
  await settle(alice, bob, carol);
  await bob.engine.sendGroupText(id, 'two');
  await settle(alice, bob, carol);
  return { alice, bob, carol, id };
}

/** The host's made-up "bob" gives alice a sender key of its own, pairwise under a new identity. */
async function impostorKey(host: MemoryHost, alice: User, id: string): Promise<{ send: (c: Content) => Promise<void> }> {
  const impostor = new Impostor(host, 'bob', 'alice');
  const sk = createSenderKey({ groupId: fromHex(id), ourAddress: address('bob') }, systemDeps);
  impostor.send({ kind: 'group', update: encodeGroupUpdate({ groupId: fromHex(id), distribution: encodeSenderKeyDistribution(sk.distribution) }) });
  await settle(alice);
  let state: OurSenderKey = sk.state;
  return {
    async send(c: Content) {
      const head = (await getGroup(alice.engine.ctx.vault, id))!.history.head;
      const out = groupEncrypt(state, encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content: encodeContent(c) }));
      state = out.state;
      host.store('bob' as Username, 'alice' as Username, out.message);
      await settle(alice);
    }
  };
}

for (const verified of [false, true]) {
  const who = verified ? 'a verified member (change pending)' : 'an unverified member';
  test(`P36 P3 a group message under ${who}'s changed key is flagged, sorts below the history whatever date it claims, and its edits are dropped`, async () => {
    const host = new MemoryHost();
    const { alice, id } = await group(host);
    if (verified) await alice.engine.markVerified('bob', { safetyNumber: (await alice.engine.contactInfo('bob')).safetyNumber });
    const two = (await textsOf(alice, id)).find((m) => m.text === 'two')!;
    const fake = await impostorKey(host, alice, id);

    await fake.send({ kind: 'text', id: '44'.repeat(16), sentAt: 1000, text: 'from the past' });
    const list = await alice.engine.listGroupMessages(id);
    // Dated 1970, it still comes after everything shown, flagged; bob's real message is not.
    expect(list.at(-1)).toMatchObject({ kind: 'text', text: 'from the past', keyChanged: true });
    expect(list.findIndex((m) => m.kind === 'notice' && m.notice === 'created')).toBe(0);
    expect((await textsOf(alice, id)).find((m) => m.text === 'two')!.keyChanged).toBeUndefined();

    // An edit or a delete of bob's real message under that key changes nothing.
    const target = two.id.split(':').at(-1)!;
    await fake.send({ kind: 'edit', sentAt: Date.now(), target, text: 'forged' });
    await fake.send({ kind: 'delete', target });
    const after = (await textsOf(alice, id)).find((m) => m.id === two.id)!;
    expect(after).toMatchObject({ text: 'two' });
    expect(after.edited).toBeUndefined();
    expect(after.deleted).toBeUndefined();

    // Accepting the new safety number: the same key's next message is an ordinary one.
    await alice.engine.acceptIdentityChange('bob');
    await fake.send({ kind: 'text', id: '47'.repeat(16), sentAt: Date.now(), text: 'accepted now' });
    expect((await textsOf(alice, id)).find((m) => m.text === 'accepted now')!.keyChanged).toBeUndefined();
  });
}

test('P36 a member whose key did not change sends as before: a late message keeps its own place, unflagged', async () => {
  const host = new MemoryHost();
  const { alice, bob, id } = await group(host);
  await bob.engine.sendGroupText(id, 'three');
  await settle(alice, bob);
  const texts = await textsOf(alice, id);
  expect(texts.map((m) => m.text)).toEqual(['one', 'two', 'three']);
  expect(texts.every((m) => m.keyChanged === undefined)).toBe(true);
  expect(Object.keys((await getGroup(alice.engine.ctx.vault, id))!.keyFrom ?? {}).length).toBeGreaterThan(0);
});

test('P36 P43 a sender key under a member\'s changed, unaccepted key gets no profile key in answer; a real member\'s does', async () => {
  const host = new MemoryHost();
  const [alice, bob, carol, dan] = [await newUser(host, 'alice'), await newUser(host, 'bob'), await newUser(host, 'carol'), await newUser(host, 'dan')];
  open.push(alice, bob, carol, dan);
  // Bob wrote to alice (her group is no request for him); carol wrote to bob once, unanswered, so
  // bob holds carol's real identity and has never given her his profile key.
  await bob.engine.lookupUser('alice');
  await bob.engine.sendText('alice', 'hi alice');
  await carol.engine.lookupUser('bob');
  await carol.engine.sendText('bob', 'hi bob');
  await settle(alice, bob, carol);
  const id = await alice.engine.createGroup('Porch', '', ['bob', 'carol', 'dan']);
  await settle(alice, bob, carol, dan);
  expect((await bob.engine.listGroups()).map((g) => [g.id, g.requestFrom])).toEqual([[id, undefined]]);

  // The host's made-up "carol" hands bob a sender key under a new identity: bob answers nothing.
  const impostor = new Impostor(host, 'carol', 'bob');
  const sk = createSenderKey({ groupId: fromHex(id), ourAddress: address('carol') }, systemDeps);
  impostor.send({ kind: 'group', update: encodeGroupUpdate({ groupId: fromHex(id), distribution: encodeSenderKeyDistribution(sk.distribution) }) });
  await settle(bob);
  await settle(alice, bob, carol, dan);
  expect((await bob.engine.contactInfo('carol')).identityChanged).toBe(true);
  expect(impostor.readAll().filter((c) => c.kind === 'profileKey' || (c.kind === 'text' && c.profileKey))).toEqual([]);
  expect((await getContact(bob.engine.ctx.vault, 'carol' as Username))?.sharedKey).toBeUndefined();

  // Dan, a member whose key did not change, writes: bob's profile key answers his sender key.
  await dan.engine.sendGroupText(id, 'hello porch');
  await settle(alice, bob, carol, dan);
  expect((await getContact(bob.engine.ctx.vault, 'dan' as Username))?.sharedKey).toBeDefined();
  expect((await getContact(dan.engine.ctx.vault, 'bob' as Username))?.profileKey).toBeDefined();
});
