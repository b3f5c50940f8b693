/**
 * Username links (README "Design: private discovery") with real clients on the real host: a link
 * names its owner only to whoever holds it (the host keeps an id and ciphertext), opening it starts
 * the chat, and a reset makes every earlier copy of the link answer NoSuchUser.
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { parseLinkText } from '../../src/lib/crypto/username-link';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles, httpUsernameLinks } from '../../workers/engine/profile-transport';
import { scanDataDir } from '../support/scan-data-dir';
import { realHostPerTest } from './real-host-support';

const engines: Engine[] = [];
const real = realHostPerTest('parley-links-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

let n = 0;
async function user(name: string): Promise<Engine> {
  const url = real.host!.url;
  const e = await Engine.open({
    transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor),
    profiles: httpProfiles(url),
    usernameLinks: httpUsernameLinks(url),
    dbName: `links-${name}-${process.pid}-${n++}`,
    locks: memoryLocks(),
    retryMs: 50
  });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

test('opening a username link starts the chat with its owner; a reset kills every old copy', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const link = await alice.usernameLink();
  expect(link).toMatch(/^[A-Za-z0-9_-]{64}$/);
  expect(await alice.usernameLink()).toBe(link);
  expect(await bob.openUsernameLink(link)).toEqual({ username: 'alice' });
  expect((await bob.listChats()).map((c) => c.username)).toContain('alice');
  // The host holds the id, never the key that opens it.
  const { id, key } = parseLinkText(link);
  const hits = scanDataDir(real.dataDir, { id, key });
  expect(hits.map((h) => h.needle)).toEqual(['id']);

  const fresh = await alice.resetUsernameLink();
  expect(fresh).not.toBe(link);
  await expect(bob.openUsernameLink(link)).rejects.toMatchObject({ code: 'NoSuchUser' });
  expect(await bob.openUsernameLink(fresh)).toEqual({ username: 'alice' });
  expect(scanDataDir(real.dataDir, { oldId: id })).toEqual([]);
});

test('a malformed or tampered link is refused with a code, and nothing is created', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const link = await alice.usernameLink();
  await expect(bob.openUsernameLink('not-a-link')).rejects.toMatchObject({ code: 'DecodeFailed' });
  // Another key for the same id: the blob does not open.
  const { id } = parseLinkText(link);
  const forged = Buffer.concat([Buffer.from(id), Buffer.alloc(32, 7)]).toString('base64url');
  await expect(bob.openUsernameLink(forged)).rejects.toMatchObject({ code: 'InvalidMac' });
  expect(await bob.listChats()).toEqual([]);
});
