/**
 * Publishing our private profile (SECURITY.md P43) against the real host and its per-address
 * write limit (P40): a connect uploads only a profile the host does not have yet, so an unchanged
 * one costs no write; a save the host refuses (its limit, or down) is reported as not published,
 * is kept on the device, and is published on the next connect once the host takes writes again,
 * after which a stranger we write to sees the name.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createHost, type RunningHost } from '../../src/host/server';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { eventually, texts } from './real-host-support';

const WINDOW_MS = 60_000;
let host: RunningHost | undefined;
let dataDir = '';
let now = 1_800_000_000_000;
const engines: Engine[] = [];
let n = 0;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-publish-'));
  // Two profile writes per address per window: the account's first publish and one more.
  host = await createHost({ port: 0, dataDir, clock: () => now, limits: { profileWritePerIp: { max: 2, windowMs: WINDOW_MS } } });
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await host?.close();
  host = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** An engine whose profile PUTs are counted as they reach the host. */
async function user(name: string): Promise<{ e: Engine; puts: () => number }> {
  const url = host!.url;
  let puts = 0;
  const counting: typeof fetch = (input, init) => {
    if (init?.method === 'PUT') puts++;
    return globalThis.fetch(input, init);
  };
  const e = await Engine.open({ transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor), profiles: httpProfiles(url, counting), dbName: `publish-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  await e.settle();
  return { e, puts: () => puts };
}

async function reconnect(e: Engine): Promise<void> {
  e.disconnect();
  e.connect();
  await eventually(() => expect(e.ctx.connection).toBe('online'));
  await e.settle();
}

test('P40 P43 an unchanged profile is not uploaded again on connect; a changed one is, once', async () => {
  const { e: alice, puts } = await user('alice');
  await eventually(() => expect(puts()).toBe(1));
  await reconnect(alice);
  await reconnect(alice);
  expect(puts()).toBe(1);
  expect((await alice.setProfile({ displayName: 'Alice', about: '', avatar: null })).published).toBe(true);
  expect(puts()).toBe(2);
  await reconnect(alice);
  expect(puts()).toBe(2);
});

test('P40 P43 a save the host refuses is kept, reported unpublished, and published on the next connect; then a stranger sees the name', async () => {
  const { e: alice, puts } = await user('alice');
  await eventually(() => expect(puts()).toBe(1));
  expect((await alice.setProfile({ displayName: 'Alice One', about: '', avatar: null })).published).toBe(true);
  // The third write in the window is refused (429): saved here, not published.
  const refused = await alice.setProfile({ displayName: 'Alice Two', about: 'kept', avatar: null });
  expect(refused).toEqual({ profile: { displayName: 'Alice Two', about: 'kept', avatar: null }, published: false });
  expect((await alice.myProfile()).displayName).toBe('Alice Two');
  // Still limited: a connect tries again and fails quietly.
  await reconnect(alice);
  now += WINDOW_MS + 1;
  await reconnect(alice);
  const afterWindow = puts();
  await reconnect(alice);
  expect(puts()).toBe(afterWindow);

  // The published version is the kept one: bob, a stranger alice writes to, sees its name.
  const { e: bob } = await user('bob');
  await alice.lookupUser('bob');
  await alice.sendText('bob', 'hello');
  await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello']));
  await eventually(async () => expect((await bob.listChats()).find((c) => c.username === 'alice')?.profile?.displayName).toBe('Alice Two'));
});
