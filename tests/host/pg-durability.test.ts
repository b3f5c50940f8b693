/**
 * P34 on PostgreSQL: a batch the store confirmed is in the database after the database crashed
 * under load (every server process SIGKILLed at once, then recovery from the WAL), with the
 * mailbox usage still matching the envelopes (one transaction). The store's pool reconnects by
 * itself once the server is back. A real server with fsync on, as in production.
 */
import { describe, expect, test } from 'vitest';
import pg from 'pg';
import { openPgStore } from '../../src/host/storage/pg/store';
import type { HostStore } from '../../src/host/storage/port';
import { postgresPerFile } from '../support/postgres-per-file';

const QUOTA = { maxCount: 1_000_000, maxBytes: 1e12, senderMaxCount: 1e9, senderMaxBytes: 1e12 };
const USERS = ['u0', 'u1', 'u2', 'u3'];

describe('PostgreSQL store across a database crash', () => {
  const cluster = postgresPerFile({ fsync: true });

  test('P34 every confirmed envelope survives a crash of the database under load; the store reconnects', async () => {
    const url = await cluster.createDatabase();
    const stores: HostStore[] = [await openPgStore(url), await openPgStore(url)];
    for (const u of USERS) {
      await stores[0]!.createAccount({
        username: u,
        identity: new Uint8Array(131),
        createdAt: 0,
        preKeys: { signedPreKey: { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }, oneTimePreKeys: [], kemPreKeys: [] }
      });
    }
    const confirmed = new Map<number, number>(); // id -> body tag
    let failures = 0;
    let running = true;
    let tag = 0;
    // Eight producers on two instances, each with one batch outstanding at a time.
    const producer = async (p: number) => {
      const s = stores[p % 2]!;
      while (running) {
        const tags = [tag++, tag++, tag++];
        const inserts = tags.map((t) => ({ recipient: USERS[t % USERS.length]!, sender: 'x', receivedAt: t, body: new Uint8Array(64).fill(t % 251) }));
        try {
          const { ids } = await s.applyMailboxBatch(inserts, [], QUOTA);
          ids.forEach((id, i) => confirmed.set(id as number, tags[i]!));
        } catch {
          failures++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const producers = Array.from({ length: 8 }, (_, p) => producer(p));
    while (confirmed.size < 600) await new Promise((r) => setTimeout(r, 10));
    await cluster.crash();
    const atCrash = new Map(confirmed);
    await cluster.start();
    // Producers keep going through the restart; the pools must recover without help.
    const resumeFrom = confirmed.size;
    const deadline = Date.now() + 30_000;
    while (confirmed.size < resumeFrom + 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    running = false;
    await Promise.all(producers);
    expect(failures).toBeGreaterThan(0); // the crash was felt
    expect(confirmed.size).toBeGreaterThanOrEqual(resumeFrom + 300);

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = (await c.query<{ id: string; received_at: string; body: Buffer }>('SELECT id, received_at, body FROM envelopes')).rows;
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const lost = [...atCrash.keys()].filter((id) => !byId.has(id));
    expect(lost).toEqual([]);
    for (const [id, t] of confirmed) {
      const r = byId.get(id)!;
      expect(Number(r.received_at)).toBe(t);
      expect(r.body.equals(Buffer.alloc(64, t % 251))).toBe(true);
    }
    const usage = (await c.query<{ username: string; envelopes: number }>('SELECT username, envelopes FROM mailbox_usage ORDER BY username')).rows;
    const counts = (await c.query<{ recipient: string; n: number }>('SELECT recipient, count(*)::integer AS n FROM envelopes GROUP BY recipient ORDER BY recipient')).rows;
    expect(usage.map((u) => [u.username, u.envelopes])).toEqual(counts.map((r) => [r.recipient, r.n]));
    await c.end();
    for (const s of stores) await s.close();
  });

  test('P34 a database that acknowledges commits before flushing them (synchronous_commit = off) is refused', async () => {
    const url = await cluster.createDatabase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`ALTER DATABASE ${pg.escapeIdentifier(new URL(url).pathname.slice(1))} SET synchronous_commit = off`);
    await c.end();
    await expect(openPgStore(url)).rejects.toThrow(/synchronous_commit is off/);
  });
});
