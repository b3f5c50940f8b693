/**
 * SECURITY.md P43 with PIN recovery (DESIGN.md §7): after a restore on a new browser, the profile
 * key in use (the one rotated by a block, not the first one), the display name, about text and
 * picture, and the block list are back. The record carries the key; the profile blob on the real
 * host, found with that key, brings back what the record does not carry.
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { profileKey } from '../../workers/engine/profile-key';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { fastStretch } from '../pin/support';
import { realHostPerTest } from './real-host-support';

const engines: Engine[] = [];
let n = 0;
const SECRET = 'violet tractor umbrella quantum';
const real = realHostPerTest('parley-profile-restore-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function open(name: string): Promise<Engine> {
  const url = real.host!.url;
  const recovery = { realms: [{ id: realmIdFromName('parley'), url: `${url}/realm/` }], threshold: 1, fetch: globalThis.fetch, stretch: fastStretch };
  const e = await Engine.open({
    transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor),
    profiles: httpProfiles(url),
    dbName: `profile-restore-${name}-${process.pid}-${n++}`,
    locks: memoryLocks(),
    retryMs: 50,
    recovery,
    recordDebounceMs: 20,
    deps: systemDeps
  });
  engines.push(e);
  return e;
}

test('P43 a PIN restore brings back the current profile key, the profile and the block list', async () => {
  const alice = await open('alice');
  await alice.createAccount('alice');
  alice.connect();
  const carol = await open('carol');
  await carol.createAccount('carol');
  const avatar = new Uint8Array(2048).map((_, i) => (i * 31) & 0xff);
  await alice.setProfile({ displayName: 'Alice Restored', about: 'back from the backup', avatar });
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });
  const first = await profileKey(alice.ctx);
  await alice.lookupUser('carol');
  await alice.block('carol');
  const current = await profileKey(alice.ctx);
  expect(current).not.toEqual(first);
  await new Promise((r) => setTimeout(r, 300));
  await alice.settle();

  const fresh = await open('alice-new');
  expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', blocked: 1 });
  expect(await profileKey(fresh.ctx)).toEqual(current);
  expect(await fresh.myProfile()).toEqual({ displayName: 'Alice Restored', about: 'back from the backup', avatar });
  expect((await fresh.contactInfo('carol')).blocked).toBe(true);
});
