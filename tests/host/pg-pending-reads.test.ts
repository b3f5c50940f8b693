/**
 * Coalesced replay reads on PostgreSQL (src/host/storage/pg/pending-reads.ts), on a real server:
 * reads asked for in one event-loop turn go out as one query, each caller still gets exactly its
 * own page (limit, cursor, byte bound: P40), a query holds at most its byte budget plus one page
 * (later pages are deferred whole, never cut short), and a failed query rejects its callers.
 * The store contract (store-contract.test.ts) checks the same pages against SQLite's.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import { openPgStore } from '../../src/host/storage/pg/store';
import { createPool } from '../../src/host/storage/pg/client';
import { pgPendingReads } from '../../src/host/storage/pg/pending-reads';
import type { HostStore } from '../../src/host/storage/port';
import { postgresPerFile } from '../support/postgres-per-file';

const QUOTA = { maxCount: 1_000_000, maxBytes: 1e12, senderMaxCount: 1e9, senderMaxBytes: 1e12 };
const cluster = postgresPerFile({ fsync: false });
let store: HostStore & { close?: () => Promise<void> };
let pool: pg.Pool;
/** Envelope ids per mailbox, as stored. */
const ids = new Map<string, number[]>();
const USERS = Array.from({ length: 10 }, (_, i) => `r${i}`);

beforeAll(async () => {
  const url = await cluster.createDatabase();
  store = await openPgStore(url);
  pool = createPool(url, { max: 2 });
  // Mailbox r<i>: five envelopes of 60 bytes.
  for (const u of USERS) {
    const r = await store.applyMailboxBatch(Array.from({ length: 5 }, (_, k) => ({ recipient: u, sender: 's', receivedAt: k, body: new Uint8Array(60).fill(k) })), [], QUOTA);
    ids.set(u, r.ids as number[]);
  }
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await store?.close?.();
});

/** `pool` with its queries counted. */
function counted(fail = false): { pool: pg.Pool; queries: () => number } {
  let n = 0;
  const p = {
    query: (...a: Parameters<pg.Pool['query']>) => {
      n++;
      return fail ? Promise.reject(new Error('connection lost')) : (pool.query as (...x: unknown[]) => unknown)(...a);
    }
  } as unknown as pg.Pool;
  return { pool: p, queries: () => n };
}

test('reads asked for in one turn are ONE query, and each gets its own page', async () => {
  const c = counted();
  const read = pgPendingReads(c.pool);
  const pages = await Promise.all(USERS.map((u, i) => read(u, ids.get(u)![i % 5 === 4 ? 0 : i % 5]!, 3)));
  expect(c.queries()).toBe(1);
  USERS.forEach((u, i) => {
    const from = i % 5 === 4 ? 1 : (i % 5) + 1;
    expect(pages[i]!.map((e) => e.id)).toEqual(ids.get(u)!.slice(from, from + 3));
    expect(pages[i]!.every((e) => e.recipient === u && e.sender === 's' && e.body.length === 60)).toBe(true);
  });
  // A later turn is a query of its own.
  expect((await read('r0', 0, 10)).map((e) => e.id)).toEqual(ids.get('r0'));
  expect(c.queries()).toBe(2);
});

test('P40 a query keeps pages while the bytes before them are under its budget; later pages wait whole for the next query', async () => {
  const c = counted();
  // Budget 150 bytes: each page is 5 x 60 = 300, so every query returns exactly one page.
  const read = pgPendingReads(c.pool, { queryBytes: 150 });
  const pages = await Promise.all(USERS.slice(0, 4).map((u) => read(u, 0, 10)));
  expect(pages.map((p) => p.map((e) => e.id))).toEqual(USERS.slice(0, 4).map((u) => ids.get(u)));
  expect(c.queries()).toBe(4);
  // Byte-bounded pages (the hub's per-connection bound) within a query: two rows of 60 each under 100.
  const bounded = pgPendingReads(counted().pool);
  expect((await Promise.all([bounded('r1', 0, 10, 100), bounded('r2', 0, 10, 61), bounded('nobody', 0, 10)])).map((p) => p.length)).toEqual([2, 2, 0]);
});

test('reads past the per-query count go out as further queries in the same turn', async () => {
  const c = counted();
  const read = pgPendingReads(c.pool, { readsPerQuery: 4 });
  const pages = await Promise.all(USERS.map((u) => read(u, 0, 1)));
  expect(c.queries()).toBe(3);
  expect(pages.map((p) => p[0]!.id)).toEqual(USERS.map((u) => ids.get(u)![0]));
});

test('a failed query rejects every read in it; the next turn reads again', async () => {
  const broken = pgPendingReads(counted(true).pool);
  const results = await Promise.allSettled([broken('r0', 0, 10), broken('r1', 0, 10)]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect((await pgPendingReads(counted().pool)('r0', 0, 10)).length).toBe(5);
});
