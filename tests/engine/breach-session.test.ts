/**
 * DESIGN.md §9 breach test with real clients: alice, bob and carol run the real engine against
 * the real host (SQLite on disk, HTTP, WebSocket), hold a scripted conversation with receipts and
 * an offline catch-up, and then every file under the host's data directory — database, -wal,
 * -shm, realm and account-record files — is scanned for every plaintext sent and every private
 * identity key, and for the users' names in clear (README "Usernames at rest"). Positive controls
 * (sealed usernames and public identity keys, which the host must hold) prove the scanner reads
 * the live files.
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { requireMe } from '../../workers/engine/context';
import { scanDataDir } from '../support/scan-data-dir';
import { eventually, realHostPerTest, texts } from './real-host-support';
import { hostNames } from '../support/host-names';

const engines: Engine[] = [];

const real = realHostPerTest('parley-breach-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function user(name: string): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport, dbName: `breach-${name}-${process.pid}-${Date.now()}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

test('§9 after a scripted three-user session no plaintext and no private key is in any host file', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const carol = await user('carol');

  const script: [Engine, string, string][] = [
    [alice, 'bob', 'breach-plaintext: meet me at the old lighthouse 🌊'],
    [bob, 'alice', 'breach-plaintext: bring the blue notebook, page 42'],
    [carol, 'alice', 'breach-plaintext: carol here — my card is 4111 1111 1111 1111'],
    [alice, 'carol', 'breach-plaintext: got it, carol; ünïcødé and all']
  ];
  for (const [from, to, text] of script) {
    await from.lookupUser(to);
    await from.sendText(to, text);
  }
  // Bob goes offline; alice writes to him; he catches up from the durable mailbox.
  bob.disconnect();
  const offline = 'breach-plaintext: this one waited in the mailbox while bob was away';
  await alice.sendText('bob', offline);
  bob.connect();
  await eventually(async () => expect(await texts(bob, 'alice')).toContain(offline), 15_000);
  await eventually(async () => expect(await texts(alice, 'carol')).toHaveLength(2));
  await bob.markRead('alice');
  await alice.markRead('carol');

  const needles: Record<string, Uint8Array | string> = {};
  for (const [, , text] of [...script, [alice, 'bob', offline] as const]) {
    needles[`plaintext ${text.slice(18, 40)}`] = text;
    needles[`plaintext tail ${text.slice(-20)}`] = text.slice(-20);
  }
  const controls: Record<string, Uint8Array | string> = {};
  for (const [name, e] of [['alice', alice], ['bob', bob], ['carol', carol]] as const) {
    const { identity } = requireMe(e.ctx);
    needles[`${name} signing seed`] = identity.signing.privateKey.slice(0, 32);
    needles[`${name} X25519 identity private`] = identity.dh.privateKey;
    controls[`${name} public signing key`] = identity.signing.publicKey;
    controls[`${name} sealed username`] = hostNames(real.dataDir).seal(name);
    // "bob" is too short to search random ciphertext for (3 bytes: a chance hit every ~16 MB).
    if (name !== 'bob') needles[`${name} username in clear`] = name;
  }

  // Close the host first so every byte it holds is on disk (WAL included).
  for (const e of engines.splice(0)) await e.close();
  await real.host!.close();
  real.host = undefined;

  expect(scanDataDir(real.dataDir, needles)).toEqual([]);
  const found = new Set(scanDataDir(real.dataDir, controls).map((h) => h.needle));
  expect([...found].sort()).toEqual(Object.keys(controls).sort());
});
