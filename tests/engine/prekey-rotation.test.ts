/**
 * The last-resort ML-KEM prekey rotates with the signed prekey (SECURITY.md P40 lockouts), against
 * the real host: once a target's one-time budget is spent every bundle carries the last-resort
 * key, so it must not live forever. A message started on the old key still decrypts after the
 * rotation; new bundles carry the new key; the old private key goes after SIGNED_PREKEY_KEEP_MS.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { createHost, type RunningHost } from '../../src/host/server';
import { hostAuth } from '../../workers/engine/account';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { SIGNED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS } from '../../workers/engine/prekey-pool';
import { eventually, texts } from './real-host-support';

let host: RunningHost | undefined;
let dataDir = '';
let engines: Engine[] = [];
let n = 0;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-rotation-'));
  // No one-time budget: every bundle carries the signed and last-resort prekeys only.
  host = await createHost({ port: 0, dataDir, limits: { oneTimePerTarget: { max: 0, windowMs: 3600_000 } } });
});
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
  await host?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(name: string, deps?: Deps): Promise<Engine> {
  const transport = new HostHttpTransport(host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport, dbName: `rotation-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50, ...(deps ? { deps } : {}) });
  engines.push(e);
  return e;
}

function clockDeps(): Deps & { advance(ms: number): void } {
  let offset = 0;
  return { rng: systemDeps.rng, now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

async function lastResortIds(e: Engine): Promise<number[]> {
  return (await e.ctx.vault.db.getAllFromIndex('prekeys', 'byKind', 'kem'))
    .filter((r) => r.lastResort)
    .map((r) => r.id)
    .sort((a, b) => a - b);
}

test('P40 the last-resort KEM prekey rotates with the signed prekey; a message to the old one still decrypts; the old one expires', async () => {
  const deps = clockDeps();
  const bob = await open('bob', deps);
  const alice = await open('alice');
  await bob.createAccount('bob');
  await alice.createAccount('alice');
  alice.connect();
  const bundleOfBob = () => alice.ctx.transport.fetchBundle(hostAuth(alice.ctx.me!), asUsername('bob'));
  const before = await bundleOfBob();
  expect([before.kemPreKey.lastResort, before.kemPreKey.id, before.signedPreKey.id, before.oneTimePreKey]).toEqual([true, 1, 1, undefined]);
  // Alice's first message is a prekey message on last-resort key 1; bob is offline.
  await alice.lookupUser('bob');
  await alice.sendText('bob', 'to the old last-resort key');

  deps.advance(SIGNED_PREKEY_ROTATE_MS);
  bob.connect();
  await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['to the old last-resort key']));
  await eventually(async () => expect((await bundleOfBob()).signedPreKey.id).toBe(2));
  const after = await bundleOfBob();
  expect(after.kemPreKey.lastResort).toBe(true);
  expect(after.kemPreKey.id).toBeGreaterThan(1);
  expect(await lastResortIds(bob)).toEqual([1, after.kemPreKey.id]);

  // Past the keep period the old private key goes; the current one (and a newer one) stay.
  deps.advance(SIGNED_PREKEY_KEEP_MS);
  bob.disconnect();
  bob.connect();
  await eventually(async () => expect((await bundleOfBob()).signedPreKey.id).toBe(3));
  const latest = await bundleOfBob();
  expect(latest.kemPreKey.id).toBeGreaterThan(after.kemPreKey.id);
  await eventually(async () => expect(await lastResortIds(bob)).toEqual([after.kemPreKey.id, latest.kemPreKey.id]));
});
