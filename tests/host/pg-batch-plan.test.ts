/**
 * The PostgreSQL group commit stays an index lookup per insert however the mailbox table grows
 * (README "Several host instances"; pg/schema.ts v3). PL/pgSQL caches the plans of a function's
 * statements per connection and, after five calls, may keep a GENERIC plan made while
 * `envelopes` was small: it read the whole table for every insert's `before` and every ack, so
 * batches slowed with the table (2.6 s for 4,000 envelopes on 20,000 rows, 10 s for 8,000) and
 * the ones behind them queued. This test makes the connection's plans while the table is small,
 * grows it, and counts the rows one batch reads sequentially from `envelopes` in its own
 * transaction (pg_stat_xact_user_tables: exact, no statistics delay).
 */
import { expect, test } from 'vitest';
import pg from 'pg';
import { openPgStore } from '../../src/host/storage/pg/store';
import { postgresPerFile } from '../support/postgres-per-file';

const QUOTA = { maxCount: 1_000_000, maxBytes: 1e12, senderMaxCount: 1e9, senderMaxBytes: 1e12 };
const USERS = Array.from({ length: 200 }, (_, i) => `u${i}`);
const BATCH =
  'SELECT count(*)::integer AS n FROM parley_mailbox_batch($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::bytea, $6::text[], $7::bigint[], $8::integer[], 1000000, 1000000000000, 1000000000, 1000000000000, NULL, $9)';

const cluster = postgresPerFile({ fsync: false });

/** One call of the batch function on `c`: `n` inserts of 64 bytes and acks of `ackIds`. */
async function batch(c: pg.Client, n: number, ackIds: number[] = []): Promise<void> {
  const recipients = Array.from({ length: n }, (_, i) => USERS[i % USERS.length]!);
  await c.query(BATCH, [recipients, recipients.map(() => 'x'), recipients.map(() => 1), recipients.map(() => 64), Buffer.alloc(64 * n, 7), ackIds.map(() => 'u0'), ackIds, ackIds.map((_, i) => i), 'test']);
}

test('a mailbox batch reads no envelope rows sequentially once the table has grown: it is planned per call, not on a plan the small table made', async () => {
  const url = await cluster.createDatabase();
  const store = await openPgStore(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Plans made while the table holds a few rows: ten calls, past PL/pgSQL's five custom plans.
    for (let i = 0; i < 10; i++) await batch(c, 4);
    // The table grows (through the store's own connections).
    for (let i = 0; i < 10; i++) await store.applyMailboxBatch(USERS.flatMap((u) => Array.from({ length: 3 }, () => ({ recipient: u, sender: 'y', receivedAt: 2, body: new Uint8Array(64) }))), [], QUOTA);
    const rows = (await c.query<{ n: string }>('SELECT count(*) AS n FROM envelopes')).rows[0]!.n;
    expect(Number(rows)).toBeGreaterThan(6000);
    const acks = (await c.query<{ id: string }>("SELECT id FROM envelopes WHERE recipient = 'u0' ORDER BY id LIMIT 5")).rows.map((r) => Number(r.id));

    // The counters of this connection not yet flushed, read before and after inside one transaction.
    const seqRead = async () => Number((await c.query<{ seq: string | null }>("SELECT seq_tup_read AS seq FROM pg_stat_xact_user_tables WHERE relname = 'envelopes'")).rows[0]?.seq ?? 0);
    await c.query('BEGIN');
    const before = await seqRead();
    await batch(c, 100, acks);
    const read = (await seqRead()) - before;
    await c.query('COMMIT');
    // A generic plan's sequential scans would read the table about once per insert: ~600,000 rows.
    expect(read).toBeLessThan(1000);
    expect((await c.query("SELECT count(*)::integer AS n FROM envelopes WHERE id = ANY ($1::bigint[])", [acks])).rows[0].n).toBe(0);
  } finally {
    await c.end();
    await (store as { close?: () => Promise<void> }).close?.();
  }
});
