/**
 * Mailbox half of the PostgreSQL HostStore (port.ts; DESIGN.md §5 "Delivery").
 *
 * Group commit: each batch is ONE call of `parley_mailbox_batch` (schema.ts), so one round trip
 * and one commit (one WAL flush) carry every insert and ack of an event-loop tick. This process
 * sends its batches one after another, so they commit in call order, as the SQLite writer does;
 * PostgreSQL groups the WAL flushes of concurrent instances by itself. A batch that hit a
 * deadlock (impossible between batches, which lock in one order, but a sweep or an operator's
 * statement might) rolled back entirely and is run again. Any other failure rejects the batch.
 * Knows nothing of sockets, tokens, or what is inside an envelope.
 */
import type pg from 'pg';
import type { HostStore, StoreBatchResult } from '../port';
import { bytes, inTransaction } from './client';

type Mailbox = Pick<HostStore, 'applyMailboxBatch' | 'pendingEnvelopes' | 'mailboxUsage' | 'sweep'> & {
  /** Resolves when every batch handed in so far has settled. */
  idle(): Promise<void>;
};

interface BatchRow {
  kind: 'i' | 'a';
  idx: number;
  id: number | null;
  refusal: 'count' | 'bytes' | null;
  n: number | null;
  bytes: number | null;
}

const BATCH_SQL = 'SELECT kind, idx, id, refusal, n, bytes FROM parley_mailbox_batch($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::text[], $6::bigint[], $7::integer[], $8::integer, $9::bigint)';

export function pgMailbox(pool: pg.Pool): Mailbox {
  let tail: Promise<unknown> = Promise.resolve();

  async function runBatch(values: unknown[]): Promise<BatchRow[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await pool.query<BatchRow>({ name: 'mailbox-batch', text: BATCH_SQL, values })).rows;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw e;
      }
    }
  }

  return {
    applyMailboxBatch(inserts, acks, quota) {
      const ackUsers: string[] = [];
      const ackIds: number[] = [];
      const ackInputs: number[] = [];
      acks.forEach((a, k) => {
        for (const id of a.ids) {
          ackUsers.push(a.username);
          ackIds.push(id);
          ackInputs.push(k);
        }
      });
      const values = [
        inserts.map((e) => e.recipient),
        inserts.map((e) => e.sender),
        inserts.map((e) => e.receivedAt),
        inserts.map((e) => e.body),
        ackUsers,
        ackIds,
        ackInputs,
        quota.maxCount,
        quota.maxBytes
      ];
      const run = tail.then(
        () => runBatch(values),
        () => runBatch(values)
      );
      tail = run.catch(() => undefined);
      return run.then((rows): StoreBatchResult => {
        const ids: StoreBatchResult['ids'] = new Array(inserts.length);
        const acked = acks.map(() => ({ count: 0, bytes: 0 }));
        for (const r of rows) {
          if (r.kind === 'i') ids[r.idx - 1] = r.id ?? r.refusal!;
          else acked[r.idx] = { count: r.n!, bytes: r.bytes! };
        }
        if (ids.some((v) => v === undefined)) throw new Error('mailbox batch returned fewer rows than inserts');
        return { ids, acked };
      });
    },

    async pendingEnvelopes(username, afterId, limit) {
      const r = await pool.query<{ id: number; sender: string; received_at: number; body: Buffer }>({
        name: 'pending',
        text: 'SELECT id, sender, received_at, body FROM envelopes WHERE recipient = $1 AND id > $2 ORDER BY id LIMIT $3',
        values: [username, afterId, limit]
      });
      return r.rows.map((row) => ({ id: row.id, recipient: username, sender: row.sender, receivedAt: row.received_at, body: bytes(row.body) }));
    },

    async mailboxUsage(username) {
      const r = await pool.query<{ envelopes: number; bytes: number }>({ name: 'usage', text: 'SELECT envelopes, bytes FROM mailbox_usage WHERE username = $1', values: [username] });
      const u = r.rows[0];
      return { count: u?.envelopes ?? 0, bytes: u?.bytes ?? 0 };
    },

    sweep: (before, now) =>
      inTransaction(pool, async (c) => {
        // The mailboxes first, in the batches' order, so a sweep never deadlocks with a batch.
        await c.query(
          `SELECT 1 FROM mailbox_usage WHERE username IN (SELECT recipient FROM envelopes WHERE received_at < $1)
           ORDER BY username FOR UPDATE`,
          [before]
        );
        const r = await c.query<{ deleted: number }>(
          `WITH gone AS (DELETE FROM envelopes WHERE received_at < $1 RETURNING recipient, octet_length(body) AS len),
                d AS (SELECT recipient, count(*)::integer AS n, sum(len)::bigint AS b FROM gone GROUP BY recipient),
                u AS (UPDATE mailbox_usage AS m SET envelopes = m.envelopes - d.n, bytes = m.bytes - d.b FROM d WHERE m.username = d.recipient RETURNING 1)
           SELECT coalesce(sum(n), 0)::integer AS deleted FROM d`,
          [before]
        );
        await c.query('DELETE FROM tokens WHERE expires_at <= $1', [now]);
        await c.query('DELETE FROM challenges WHERE expires_at <= $1', [now]);
        await c.query('DELETE FROM rate_windows WHERE started_at + window_ms <= $1', [now]);
        return r.rows[0]!.deleted;
      }),

    idle: () => tail.then(() => undefined)
  };
}
