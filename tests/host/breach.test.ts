/**
 * DESIGN.md §9 (host part of the breach test): after users register and exchange envelopes whose
 * plaintext markers exist only INSIDE the ciphertext, every file under the data directory
 * (database, -wal, -shm) is scanned: the stored row of a waiting envelope is there (positive
 * control, so the scanner works on live files), the plaintext markers, tokens and private keys
 * are not, and since bodies are sealed at rest (README "Envelopes at rest") neither is the
 * ciphertext the client sent.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { aeadEncrypt } from '../../src/lib/crypto/primitives';
import { systemDeps } from '../../src/lib/crypto/deps';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { API } from '../../src/lib/wire/host-api';
import { hostBodies, storedRows } from '../support/host-names';
import { scanDataDir } from '../support/scan-data-dir';
import { WsClient, bytesOf, call, registerUser, startHost } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const MARKERS = ['PARLEY-BREACH-MARKER-alpha the eagle lands at dawn', 'PARLEY-BREACH-MARKER-beta 4111 1111 1111 1111', 'PARLEY-BREACH-MARKER-gamma ünïcødé ✓'];

function seal(plaintext: string): Uint8Array {
  const key = systemDeps.rng(32);
  const nonce = systemDeps.rng(24);
  return new Uint8Array([...nonce, ...aeadEncrypt(key, nonce, bytesOf(plaintext), new Uint8Array(0))]);
}

describe('breach scan of the host data directory', () => {
  test('§9 plaintext markers sent inside ciphertext never appear in any host file, nor the ciphertext as sent; its stored row does', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const ciphertexts = MARKERS.map(seal);
    const aliceWs = await WsClient.open(host.url, alice.token);
    for (const c of ciphertexts.slice(0, 2)) expect((await aliceWs.send('bob', c)).type).toBe('stored');
    expect((await call(host.url, API.messages + 'bob', { token: alice.token, body: ciphertexts[2]! })).status).toBe(201);
    // bob reads and acks the first one; the others stay stored.
    const bobWs = await WsClient.open(host.url, bob.token);
    await bobWs.until(3);
    bobWs.ack([bobWs.envelopes()[0]!.serverId]);
    await new Promise((r) => setTimeout(r, 50));

    const needles: Record<string, Uint8Array | string> = {};
    MARKERS.forEach((m, i) => {
      needles[`marker${i}`] = m;
      needles[`marker${i}-utf16`] = new Uint8Array(Buffer.from(m, 'utf16le'));
    });
    for (const u of [alice, bob]) {
      needles[`${u.username}-token`] = u.token;
      needles[`${u.username}-token-b64`] = toBase64Url(u.token);
      needles[`${u.username}-signing-private`] = u.identity.signing.privateKey.slice(0, 32);
      needles[`${u.username}-dh-private`] = u.identity.dh.privateKey;
    }
    ciphertexts.forEach((c, i) => (needles[`ciphertext${i}`] = c.subarray(0, 48)));
    const rows = storedRows(host.dataDir);
    expect(hostBodies(host.dataDir).open(rows.map((r) => r.body)).map((o) => o?.body)).toEqual(ciphertexts.slice(1));
    needles.storedRow = rows[0]!.body;
    const check = () => {
      const hits = scanDataDir(host!.dataDir, needles);
      expect(hits.some((h) => h.needle === 'storedRow')).toBe(true);
      expect(hits.filter((h) => h.needle !== 'storedRow')).toEqual([]);
    };
    check(); // live files, WAL included
    await aliceWs.close();
    await bobWs.close();
    await host.close(); // after the checkpoint
    const closed = host;
    host = undefined;
    const hits = scanDataDir(closed.dataDir, needles);
    expect(hits.filter((h) => h.needle !== 'storedRow')).toEqual([]);
  });

  test('log lines carry no envelope content, no token and no username from a path', async () => {
    const lines: string[] = [];
    host = await startHost({ log: (l) => lines.push(l) });
    const alice = await registerUser(host.url, 'alice');
    await registerUser(host.url, 'bob');
    await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf(MARKERS[0]!) });
    await call(host.url, API.usernames + 'zed_secret_name');
    await call(host.url, API.bundles + 'bob', { token: alice.token });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const all = lines.join('\n');
    for (const needle of [MARKERS[0]!, toBase64Url(alice.token), 'zed_secret_name', '/bob']) expect(all).not.toContain(needle);
  });

  test('the scanner finds a marker written in plain text (it is not blind)', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    await registerUser(host.url, 'bob');
    await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf(MARKERS[0]!) });
    // The body is sealed at rest, so the marker is not there; the row that holds it is.
    expect(scanDataDir(host.dataDir, { m: MARKERS[0]! })).toEqual([]);
    expect(scanDataDir(host.dataDir, { row: storedRows(host.dataDir)[0]!.body }).length).toBeGreaterThan(0);
    const db = new Database(join(host.dataDir, 'plain.sqlite'));
    db.exec('CREATE TABLE t (v TEXT)');
    db.prepare('INSERT INTO t VALUES (?)').run(MARKERS[0]!);
    db.close();
    expect(scanDataDir(host.dataDir, { m: MARKERS[0]! }).length).toBeGreaterThan(0);
  });
});

