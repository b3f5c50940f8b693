/**
 * P40 the retention sweep runs in bounded chunks in the storage writer, off the event loop: while
 * a large sweep runs, the host answers requests and commits new envelopes between its chunks, the
 * mailbox quotas follow what each chunk deleted, and a sweep that fails is logged, not thrown.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { WsClient, bytesOf, registerUser, startHost, textOf } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await host?.close();
  host = undefined;
});

async function open(url: string, token: Uint8Array): Promise<WsClient> {
  const c = await WsClient.open(url, token);
  clients.push(c);
  return c;
}

test('P40 a large retention sweep runs in chunks between mailbox batches: sends commit and requests answer while it runs', async () => {
  let now = 1_800_000_000_000;
  const old = 3000;
  host = await startHost({
    clock: () => now,
    limits: { sweepChunk: 20, tokenTtlMs: 90 * 86_400_000, mailboxMaxCount: old + 1, mailboxSenderShare: 1 }
  });
  const alice = await registerUser(host.url, 'alice');
  const bob = await registerUser(host.url, 'bob');
  const aliceWs = await open(host.url, alice.token);
  const sent = await Promise.all(Array.from({ length: old }, (_, i) => aliceWs.send('bob', bytesOf(`old-${i}`))));
  expect(sent.every((f) => f.type === 'stored')).toBe(true);
  now += 31 * 86_400_000;

  const events: string[] = [];
  const sweeping = host.sweep().then((n) => {
    events.push('swept');
    return n;
  });
  const during = aliceWs.send('bob', bytesOf('sent during the sweep')).then((f) => {
    events.push(f.type);
    return f;
  });
  const health = fetch(`${host.url}/healthz`).then((r) => {
    events.push(`health ${r.status}`);
  });
  const swept = await sweeping;
  await Promise.all([during, health]);
  expect(swept).toBe(old);
  // Both were answered while the sweep still had chunks to go: it never held the event loop or
  // the writer for its whole length.
  expect(events.indexOf('stored')).toBeLessThan(events.indexOf('swept'));
  expect(events.indexOf('health 200')).toBeLessThan(events.indexOf('swept'));

  // The quota follows the chunks: bob's mailbox holds one envelope again, so it takes more.
  for (let i = 0; i < 10; i++) expect((await aliceWs.send('bob', bytesOf(`new-${i}`))).type).toBe('stored');
  const bobWs = await open(host.url, bob.token);
  await bobWs.until(11);
  expect(textOf(bobWs.envelopes()[0]!.body)).toBe('sent during the sweep');
  expect(bobWs.envelopes().length).toBe(11);
});

test('P40 a sweep that fails (storage busy) is logged with its reason and the host carries on; the next sweep completes', async () => {
  let now = 1_800_000_000_000;
  const lines: string[] = [];
  host = await startHost({ clock: () => now, log: (l) => lines.push(l), limits: { tokenTtlMs: 90 * 86_400_000 } });
  const alice = await registerUser(host.url, 'alice');
  await registerUser(host.url, 'bob');
  const aliceWs = await open(host.url, alice.token);
  for (let i = 0; i < 5; i++) expect((await aliceWs.send('bob', bytesOf(`old-${i}`))).type).toBe('stored');
  now += 31 * 86_400_000;
  // Another process holds the database's write lock for longer than the writer will wait.
  const other = new Database(join(host.dataDir, DB_FILE));
  other.pragma('busy_timeout = 10000');
  other.exec('BEGIN IMMEDIATE');
  try {
    expect(await host.sweep()).toBe(0);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  expect(lines.some((l) => /^storage: retention sweep \(stopped after 0 envelopes\) failed: .*SQLITE_BUSY/.test(l))).toBe(true);
  expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
  expect(await host.sweep()).toBe(5);
});
