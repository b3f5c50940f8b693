/**
 * The discovery index's fill (README "Design: private discovery"): it runs while the host serves,
 * hashes only the accounts whose identity the index does not hold, answers a lookup it cannot
 * answer yet with "try again shortly" (503 + Retry-After) instead of "no such user", and stops
 * when the host closes. Real SQLite index file; the hashing thread is stood in for by a hasher the
 * test releases one hash at a time (the real one takes ~20 ms per name, so the order of events
 * would be left to chance).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { initSodium } from '../../src/lib/crypto/sodium';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { DISCOVERY_PATH, lookupHashText } from '../../src/lib/wire/discovery-api';
import { createDiscovery, type Discovery } from '../../src/host/discovery';
import { HostError, requestPath, sendError } from '../../src/host/http-util';
import { DEFAULT_LIMITS } from '../../src/host/limits';
import type { LookupHasher } from '../../src/host/lookup-hasher';
import { openSqliteDiscovery } from '../../src/host/storage/sqlite-discovery';
import type { DiscoveryIndex } from '../../src/host/storage/discovery-port';
import { lookup } from './side-requests';

/** A hasher whose every hash waits until the test lets one through. */
function gatedHasher() {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  const hasher: LookupHasher = {
    hash(username) {
      asked.push(username);
      return new Promise((resolve) => waiting.push(() => resolve(usernameLookupHash(username))));
    },
    close: async () => undefined
  };
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return {
    hasher,
    asked,
    /** Lets `n` hashes through, each once it has been asked for. */
    async release(n: number) {
      for (let i = 0; i < n; i++) {
        while (waiting.length === 0) await settle();
        waiting.shift()!();
        await settle();
      }
    }
  };
}

const identity = (n: number) => new Uint8Array(33).fill(n);
const accounts = ['ann', 'bert', 'cora', 'dmitri'].map((username, i) => ({ username, identity: identity(i + 1) }));

let dir: string;
let index: DiscoveryIndex;
let server: Server | undefined;
let discovery: Discovery | undefined;

async function serve(d: Discovery): Promise<string> {
  discovery = d;
  server = createServer((req, res) => {
    d.handle(req, res, requestPath(req)).then(
      (handled) => handled || sendError(res, new HostError(404, 'NotFound', 'no such endpoint')),
      (e: unknown) => sendError(res, e instanceof HostError ? e : new HostError(500, 'Internal', 'internal error'))
    );
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function open() {
  await initSodium();
  dir = mkdtempSync(join(tmpdir(), 'parley-fill-'));
  index = openSqliteDiscovery(dir);
}

afterEach(async () => {
  await discovery?.close();
  discovery = undefined;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

test('P49 the fill runs while lookups are served: a name not reached yet is "try again", never "no such user"', async () => {
  await open();
  // One account indexed already (its registration did it): the fill skips it.
  await index.add(usernameLookupHash('ann'), identity(1));
  const gate = gatedHasher();
  const d = createDiscovery(index, DEFAULT_LIMITS, Date.now, gate.hasher);
  const url = await serve(d);
  const fill = await d.fill(async () => accounts);
  expect(fill.todo).toBe(3);

  expect((await lookup(url, 'ann')).body).toEqual({ exists: true, identity: toBase64Url(identity(1)) });
  const early = await fetch(url + DISCOVERY_PATH + lookupHashText(usernameLookupHash('dmitri')));
  expect(early.status).toBe(503);
  expect(early.headers.get('retry-after')).toBe('2');
  expect(await early.json()).toMatchObject({ error: { code: 'Unavailable' } });
  expect((await lookup(url, 'nobody')).status).toBe(503);

  await gate.release(1); // bert
  expect((await lookup(url, 'bert')).status).toBe(200);
  expect((await lookup(url, 'cora')).status).toBe(503);
  await gate.release(2); // cora, dmitri
  expect(await fill.done).toBe(3);
  expect(gate.asked).toEqual(['bert', 'cora', 'dmitri']);
  expect((await lookup(url, 'dmitri')).body).toMatchObject({ exists: true });
  expect((await lookup(url, 'nobody')).body).toEqual({ exists: false });
});

test('an index that holds every account\'s identity is not rehashed', async () => {
  await open();
  for (const a of accounts) await index.add(usernameLookupHash(a.username), a.identity);
  const gate = gatedHasher();
  const d = createDiscovery(index, DEFAULT_LIMITS, Date.now, gate.hasher);
  const url = await serve(d);
  const fill = await d.fill(async () => accounts);
  expect([fill.todo, await fill.done]).toEqual([0, 0]);
  expect(gate.asked).toEqual([]);
  expect((await lookup(url, 'nobody')).body).toEqual({ exists: false });
});

test('closing stops a fill under way after its current hash', async () => {
  await open();
  const gate = gatedHasher();
  const d = createDiscovery(index, DEFAULT_LIMITS, Date.now, gate.hasher);
  await serve(d);
  const { done } = await d.fill(async () => accounts);
  await gate.release(1);
  const closed = d.close();
  await gate.release(1);
  await closed;
  expect(await done).toBe(2);
  expect(gate.asked).toEqual(['ann', 'bert']);
  expect((await index.identities()).length).toBe(2);
});

test('P40 the fill yields to registrations: a hash refused by a full hashing thread is asked again, not the fill given up', async () => {
  await open();
  let refusals = 1;
  const asked: string[] = [];
  const hasher: LookupHasher = {
    async hash(username) {
      asked.push(username);
      if (refusals-- > 0) throw new HostError(503, 'Unavailable', 'too many hashes waiting', 1000);
      return usernameLookupHash(username);
    },
    close: async () => undefined
  };
  const d = createDiscovery(index, DEFAULT_LIMITS, Date.now, hasher);
  discovery = d;
  expect(await (await d.fill(async () => accounts.slice(0, 2))).done).toBe(2);
  expect(asked).toEqual(['ann', 'ann', 'bert']);
});
