/**
 * No plaintext to a new key without the user's say (SECURITY.md P36), and verification that binds
 * what was compared (P3), against a malicious in-memory host: it substitutes bundles, forges
 * envelopes from an impostor with its own identity (impostor.ts), tampers and re-dates.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeContent, type MessageRef } from '../../src/lib/wire/content';
import { asUsername } from '../../src/lib/codec/username';
import { MemoryHost } from '../../workers/engine/memory-host';
import { listMessages } from '../../workers/storage/message-repo';
import { loadSessions } from '../../workers/storage/session-repo';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { toHex } from '../../src/lib/codec/bytes';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { refFromKey } from '../../workers/engine/refs';
import { receiveEnvelope } from '../../workers/engine/inbox';
import { RETRY_BATCH_MS, RETRY_MAX_AGE_MS } from '../../workers/engine/retry';
import { Impostor } from './impostor';
import { closeAll, newUser, settle, statusOf, texts, type User } from './support';
import { eventually } from './real-host-support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const BOB = asUsername('bob');
const ALICE = asUsername('alice');

/** Alice and Bob (and anyone else named) on one host; alice has written to bob and bob answered. */
async function talking(host: MemoryHost, opts: { aliceNow?: () => number } = {}, ...others: string[]): Promise<{ alice: User; bob: User }> {
  const alice = await newUser(host, 'alice', opts.aliceNow ? { deps: { ...systemDeps, now: opts.aliceNow } } : {});
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  for (const name of others) open.push(await newUser(host, name));
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hello bob');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hello alice');
  await settle(alice, bob);
  return { alice, bob };
}

async function verify(u: User, other: string): Promise<void> {
  await u.engine.markVerified(other, { safetyNumber: (await u.engine.contactInfo(other)).safetyNumber });
}

const sentBy = (host: MemoryHost, from: string) => host.sent.filter((s) => s.from === from).length;

/** How many times alice has encrypted her message `id` (1 = never sent again). */
async function encryptions(alice: User, id: string): Promise<number> {
  const m = (await listMessages(alice.engine.ctx.vault, BOB)).find((x) => x.key === id);
  return m?.sentVia?.length ?? 0;
}

async function refOf(alice: User, id: string): Promise<MessageRef> {
  const m = (await listMessages(alice.engine.ctx.vault, BOB)).find((x) => x.key === id)!;
  return refFromKey(m.sentVia![0]!);
}

/** Bob's vault asks alice to send `missing` again, as its retry logic would. */
async function bobAsks(bob: User, missing: MessageRef[]): Promise<void> {
  await commit(bob.engine.ctx.vault, (tx) => addOutbox(tx, { username: ALICE, content: encodeContent({ kind: 'retry', missing }) }));
  bob.engine.ctx.kickOutbox();
}

describe('P36 no plaintext to a new key without consent', () => {
  test('P36 texts queued before a key change stay unsent when the user accepts; only "send again" sends one, to the new key', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host, {}, 'mallory');
    await verify(alice, 'bob');
    // Written offline, for bob's verified key.
    alice.engine.disconnect();
    const q1 = await alice.engine.sendText('bob', 'queued one');
    const q2 = await alice.engine.sendText('bob', 'queued two');
    const mallory = host.accounts.get('mallory')!;
    host.bundleHook = (name, b) => (name === 'bob' ? { ...b, identity: mallory.identity, signedPreKey: mallory.signedPreKey, kemPreKey: mallory.lastResort! } : b);
    await alice.engine.resetSession('bob');
    const before = sentBy(host, 'alice');
    alice.engine.connect();
    await settle(alice, bob);
    expect(statusOf(await alice.engine.listMessages('bob'), q1.id)).toBe('held');
    expect(sentBy(host, 'alice')).toBe(before);

    await alice.engine.acceptIdentityChange('bob');
    await settle(alice, bob);
    const list = await alice.engine.listMessages('bob');
    expect([statusOf(list, q1.id), statusOf(list, q2.id)]).toEqual(['key-changed', 'key-changed']);
    // Accepting released nothing written before it.
    expect(sentBy(host, 'alice')).toBe(before);

    // What is written after the accept goes to the key accepted.
    await alice.engine.sendText('bob', 'written after accepting');
    await settle(alice, bob);
    expect(sentBy(host, 'alice')).toBe(before + 1);
    // "Send again" is the user's deliberate choice: that one message goes, re-dated to now.
    const again = await alice.engine.sendAgain('bob', q1.id);
    await settle(alice, bob);
    expect(sentBy(host, 'alice')).toBe(before + 2);
    const after = await alice.engine.listMessages('bob');
    expect(statusOf(after, q1.id)).toBe('sent');
    expect(statusOf(after, q2.id)).toBe('key-changed');
    expect(after.at(-1)).toMatchObject({ id: q1.id, text: 'queued one' });
    expect(again.at).toBeGreaterThan(q2.at);
    await expect(alice.engine.sendAgain('bob', q1.id)).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  test('P36 for an unverified contact a text written before the change is seen is never encrypted to the new key', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    const impostor = new Impostor(host, 'bob', 'alice');
    alice.engine.disconnect();
    const q = await alice.engine.sendText('bob', 'for the bob I know');
    // The key change is seen first (received while the outbox waits), then the outbox runs.
    const env = impostor.send({ kind: 'text', id: '11'.repeat(16), sentAt: Date.now(), text: 'new phone' });
    await alice.engine.ctx.serial(() => receiveEnvelope(alice.engine.ctx, env));
    alice.engine.connect();
    await settle(alice, bob);
    expect(statusOf(await alice.engine.listMessages('bob'), q.id)).toBe('key-changed');
    await alice.engine.sendText('bob', 'after the change');
    await settle(alice, bob);
    const read = impostor.readAll().flatMap((c) => (c.kind === 'text' || c.kind === 'resent' ? [c.text] : []));
    expect(read).toEqual(['after the change']);
  });

  test('P36 a retry is honoured only from the identity the messages went to, only for what it names, within our clock window', async () => {
    const host = new MemoryHost();
    let now = Date.now();
    const { alice, bob } = await talking(host, { aliceNow: () => now });
    const ids: string[] = [];
    for (const t of ['s1', 's2', 's3']) ids.push((await alice.engine.sendText('bob', t)).id);
    await settle(alice, bob);
    const [s1, s2, s3] = ids as [string, string, string];

    // Named: exactly that one is sent again, in a `resent` bob shows once.
    await bobAsks(bob, [await refOf(alice, s2)]);
    await settle(alice, bob);
    expect([await encryptions(alice, s1), await encryptions(alice, s2), await encryptions(alice, s3)]).toEqual([1, 2, 1]);
    expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 's1', 's2', 's3']);

    // A ref alice never used: nothing.
    await bobAsks(bob, [{ ratchetKey: new Uint8Array(32).fill(7), n: 0 }]);
    await settle(alice, bob);
    expect(await encryptions(alice, s1)).toBe(1);

    // Older than the window by OUR clock: nothing, whatever the request says.
    now += RETRY_MAX_AGE_MS + 1;
    await bobAsks(bob, [await refOf(alice, s1)]);
    await settle(alice, bob);
    expect(await encryptions(alice, s1)).toBe(1);
    now -= RETRY_MAX_AGE_MS + 1;

    // An impostor with a new key asks for s3: nothing is released to it.
    const impostor = new Impostor(host, 'bob', 'alice');
    impostor.send({ kind: 'retry', missing: [await refOf(alice, s3)] });
    await settle(alice, bob);
    expect(await encryptions(alice, s3)).toBe(1);
    expect(impostor.readAll().filter((c) => c.kind === 'text' || c.kind === 'resent')).toEqual([]);
    // And never after an identity change: the real bob's own request is refused now too.
    await bobAsks(bob, [await refOf(alice, s3)]);
    await settle(alice, bob);
    expect(await encryptions(alice, s3)).toBe(1);
    // Accepting the new key covers what is written from now on: s3 went to the old key, so the
    // now-trusted key still gets nothing for it.
    await alice.engine.acceptIdentityChange('bob');
    impostor.send({ kind: 'retry', missing: [await refOf(alice, s3)] });
    await settle(alice, bob);
    expect(await encryptions(alice, s3)).toBe(1);
    expect(impostor.readAll().filter((c) => c.kind === 'text' || c.kind === 'resent')).toEqual([]);
  });

  test('P36 tampered envelopes make one retry request per window, whatever time the host claims', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    host.autoPush = false;
    for (let i = 0; i < 5; i++) await alice.engine.sendText('bob', `t${i}`);
    await settle(alice, bob);
    const genuine = host.pending(BOB);
    const bobSent = sentBy(host, 'bob');
    const tamper = (round: string) => {
      for (const env of genuine) {
        const body = env.body.slice();
        body[body.length - 1]! ^= 0x01;
        host.deliverTo(BOB, { ...env, serverId: `${round}${env.serverId}`, body, receivedAt: 0 });
      }
    };
    tamper('x');
    await settle(bob);
    await eventually(() => expect(sentBy(host, 'bob')).toBe(bobSent + 1));
    tamper('y');
    await settle(bob);
    await new Promise((r) => setTimeout(r, RETRY_BATCH_MS * 3));
    await settle(bob);
    expect(sentBy(host, 'bob')).toBe(bobSent + 1);
    // P14: each damaged message is marked where it arrived, once.
    const notices = (await bob.engine.listMessages('alice')).filter((m) => m.kind === 'notice' && m.notice === 'undecryptable');
    expect(notices).toHaveLength(5);
    // The request named the five messages: alice sends those five again, nothing more.
    host.push(ALICE);
    await settle(alice, bob);
    host.push(BOB);
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 't0', 't1', 't2', 't3', 't4']);
    expect((await bob.engine.listMessages('alice')).filter((m) => m.kind === 'notice' && m.notice === 'undecryptable')).toEqual([]);
    expect((await bob.engine.listChats())[0]?.missing).toBe(0);
  });

  test('P36 P3 a message under a changed key never sorts above the history; it is flagged and follows the notice', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    await bob.engine.sendText('alice', 'a real one');
    await settle(alice, bob);
    const impostor = new Impostor(host, 'bob', 'alice');
    impostor.send({ kind: 'text', id: '22'.repeat(16), sentAt: 1_000, text: 'from the distant past' });
    impostor.send({ kind: 'text', id: '33'.repeat(16), sentAt: 500, text: 'even earlier' });
    await settle(alice, bob);
    const list = await alice.engine.listMessages('bob');
    const shown = list.map((m) => (m.kind === 'text' ? m.text : m.notice));
    expect(shown).toEqual(['hello bob', 'hello alice', 'a real one', 'identity-changed', 'from the distant past', 'even earlier']);
    const past = list.at(-2)!;
    // The sender's time is what is shown; only the place is kept honest.
    expect(past).toMatchObject({ kind: 'text', at: 1_000, keyChanged: true });
    expect(list.find((m) => m.kind === 'text' && m.text === 'a real one')).not.toHaveProperty('keyChanged');
  });
});

describe('P3 verification binds what was compared, and a new key can be rejected', () => {
  test('P3 markVerified refuses a safety number that is not the one for the key it would mark', async () => {
    const host = new MemoryHost();
    const { alice } = await talking(host);
    const shown = (await alice.engine.contactInfo('bob')).safetyNumber;
    // The key changes between display and click.
    new Impostor(host, 'bob', 'alice').send({ kind: 'text', id: '44'.repeat(16), sentAt: Date.now(), text: 'hi' });
    await settle(alice);
    await expect(alice.engine.markVerified('bob', { safetyNumber: shown })).rejects.toMatchObject({ code: 'SafetyNumberMismatch' });
    await expect(alice.engine.markVerified('bob', { scannedQr: 'AQID' })).rejects.toMatchObject({ code: 'SafetyNumberMismatch' });
    await expect(alice.engine.markVerified('bob', {} as never)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect((await alice.engine.contactInfo('bob')).verified).toBe(false);
    // The number now shown, grouped as the screen shows it, verifies.
    const current = (await alice.engine.contactInfo('bob')).safetyNumber;
    expect(current).not.toBe(shown);
    const grouped = current.match(/\d{5}/g)!.join(' ');
    expect(await alice.engine.markVerified('bob', { safetyNumber: grouped })).toMatchObject({ verified: true, identityChanged: false });
  });

  test('P36 rejecting a verified contact\'s new key keeps the old one; nothing reaches the new key and its messages are refused', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    await verify(alice, 'bob');
    const verifiedNumber = (await alice.engine.contactInfo('bob')).safetyNumber;
    const impostor = new Impostor(host, 'bob', 'alice');
    impostor.send({ kind: 'text', id: '55'.repeat(16), sentAt: Date.now(), text: 'i am bob now' });
    await settle(alice, bob);
    expect(await alice.engine.contactInfo('bob')).toMatchObject({ sendBlocked: true, canReject: true });

    const identities = async () => (await loadSessions(alice.engine.ctx.vault, BOB)).map((x) => toHex(encodeIdentityPublic(x.theirIdentity)));
    expect(await identities()).toContain(toHex(impostor.encodedIdentity));
    const info = await alice.engine.rejectIdentityChange('bob');
    // Every session with the rejected key is gone.
    expect(await identities()).not.toContain(toHex(impostor.encodedIdentity));
    expect(info).toMatchObject({ verified: true, sendBlocked: false, identityChanged: false, keyRejected: true, canReject: false });
    expect(info.safetyNumber).toBe(verifiedNumber);
    const notices = (await alice.engine.listMessages('bob')).flatMap((m) => (m.kind === 'notice' ? [m.notice] : []));
    expect(notices).toContain('identity-rejected');

    await alice.engine.sendText('bob', 'is it really you?');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toContain('is it really you?');
    // The rejected key starts over: refused, not shown, and it can read nothing alice sent.
    impostor.newSession();
    impostor.send({ kind: 'text', id: '66'.repeat(16), sentAt: Date.now(), text: 'listen to me' });
    await settle(alice, bob);
    expect(await texts(alice, 'bob')).not.toContain('listen to me');
    expect((await alice.engine.ctx.vault.db.getAll('failures')).map((f) => f.code)).toContain('RejectedIdentity');
    expect(impostor.readAll()).toEqual([]);
    expect((await alice.engine.contactInfo('bob')).sendBlocked).toBe(false);
  });

  test('P36 rejecting an unverified contact\'s new key restores the old one', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    const before = (await alice.engine.contactInfo('bob')).safetyNumber;
    const impostor = new Impostor(host, 'bob', 'alice');
    impostor.send({ kind: 'text', id: '77'.repeat(16), sentAt: Date.now(), text: 'new key, same bob' });
    await settle(alice, bob);
    expect((await alice.engine.contactInfo('bob')).safetyNumber).not.toBe(before);
    expect(await alice.engine.rejectIdentityChange('bob')).toMatchObject({ safetyNumber: before, keyRejected: true, identityChanged: false });
    await alice.engine.sendText('bob', 'back to the real you');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toContain('back to the real you');
    // Before the reject only a delivery receipt for its own message went to the new key.
    expect(impostor.readAll().map((c) => c.kind)).toEqual(['receipt']);
    await expect(alice.engine.rejectIdentityChange('bob')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
