/**
 * Contacts' cached profile pictures in a store of their own (workers/storage/contact-repo.ts;
 * schema 7; SECURITY.md P43, P32): reading a contact opens no picture, so a sealed group send,
 * which reads every member's contact, no longer reads every member's avatar. The chat list and
 * contact info still show it; a picture removed by its owner, and a deleted request, take its row;
 * a vault from before keeps reading its inline pictures and moves them once, on open.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { refreshProfile } from '../../workers/engine/profiles';
import { fromContactRow, getAvatar, getContact, withAvatar } from '../../workers/storage/contact-repo';
import { sealJson } from '../../workers/storage/record-seal';
import { DB_VERSION, Meta } from '../../workers/storage/schema';
import { moveAvatarsIfMarked } from '../../workers/storage/vault';
import { enginesOnRealHost, eventually } from './real-host-support';

const { real, user: onHost } = enginesOnRealHost('parley-avatars-');
/** An engine with the host's profile blobs, as the app has. */
const user = (name: string): Promise<Engine> => onHost(name, { profiles: true });

const AVATAR = new Uint8Array(5000).map((_, i) => (i * 29 + 3) & 0xff);

/** The contact row's own sealed value, as stored (no picture may be in it). */
async function inlineAvatar(e: Engine, of: string): Promise<string | undefined> {
  const row = await e.ctx.vault.db.get('contacts', of);
  return row && fromContactRow(e.ctx.vault.db, row).profile?.avatar;
}

test('P43 P32 a contact’s picture is kept in a row of its own, shown where it was, and goes with the profile or the request', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  await alice.setProfile({ displayName: 'Alice', about: '', avatar: AVATAR });
  await alice.lookupUser('bob');
  await alice.sendText('bob', 'hello bob');
  await eventually(async () => expect(await getAvatar(bob.ctx.vault, 'alice')).toBeDefined());
  // Not in the contact row: reading the contact reads no picture.
  expect((await getContact(bob.ctx.vault, asUsername('alice')))?.profile?.displayName).toBe('Alice');
  expect(await inlineAvatar(bob, 'alice')).toBeUndefined();
  expect(fromBase64Url((await getAvatar(bob.ctx.vault, 'alice'))!, 10_000)).toEqual(AVATAR);
  // Shown where it was: the chat list and the contact's page.
  expect((await bob.listChats()).find((c) => c.username === 'alice')?.profile?.avatar).toEqual(AVATAR);
  expect((await bob.contactInfo('alice')).profile?.avatar).toEqual(AVATAR);
  // A refresh that finds the same profile writes nothing.
  expect(await refreshProfile(bob.ctx, asUsername('alice'))).toBe(false);

  // Alice takes her picture down: Bob's next look removes its row.
  await alice.setProfile({ displayName: 'Alice', about: '', avatar: null });
  expect(await refreshProfile(bob.ctx, asUsername('alice'))).toBe(true);
  expect(await getAvatar(bob.ctx.vault, 'alice')).toBeUndefined();
  expect((await bob.listChats()).find((c) => c.username === 'alice')?.profile).toEqual({ displayName: 'Alice' });

  // A stranger with a picture writes to Bob; Bob deletes the request: the picture goes with it.
  const carol = await user('carol');
  await carol.setProfile({ displayName: 'Carol', about: '', avatar: AVATAR });
  await carol.lookupUser('bob');
  await carol.sendText('bob', 'hi, carol here');
  await eventually(async () => expect(await getAvatar(bob.ctx.vault, 'carol')).toBeDefined());
  await bob.deleteRequest('carol');
  expect(await getAvatar(bob.ctx.vault, 'carol')).toBeUndefined();
});

test('P32 a vault from before schema 7 reads its inline pictures, and moves them once when it opens', async () => {
  const bob = await user('bob');
  const vault = bob.ctx.vault;
  // A contact row written the old way: the picture inside the sealed value, and the upgrade's mark.
  const inline = toBase64Url(AVATAR);
  await vault.db.put('contacts', {
    username: asUsername('dave'),
    identity: encodeIdentityPublic(identityPublic(generateIdentity(systemDeps))),
    sealed: sealJson(vault.db, 'contacts', 'dave', { verified: false, blocked: false, identityChanged: false, profile: { displayName: 'Dave', about: '', avatar: inline } })
  });
  await vault.db.put('meta', true, Meta.moveAvatars);
  // Before the move it reads as before.
  const before = await getContact(vault, asUsername('dave'));
  expect((await withAvatar(vault, before!)).profile?.avatar).toBe(inline);
  expect(await moveAvatarsIfMarked(vault)).toBe(1);
  expect(await inlineAvatar(bob, 'dave')).toBeUndefined();
  expect(await getAvatar(vault, 'dave')).toBe(inline);
  expect((await withAvatar(vault, (await getContact(vault, asUsername('dave')))!)).profile).toEqual({ displayName: 'Dave', about: '', avatar: inline });
  expect(await vault.db.get('meta', Meta.moveAvatars)).toBeUndefined();
  // Once: the mark is gone, a second open moves nothing.
  expect(await moveAvatarsIfMarked(vault)).toBe(0);
});

test('P32 a real schema-6 vault whose contact holds a picture inline opens upgraded, the picture moved and still shown', async () => {
  const bob = await user('bob');
  const name = `parley-avatars-bob-v6-${process.pid}`;
  const inline = toBase64Url(AVATAR);
  const identity = encodeIdentityPublic(identityPublic(generateIdentity(systemDeps)));
  await bob.ctx.vault.db.put('contacts', { username: asUsername('dave'), identity, sealed: sealJson(bob.ctx.vault.db, 'contacts', 'dave', { verified: false, blocked: false, identityChanged: false, profile: { displayName: 'Dave', about: '', avatar: inline } }) });
  const v7 = await openDB(bob.ctx.vault.db.name);
  // Every store of version 6, copied as is: the layout a browser on the build before holds.
  const v6 = await openDB(name, 6, {
    upgrade(d) {
      d.createObjectStore('meta');
      d.createObjectStore('prekeys', { keyPath: 'key' }).createIndex('byKind', 'kind');
      d.createObjectStore('legacySessions', { keyPath: 'username' });
      d.createObjectStore('sessions', { keyPath: 'username' });
      d.createObjectStore('skippedKeys', { keyPath: 'key' });
      d.createObjectStore('contacts', { keyPath: 'username' });
      d.createObjectStore('chats', { keyPath: 'id' }).createIndex('byLastAt', 'lastAt');
      d.createObjectStore('messages', { keyPath: 'key' }).createIndex('byChat', ['chatId', 'sentAt']);
      d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      d.createObjectStore('failures', { keyPath: 'seq', autoIncrement: true });
      d.createObjectStore('groups', { keyPath: 'id' }).createIndex('byLastAt', 'lastAt');
      d.createObjectStore('groupMessages', { keyPath: 'key' }).createIndex('byGroup', ['groupId', 'sentAt']);
      d.createObjectStore('searchIndex', { keyPath: 'id' });
      d.createObjectStore('files', { keyPath: ['owner', 'at'] });
    }
  });
  for (const store of Array.from(v6.objectStoreNames)) {
    const keys = await v7.getAllKeys(store);
    const values = await v7.getAll(store);
    for (let i = 0; i < keys.length; i++) await v6.put(store, values[i], store === 'meta' ? keys[i] : undefined);
  }
  v7.close();
  v6.close();

  // That copy opened by this build (never connected: bob's own engine stays the account's).
  const again = await Engine.open({ transport: new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor), profiles: httpProfiles(real.host!.url), dbName: name, locks: memoryLocks(), retryMs: 50 });
  try {
    const db = again.ctx.vault.db;
    expect(db.version).toBe(DB_VERSION);
    expect(await db.get('meta', Meta.moveAvatars)).toBeUndefined();
    expect(await inlineAvatar(again, 'dave')).toBeUndefined();
    expect(await getAvatar(again.ctx.vault, 'dave')).toBe(inline);
    expect((await again.contactInfo('dave')).profile?.avatar).toEqual(AVATAR);
  } finally {
    await again.close();
  }
});
