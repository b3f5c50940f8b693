/**
 * SECURITY.md P41, P36: the recipients of a sealed group upload (workers/engine/sealed-recipients.ts)
 * come from the contact rows as they are at send time. Identities and delivery tokens are
 * memoised by their exact bytes, so a member whose identity key or profile key changed is sealed
 * to with the new one (checked afresh: a badly signed new key is refused, not served from the
 * memo), and a changed identity not yet accepted stops the sealed path. Real engine, real host.
 */
import 'fake-indexeddb/auto';
import { beforeEach, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { asUsername } from '../../src/lib/codec/username';
import { isProtocolError } from '../../src/lib/codec/errors';
import { systemDeps } from '../../src/lib/crypto/deps';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateProfileKey } from '../../src/lib/crypto/profile';
import type { Engine } from '../../workers/engine/engine';
import { READ_ALL_FROM, sealedRecipients } from '../../workers/engine/sealed-recipients';
import { getContact, newContact, putContact } from '../../workers/storage/contact-repo';
import type { ContactRecord } from '../../workers/storage/schema';
import { commit } from '../../workers/storage/vault';
import { enginesOnRealHost } from './real-host-support';

const { user } = enginesOnRealHost('srecip-');
let engine: Engine | undefined;
beforeEach(async () => {
  engine = await user('ann');
});

const bob = asUsername('bob');
const carol = asUsername('carol');

async function put(c: ContactRecord): Promise<void> {
  await commit(engine!.ctx.vault, (tx) => putContact(tx, c));
}

async function member(username: typeof bob, extra: Partial<ContactRecord> = {}): Promise<{ identity: Uint8Array; profileKey: Uint8Array }> {
  const identity = encodeIdentityPublic(identityPublic(generateIdentity(systemDeps)));
  const profileKey = generateProfileKey(systemDeps);
  await put({ ...newContact(username, identity), profileKey: toBase64Url(profileKey), ...extra });
  return { identity, profileKey };
}

test('P41 P36 a member whose identity or profile key changed is sealed to with the new one, never a memoised one', async () => {
  const ctx = engine!.ctx;
  const b = await member(bob);
  const c = await member(carol);
  const first = (await sealedRecipients(ctx, [bob, carol]))!;
  expect(first.recipients.map((r) => encodeIdentityPublic(r.identity))).toEqual([b.identity, c.identity]);
  expect(first.tokens).toEqual([deliveryToken(b.profileKey, bob), deliveryToken(c.profileKey, carol)]);

  // Bob's new key, accepted (identityChanged false), and a rotated profile key.
  const b2 = await member(bob);
  const second = (await sealedRecipients(ctx, [bob, carol]))!;
  expect(encodeIdentityPublic(second.recipients[0]!.identity)).toEqual(b2.identity);
  expect(second.tokens[0]).toEqual(deliveryToken(b2.profileKey, bob));
  expect(encodeIdentityPublic(second.recipients[1]!.identity)).toEqual(c.identity);

  // A new encoding whose IKd signature does not verify is checked, not looked up: refused.
  const forged = b2.identity.slice();
  forged[forged.length - 1]! ^= 1;
  await put({ ...(await getContact(ctx.vault, bob))!, identity: forged });
  await expect(sealedRecipients(ctx, [bob])).rejects.toSatisfy((e) => isProtocolError(e, 'InvalidSignature'));

  // A changed identity not yet accepted, a missing profile key, an unknown member: not sealed.
  await put({ ...(await getContact(ctx.vault, bob))!, identity: b2.identity, identityChanged: true });
  expect(await sealedRecipients(ctx, [bob, carol])).toBeUndefined();
  await put({ ...(await getContact(ctx.vault, bob))!, identityChanged: false, profileKey: undefined });
  expect(await sealedRecipients(ctx, [bob, carol])).toBeUndefined();
  expect(await sealedRecipients(ctx, [carol, asUsername('dave')])).toBeUndefined();
});

test('P41 a large group (every contact row read at once) gives exactly what a read per member gives, in the members\' order; one member without a row stops the sealed path', async () => {
  const ctx = engine!.ctx;
  const names = Array.from({ length: READ_ALL_FROM + 6 }, (_, i) => asUsername(`m${String(i).padStart(3, '0')}`));
  const made = new Map<string, { identity: Uint8Array; profileKey: Uint8Array }>();
  for (const u of names) made.set(u, await member(u));
  // Asked in an order of their own (not the store's key order), as a group's member list is.
  const to = [...names].reverse();
  const all = (await sealedRecipients(ctx, to))!;
  expect(all.recipients.map((r) => r.username)).toEqual(to);
  expect(all.recipients.map((r) => Buffer.from(encodeIdentityPublic(r.identity)).toString('hex'))).toEqual(to.map((u) => Buffer.from(made.get(u)!.identity).toString('hex')));
  expect(all.tokens.map((t) => Buffer.from(t).toString('hex'))).toEqual(to.map((u) => Buffer.from(deliveryToken(made.get(u)!.profileKey, u)).toString('hex')));
  // Below the threshold (a read per member): the same for the same members.
  const few = to.slice(0, READ_ALL_FROM - 1);
  const some = (await sealedRecipients(ctx, few))!;
  expect(some.recipients.map((r) => r.username)).toEqual(few);
  expect(some.tokens).toEqual(all.tokens.slice(0, few.length));
  // A member with no contact row among many: undefined, whichever way it was read.
  expect(await sealedRecipients(ctx, [...to, asUsername('nobody')])).toBeUndefined();
  // Many more contacts than members: read per member, same answer.
  expect((await sealedRecipients(ctx, to.slice(0, READ_ALL_FROM)))!.recipients.map((r) => r.username)).toEqual(to.slice(0, READ_ALL_FROM));
  for (let i = 0; i < 3 * READ_ALL_FROM; i++) await member(asUsername(`other${i}`));
  const again = (await sealedRecipients(ctx, to))!;
  expect(again.recipients.map((r) => r.username)).toEqual(to);
  expect(again.tokens).toEqual(all.tokens);
});
