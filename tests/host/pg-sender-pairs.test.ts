/**
 * §9 (a breach of the host's database) on PostgreSQL: once a mailbox is acked empty, no row names
 * who wrote to it. Before schema v4 every unsealed sender's share of a mailbox (P40) stayed in
 * `mailbox_sender_usage` as a zero row for good, so a dump listed every (recipient, sender) pair
 * that ever exchanged an unsealed envelope; now a mailbox keeps shares only while it could pass
 * one (pg/schema.ts v4) and drops them when it empties, and the migration to v4 drops the old rows.
 */
import { expect, test } from 'vitest';
import pg from 'pg';
import { openPgStore } from '../../src/host/storage/pg/store';
import { HOST_MIGRATIONS, HOST_SCHEMA_TRACK } from '../../src/host/storage/pg/schema';
import { createPool, migrate } from '../../src/host/storage/pg/client';
import { postgresPerFile } from '../support/postgres-per-file';

const cluster = postgresPerFile({ fsync: false });
const envelope = (recipient: string, sender: string) => ({ recipient, sender, receivedAt: 1, body: new Uint8Array(32).fill(5) });
const key = (n: number, len = 32) => new Uint8Array(len).fill(n);
const account = (username: string) => ({
  username,
  identity: key(9, 131),
  createdAt: 1,
  preKeys: {
    signedPreKey: { id: 1, publicKey: key(1), signature: key(2, 64) },
    oneTimePreKeys: [],
    kemPreKeys: [{ id: 1, publicKey: key(7, 1184), lastResort: true, signature: key(3, 64) }]
  }
});

/** Every row of every table in the database, as text: what a dump holds. */
async function dump(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.t);
    const rows: string[] = [];
    for (const t of tables) rows.push(...(await c.query(`SELECT * FROM "${t}"`)).rows.map((r) => `${t}: ${JSON.stringify(r)}`));
    return rows.join('\n');
  } finally {
    await c.end();
  }
}

test('§9 P40 after a mailbox is emptied no row pairs its owner with who wrote to it, even one whose shares were kept', async () => {
  const url = await cluster.createDatabase();
  const store = await openPgStore(url);
  try {
    for (const u of ['bob', 'carol']) await store.createAccount(account(u));
    // Small: bob's mailbox never needs shares. Large (share of 2): carol's keeps them for a while.
    const loose = { maxCount: 100, maxBytes: 1e9, senderMaxCount: 50, senderMaxBytes: 1e9 };
    const tight = { maxCount: 100, maxBytes: 1e9, senderMaxCount: 2, senderMaxBytes: 1e9 };
    const a = await store.applyMailboxBatch([envelope('bob', 'zed-writes'), envelope('bob', 'zed-writes')], [], loose);
    const b = await store.applyMailboxBatch([envelope('carol', 'yan-writes'), envelope('carol', 'xia-writes'), envelope('carol', 'yan-writes')], [], tight);
    expect(await dump(url)).toContain('yan-writes'); // waiting envelopes name their sender (unsealed), as they must
    const ids = (r: { ids: (number | string)[] }) => r.ids.filter((x): x is number => typeof x === 'number');
    await store.applyMailboxBatch([], [{ username: 'bob', ids: ids(a) }, { username: 'carol', ids: ids(b) }], loose);
    const after = await dump(url);
    for (const sender of ['zed-writes', 'yan-writes', 'xia-writes']) expect(after).not.toContain(sender);
  } finally {
    await store.close();
  }
});

test('§9 the migration to v4 drops the pairs v2 and v3 kept', async () => {
  const url = await cluster.createDatabase();
  // A v3 database through v3's own batch function: a mailbox written and acked empty.
  const pool = createPool(url, { max: 1 });
  try {
    await migrate(pool, HOST_SCHEMA_TRACK, HOST_MIGRATIONS.slice(0, 3));
    const call = `SELECT kind, id FROM parley_mailbox_batch($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::bytea, $6::text[], $7::bigint[], $8::integer[], 100, 1000000000, 50, 1000000000, NULL, 'test')`;
    const stored = await pool.query<{ id: string }>(call, [['dan'], ['wu-writes'], [1], [32], Buffer.alloc(32, 5), [], [], []]);
    await pool.query(call, [[], [], [], [], Buffer.alloc(0), ['dan'], [Number(stored.rows[0]!.id)], [0]]);
    expect(await dump(url)).toContain('wu-writes');
  } finally {
    await pool.end();
  }
  const store = await openPgStore(url);
  try {
    expect(await dump(url)).not.toContain('wu-writes');
  } finally {
    await store.close();
  }
});
