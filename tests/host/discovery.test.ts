/**
 * Private discovery on the host (README "Design: private discovery"): anonymous lookups by the
 * memory-hard username hash answer "exists" and nothing else, need no account, are rate-limited
 * per address (P40), and the index holds hashes, not names; an index created on a host that
 * already has accounts is filled from them once.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { DISCOVERY_PATH } from '../../src/lib/wire/discovery-api';
import { DISCOVERY_FILE } from '../../src/host/storage/sqlite-discovery';
import { scanDataDir } from '../support/scan-data-dir';
import { registerUser, startHost } from './support';
import { lookup } from './side-requests';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe('private discovery', () => {
  test('an anonymous lookup by hash answers exists and nothing else', async () => {
    host = await startHost();
    await registerUser(host.url, 'alice');
    expect(await lookup(host.url, 'alice')).toEqual({ status: 200, body: { exists: true } });
    expect(await lookup(host.url, 'alicf')).toEqual({ status: 200, body: { exists: false } });
    expect((await fetch(host.url + DISCOVERY_PATH + 'alice')).status).toBe(400);
  });

  test('the discovery index holds the hash, never the name', async () => {
    host = await startHost();
    await registerUser(host.url, 'zebediah');
    await lookup(host.url, 'zebediah');
    const hits = scanDataDir(host.dataDir, { name: 'zebediah', hash: usernameLookupHash('zebediah') });
    expect(hits.filter((h) => h.file.includes(DISCOVERY_FILE)).map((h) => h.needle)).toEqual(['hash']);
  });

  test('P40 lookups are rate-limited per client address', async () => {
    host = await startHost({ limits: { discoveryPerIp: { max: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 3; i++) expect((await lookup(host.url, `name${i}x`)).status).toBe(200);
    const r = await lookup(host.url, 'name9x');
    expect(r.status).toBe(429);
  });

  test('an empty index on a host with accounts is filled from them once', async () => {
    host = await startHost();
    const dataDir = host.dataDir;
    await registerUser(host.url, 'olduser');
    await host.close();
    for (const f of [DISCOVERY_FILE, `${DISCOVERY_FILE}-wal`, `${DISCOVERY_FILE}-shm`]) rmSync(join(dataDir, f), { force: true });
    host = await startHost({ dataDir });
    expect((await lookup(host.url, 'olduser')).body).toEqual({ exists: true });
  });
});
