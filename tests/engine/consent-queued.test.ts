/**
 * SECURITY.md P36 beyond texts: whatever was queued for a contact before their key changed — a
 * group welcome carrying the group's secrets, a sender key, a profile key, a receipt — is never
 * encrypted to the new key, neither silently (an unverified contact's change is taken at once)
 * nor once the user accepts a verified contact's change (workers/storage/outbox-repo.ts
 * `addOutbox` binds each item to the identity trusted when it is queued). What Accept may bring is
 * a NEW send: the group's current welcome, owed since the old one was dropped
 * (tests/engine/group-welcome-resend.test.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { receiveEnvelope } from '../../workers/engine/inbox';
import { decodeGroupUpdate } from '../../src/lib/wire/group-content';
import { Impostor } from './impostor';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Alice and bob talking, carol known to no one yet; alice then goes offline. */
async function offlineAlice(host: MemoryHost): Promise<{ alice: User; bob: User; carol: User }> {
  const [alice, bob, carol] = [await newUser(host, 'alice'), await newUser(host, 'bob'), await newUser(host, 'carol')];
  open.push(alice, bob, carol);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'hello bob');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'hello alice');
  await settle(alice, bob);
  return { alice, bob, carol };
}

/** The host's impostor for bob speaks first; alice's vault takes it in before her outbox runs. */
async function keyChangeSeen(host: MemoryHost, alice: User): Promise<Impostor> {
  const impostor = new Impostor(host, 'bob', 'alice');
  const env = impostor.send({ kind: 'text', id: '11'.repeat(16), sentAt: Date.now(), text: 'new phone' });
  await alice.engine.ctx.serial(() => receiveEnvelope(alice.engine.ctx, env));
  return impostor;
}

const leaked = (impostor: Impostor) => impostor.readAll().filter((c) => c.kind === 'group' || c.kind === 'profileKey' || c.kind === 'text' || c.kind === 'resent');

test('P36 a group welcome queued for an unverified contact before their key changed never reaches the new key; the other member gets theirs', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol } = await offlineAlice(host);
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  const impostor = await keyChangeSeen(host, alice);
  alice.engine.connect();
  await settle(alice, bob, carol);
  expect(leaked(impostor)).toEqual([]);
  expect((await carol.engine.listGroups()).map((g) => g.id)).toEqual([id]);
  // What alice writes after the change goes to the key she now trusts (an unverified contact).
  await alice.engine.sendText('bob', 'after the change');
  await settle(alice, bob, carol);
  expect(leaked(impostor).map((c) => (c.kind === 'text' ? c.text : c.kind))).toEqual(['after the change']);
});

test('P36 accepting a verified contact\'s new key releases none of the group updates queued before the change; a fresh welcome is the one new send', async () => {
  const host = new MemoryHost();
  const { alice, bob, carol } = await offlineAlice(host);
  await alice.engine.markVerified('bob', { safetyNumber: (await alice.engine.contactInfo('bob')).safetyNumber });
  alice.engine.disconnect();
  const id = await alice.engine.createGroup('Climbing', '', ['bob', 'carol']);
  // Her first group message queues her sender key for each member, bob's for his old key.
  await alice.engine.sendGroupText(id, 'before the change');
  const impostor = await keyChangeSeen(host, alice);
  alice.engine.connect();
  await settle(alice, bob, carol);
  expect(leaked(impostor)).toEqual([]);
  expect((await carol.engine.listGroups()).map((g) => g.id)).toEqual([id]);
  await alice.engine.acceptIdentityChange('bob');
  await settle(alice, bob, carol);
  // The queued sender key and welcome stay dropped; the dropped welcome is owed, so Accept sends
  // the group's current one, built now for the key now trusted (group-welcome-owed.ts).
  const welcome = leaked(impostor).map((c) => (c.kind === 'group' ? decodeGroupUpdate(c.update) : c.kind));
  expect(welcome).toHaveLength(1);
  expect(welcome[0]).toMatchObject({ masterKey: expect.any(Uint8Array), history: expect.any(Uint8Array) });
  expect((welcome[0] as ReturnType<typeof decodeGroupUpdate>).distribution).toBeUndefined();
  // The dropped sender key is not counted as held: alice's next group message, written after
  // Accept, hands the key she now trusts a fresh copy (her key only, no group secret).
  await alice.engine.sendGroupText(id, 'after accepting');
  await settle(alice, bob, carol);
  const updates = leaked(impostor).flatMap((c) => (c.kind === 'group' ? [decodeGroupUpdate(c.update)] : []));
  expect(updates).toHaveLength(1);
  expect(updates[0]!.distribution).toBeDefined();
  expect(updates[0]!.masterKey).toBeUndefined();
});
