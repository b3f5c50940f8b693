/**
 * Mailbox half of the PostgreSQL HostStore (port.ts; DESIGN.md §5 "Delivery").
 *
 * Group commit: each batch is ONE call of `parley_mailbox_batch` (schema.ts), so one round trip
 * and one commit (one WAL flush) carry every insert and ack of an event-loop tick. This process
 * sends its batches one after another, so they commit in call order, as the SQLite writer does;
 * PostgreSQL groups the WAL flushes of concurrent instances by itself. A batch that hit a
 * deadlock (impossible between batches, which lock in one order, but a sweep or an operator's
 * statement might) rolled back entirely and is run again. Any other failure rejects the batch;
 * a full disk (SQLSTATE 53100) as StorageFullError (P40). With a `notify` channel the batch
 * NOTIFYs the mailboxes it wrote on commit (pg/bus.ts). The retention sweep runs in bounded
 * chunks, each locking only the mailboxes it touches, in the batches' order (P40).
 * Knows nothing of sockets, tokens, or what is inside an envelope.
 */
import type pg from 'pg';
import type { HostStore, StoreBatchResult } from '../port';
import { inTransaction, storageError } from './client';
import { sweepFailed } from '../types';
import { pgPendingReads } from './pending-reads';

type Mailbox = Pick<HostStore, 'applyMailboxBatch' | 'pendingEnvelopes' | 'mailboxUsage' | 'sweep'> & {
  /** Resolves when every batch handed in so far has settled. */
  idle(): Promise<void>;
};

export interface MailboxNotify {
  /** LISTEN channel of the instances (pg/bus.ts). */
  channel: string;
  /** This instance's id, first word of each payload, so it can skip its own. */
  origin: string;
}

interface BatchRow {
  kind: 'i' | 'a';
  idx: number;
  id: number | null;
  refusal: 'count' | 'bytes' | 'senderCount' | 'senderBytes' | null;
  n: number | null;
  bytes: number | null;
  before: number | null;
}

const BATCH_SQL =
  'SELECT kind, idx, id, refusal, n, bytes, before FROM parley_mailbox_batch($1::text[], $2::text[], $3::bigint[], $4::integer[], $14::bytea, $5::text[], $6::bigint[], $7::integer[], $8::integer, $9::bigint, $10::integer, $11::bigint, $12::text, $13::text)';

/** Envelope rows per sweep transaction (limits.ts sweepChunk). */
const SWEEP_CHUNK = 1000;

/** `writers`: the pool batches run on, apart from `pool`'s reads and sweeps. */
export function pgMailbox(pool: pg.Pool, writers: pg.Pool, notify?: MailboxNotify, sweepChunk = SWEEP_CHUNK): Mailbox {
  let tail: Promise<unknown> = Promise.resolve();

  async function runBatch(values: unknown[]): Promise<BatchRow[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await writers.query<BatchRow>({ name: 'mailbox-batch', text: BATCH_SQL, values })).rows;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw storageError(e);
      }
    }
  }

  /** One chunk: at most `sweepChunk` of the oldest expired envelopes, in one transaction. */
  const sweepOne = (before: number) =>
    inTransaction(pool, async (c) => {
      const victims = await c.query<{ id: number; recipient: string }>('SELECT id, recipient FROM envelopes WHERE received_at < $1 ORDER BY id LIMIT $2', [before, sweepChunk]);
      if (victims.rowCount === 0) return { seen: 0, deleted: 0 };
      const ids = victims.rows.map((r) => r.id);
      // The mailboxes first, in the batches' order, so a sweep never deadlocks with a batch.
      await c.query('SELECT 1 FROM mailbox_usage WHERE username = ANY ($1::text[]) ORDER BY username FOR UPDATE', [[...new Set(victims.rows.map((r) => r.recipient))]]);
      const r = await c.query<{ deleted: number }>(
        `WITH gone AS (DELETE FROM envelopes WHERE id = ANY ($1::bigint[]) AND received_at < $2 RETURNING recipient, sender, octet_length(body)::bigint AS len),
              d AS (SELECT recipient, count(*)::integer AS n, sum(len)::bigint AS b FROM gone GROUP BY recipient),
              ds AS (SELECT recipient, sender, count(*)::integer AS n, sum(len)::bigint AS b FROM gone GROUP BY recipient, sender),
              u AS (UPDATE mailbox_usage AS m SET envelopes = m.envelopes - d.n, bytes = m.bytes - d.b FROM d WHERE m.username = d.recipient RETURNING 1),
              us AS (UPDATE mailbox_sender_usage AS m SET envelopes = m.envelopes - ds.n, bytes = m.bytes - ds.b FROM ds
                      WHERE m.username = ds.recipient AND m.sender = ds.sender RETURNING 1)
         SELECT coalesce(sum(n), 0)::integer AS deleted FROM d`,
        [ids, before]
      );
      return { seen: victims.rowCount ?? 0, deleted: r.rows[0]!.deleted };
    });

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
        inserts.map((e) => e.body.length),
        ackUsers,
        ackIds,
        ackInputs,
        quota.maxCount,
        quota.maxBytes,
        quota.senderMaxCount,
        quota.senderMaxBytes,
        notify?.channel ?? null,
        notify?.origin ?? '',
        Buffer.concat(inserts.map((e) => e.body))
      ];
      const run = tail.then(
        () => runBatch(values),
        () => runBatch(values)
      );
      tail = run.catch(() => undefined);
      return run.then((rows): StoreBatchResult => {
        const ids: StoreBatchResult['ids'] = new Array(inserts.length);
        const before: number[] = new Array(inserts.length).fill(0);
        const acked = acks.map(() => ({ count: 0, bytes: 0 }));
        for (const r of rows) {
          if (r.kind === 'i') {
            ids[r.idx - 1] = r.id ?? r.refusal!;
            before[r.idx - 1] = r.before ?? 0;
          } else acked[r.idx] = { count: r.n!, bytes: r.bytes! };
        }
        if (ids.some((v) => v === undefined)) throw new Error('mailbox batch returned fewer rows than inserts');
        return { ids, acked, before };
      });
    },

    pendingEnvelopes: pgPendingReads(pool),

    async mailboxUsage(username) {
      const r = await pool.query<{ envelopes: number; bytes: number }>({ name: 'usage', text: 'SELECT envelopes, bytes FROM mailbox_usage WHERE username = $1', values: [username] });
      const u = r.rows[0];
      return { count: u?.envelopes ?? 0, bytes: u?.bytes ?? 0 };
    },

    async sweep(before, now) {
      let n = 0;
      try {
        for (;;) {
          const d = await sweepOne(before);
          n += d.deleted;
          if (d.seen < sweepChunk) break;
        }
        await pool.query('DELETE FROM tokens WHERE expires_at <= $1', [now]);
        await pool.query('DELETE FROM challenges WHERE expires_at <= $1', [now]);
        await pool.query('DELETE FROM rate_windows WHERE started_at + window_ms <= $1', [now]);
      } catch (e) {
        throw sweepFailed(storageError(e), n);
      }
      return n;
    },

    idle: () => tail.then(() => undefined)
  };
}
