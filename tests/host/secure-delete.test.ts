/**
 * P40 secure delete: once envelopes are acked and the host has checkpointed, neither their bytes
 * nor the row that named their sender and recipient is anywhere in the data directory: not in
 * the database file (free pages included), not in the WAL, not in the shared-memory file. The
 * scan reads raw files (tests/support/scan-data-dir.ts), next to a positive control: an envelope
 * that was not acked must still be found.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { storedRows } from '../support/host-names';
import { scanDataDir } from '../support/scan-data-dir';
import { WsClient, hostNames, registerUser, startHost } from './support';

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

/** Three 16-byte slices of a body (start, middle, end): a partial remnant still shows. */
function slices(name: string, body: Uint8Array): Record<string, Uint8Array> {
  const mid = Math.floor(body.length / 2);
  return { [`${name}@0`]: body.subarray(0, 16), [`${name}@mid`]: body.subarray(mid, mid + 16), [`${name}@end`]: body.subarray(body.length - 16) };
}

test('P40 acked envelopes and their sender/recipient row leave no trace in the database, its free pages, the WAL or the shm file', async () => {
  host = await startHost();
  const sender = await registerUser(host.url, 'sndr_qz');
  const other = await registerUser(host.url, 'ctrl_qz');
  const recipient = await registerUser(host.url, 'rcpt_qz');
  // Bodies larger than a page, so the rows also free overflow pages.
  const acked = Array.from({ length: 6 }, () => new Uint8Array(randomBytes(9000)));
  const kept = new Uint8Array(randomBytes(9000));
  const senderWs = await open(host.url, sender.token);
  for (const body of acked) expect((await senderWs.send('rcpt_qz', body)).type).toBe('stored');
  expect((await (await open(host.url, other.token)).send('rcpt_qz', kept)).type).toBe('stored');

  // In an envelope row the recipient and sender columns are stored side by side.
  // (Both sealed at rest, README "Usernames at rest".)
  const n = hostNames(host.dataDir);
  // The bodies as stored: each sealed at rest (README "Envelopes at rest"), so the slices that
  // must go are those of the rows the file holds, not of the bytes as sent.
  const stored = storedRows(host.dataDir);
  const gone: Record<string, Uint8Array | string> = { row: n.seal('rcpt_qz') + n.seal('sndr_qz') };
  stored.filter((r) => r.sender === n.seal('sndr_qz')).forEach((r, i) => Object.assign(gone, slices(`acked${i}`, r.body)));
  const keptRow = stored.find((r) => r.sender === n.seal('ctrl_qz'))!.body;
  expect(Object.keys(gone).length).toBe(1 + 3 * acked.length);
  const before = new Set(scanDataDir(host.dataDir, gone).map((h) => h.needle));
  expect(before.size).toBe(Object.keys(gone).length);

  const recipientWs = await open(host.url, recipient.token);
  await recipientWs.until(7);
  recipientWs.ack(recipientWs.envelopes().filter((e) => e.sender === 'sndr_qz').map((e) => e.serverId));

  // The host's own checkpoint (within a few intervals of the acks) leaves nothing behind.
  await expect
    .poll(() => scanDataDir(host!.dataDir, gone).map((h) => `${h.needle} in ${h.file.split('/').pop()}`), { timeout: 10_000, interval: 100 })
    .toEqual([]);
  // Positive control: the envelope nobody acked is still there, whole, with its row.
  const control = scanDataDir(host.dataDir, { ...slices('kept', keptRow), row: n.seal('rcpt_qz') + n.seal('ctrl_qz') });
  expect(new Set(control.map((h) => h.needle)).size).toBe(4);
  // The freed pages exist (so the scan above looked at them) and are zeroed.
  const db = new Database(join(host.dataDir, DB_FILE), { readonly: true });
  try {
    expect(db.pragma('freelist_count', { simple: true })).toBeGreaterThan(0);
  } finally {
    db.close();
  }
});

