/**
 * SECURITY.md P43 end to end with real clients: alice, bob and carol run the real engine against
 * the real host (SQLite, HTTP, WebSocket) and its profile endpoint. A profile key reaches only
 * people its owner writes to; blocking rotates it, re-shares it with everyone else, and leaves the
 * blocked person a key that finds and opens nothing; the host's files hold no profile content.
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { fromBase64Url } from '../../src/lib/codec/base64url';
import { asUsername } from '../../src/lib/codec/username';
import { openProfile, profileAddress } from '../../src/lib/crypto/profile';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { profileKey } from '../../workers/engine/profile-key';
import { REFRESH_ALL_MIN_MS } from '../../workers/engine/profiles';
import { getContact } from '../../workers/storage/contact-repo';
import { hostNames } from '../support/host-names';
import { scanDataDir } from '../support/scan-data-dir';
import { eventually, realHostPerTest, texts } from './real-host-support';

const engines: Engine[] = [];
const real = realHostPerTest('parley-profiles-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

let n = 0;
async function user(name: string): Promise<Engine> {
  const url = real.host!.url;
  const e = await Engine.open({ transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor), profiles: httpProfiles(url), dbName: `profiles-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

/** Moves `e`'s own clock on by `ms` (real time still runs under it): a reconnect counts as later. */
function later(e: Engine, ms: number): void {
  const now = e.ctx.deps.now;
  e.ctx.deps = { ...e.ctx.deps, now: () => now() + ms };
}

const AVATAR = new Uint8Array(3000).map((_, i) => (i * 13 + 5) & 0xff);
const ALICE = { displayName: 'Alice Liddell-Marker', about: 'about-marker: down the rabbit hole', avatar: AVATAR };

async function nameIn(e: Engine, chat: string): Promise<string | undefined> {
  return (await e.listChats()).find((c) => c.username === chat)?.profile?.displayName;
}

/** The profile key `of` shared with `holder`, as `holder`'s vault stores it. */
async function keyHeld(holder: Engine, of: string): Promise<Uint8Array | undefined> {
  const k = (await getContact(holder.ctx.vault, asUsername(of)))?.profileKey;
  return k ? fromBase64Url(k, 32) : undefined;
}

test('P43 the profile key reaches only people we write to; their chat list shows name and avatar', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const carol = await user('carol');
  await alice.setProfile(ALICE);
  await alice.lookupUser('bob');
  await alice.sendText('bob', 'hello bob');
  // carol writes to alice, alice does not write back: carol never gets alice's key.
  await carol.lookupUser('alice');
  await carol.sendText('alice', 'hi alice, carol here');
  await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));
  await eventually(async () => expect(await nameIn(bob, 'alice')).toBe(ALICE.displayName));
  const chat = (await bob.listChats()).find((c) => c.username === 'alice')!;
  expect(chat.profile?.avatar).toEqual(AVATAR);
  expect((await bob.contactInfo('alice')).profile?.about).toBe(ALICE.about);
  await eventually(async () => expect(await texts(alice, 'carol')).toEqual(['hi alice, carol here']));
  expect(await keyHeld(carol, 'alice')).toBeUndefined();
  expect(await nameIn(carol, 'alice')).toBeUndefined();
  // and nothing of it in any host file. Positive control of the scan: alice's account row, stored
  // under her sealed name (README "Usernames at rest"), is there for as long as she is.
  const hits = scanDataDir(real.dataDir, { name: ALICE.displayName, about: ALICE.about, avatar: AVATAR.slice(1000, 1064), control: hostNames(real.dataDir).seal('alice') });
  expect(hits.map((h) => h.needle)).toEqual(expect.arrayContaining(['control']));
  expect(hits.filter((h) => h.needle !== 'control')).toEqual([]);
});

test('P43 blocking rotates the profile key: the blocked person can neither find nor open the new profile; the others get the new key', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const carol = await user('carol');
  await alice.setProfile(ALICE);
  for (const [to, text] of [['bob', 'hi bob'], ['carol', 'hi carol']] as const) {
    await alice.lookupUser(to);
    await alice.sendText(to, text);
  }
  await eventually(async () => expect(await nameIn(bob, 'alice')).toBe(ALICE.displayName));
  await eventually(async () => expect(await nameIn(carol, 'alice')).toBe(ALICE.displayName));
  const oldKey = (await keyHeld(carol, 'alice'))!;

  await alice.block('carol');
  const newKey = await profileKey(alice.ctx);
  expect(newKey).not.toEqual(oldKey);
  // bob gets the new key inside the ratchet and follows a rename; carol keeps only the old one.
  await eventually(async () => expect(await keyHeld(bob, 'alice')).toEqual(newKey));
  await alice.setProfile({ ...ALICE, displayName: 'Alice (renamed)' });
  later(bob, REFRESH_ALL_MIN_MS);
  bob.disconnect();
  bob.connect();
  await eventually(async () => expect(await nameIn(bob, 'alice')).toBe('Alice (renamed)'));
  expect(await keyHeld(carol, 'alice')).toEqual(oldKey);

  const profiles = httpProfiles(real.host!.url);
  // The old address is gone from the host, and carol cannot derive the new one.
  expect(await profiles.get(profileAddress(oldKey, 'alice'))).toBeUndefined();
  const fresh = await profiles.get(profileAddress(newKey, 'alice'));
  expect(fresh).toBeDefined();
  expect(openProfile({ blob: fresh!, profileKey: newKey, username: 'alice' }).displayName).toBe('Alice (renamed)');
  expect(() => openProfile({ blob: fresh!, profileKey: oldKey, username: 'alice' })).toThrow();
  // carol's cached copy goes when she next looks: the old address answers nothing.
  later(carol, REFRESH_ALL_MIN_MS);
  carol.disconnect();
  carol.connect();
  await eventually(async () => expect(await nameIn(carol, 'alice')).toBeUndefined());
});

test('P43 a host that drops and takes back the connection gets every profile fetched once per interval, not once per reconnect', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  await alice.setProfile(ALICE);
  await alice.lookupUser('bob');
  await alice.sendText('bob', 'hi bob');
  await eventually(async () => expect(await nameIn(bob, 'alice')).toBe(ALICE.displayName));
  let fetches = 0;
  const profiles = bob.ctx.profiles!;
  const get = profiles.get.bind(profiles);
  profiles.get = (address) => {
    fetches++;
    return get(address);
  };
  const reconnect = async () => {
    bob.disconnect();
    bob.connect();
    await eventually(() => expect(bob.ctx.connection).toBe('online'));
  };
  for (let i = 0; i < 5; i++) await reconnect();
  // Long enough for a refresh a reconnect started to have asked the host.
  await new Promise((r) => setTimeout(r, 500));
  expect(fetches).toBe(0);
  later(bob, REFRESH_ALL_MIN_MS);
  await reconnect();
  await eventually(() => expect(fetches).toBe(1));
  for (let i = 0; i < 3; i++) await reconnect();
  await new Promise((r) => setTimeout(r, 500));
  expect(fetches).toBe(1);
});
