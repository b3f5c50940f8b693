/**
 * Replay page reads on PostgreSQL, coalesced (port.ts `pendingEnvelopes`; DESIGN.md §5).
 *
 * With several instances, every batch another instance commits arrives as a NOTIFY naming its
 * mailboxes, and each connection of those mailboxes here reads its page (hub.ts). One query per
 * connection made those reads most of PostgreSQL's work under load. Reads asked for in the same
 * event-loop turn now go out as ONE query (a LATERAL page per mailbox), the way the writer
 * groups inserts and acks into one batch.
 *
 * Every caller still gets exactly the page it asked for: at most `limit` rows after its cursor,
 * and rows only while the bytes before them are under its `maxBytes` (P40), so the hub's rule
 * "a short page means caught up" holds. Memory stays bounded per query too: pages are kept, in
 * the order asked, while the bytes of the pages before them stay under `queryBytes`; a page that
 * starts past that is not returned but asked again in the next query (never cut short), so one
 * query holds at most `queryBytes` plus one page. A failed query rejects all its callers (the hub
 * reads again later; nothing is lost). The cost of that bound: a deferred page is computed again
 * by the next query, so a burst of many mailboxes that each hold a full page (a mass reconnect
 * after an outage) reads each page up to 32 times (256 mailboxes per query, pages of up to 1 MiB
 * by limits.ts redeliveryPageBytes, 8 MiB per query) in
 * the worst case; a mailbox with a few envelopes waiting, the common case, is read once.
 * Knows nothing of sockets or of who is connected.
 */
import type pg from 'pg';
import type { StoredEnvelope } from '../types';
import { bytes } from './client';

interface Read {
  username: string;
  afterId: number;
  limit: number;
  maxBytes: number;
  resolve(rows: StoredEnvelope[]): void;
  reject(e: unknown): void;
}

interface PageRow {
  ord: string;
  id: number | null;
  sender: string | null;
  received_at: number | null;
  body: Buffer | null;
}

/** Mailboxes per query: bounds the query's arrays and its planning. */
export const READS_PER_QUERY = 256;
/** Bytes of earlier pages past which a query returns no further page (see the header). */
export const QUERY_BYTES = 8 * 1024 * 1024;

const PAGES_SQL = `
  WITH q AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::bigint[]) WITH ORDINALITY AS q(username, after_id, lim, max_bytes, ord)
  ), pages AS (
    SELECT q.ord, p.id, p.sender, p.received_at, p.body, p.len FROM q CROSS JOIN LATERAL (
      SELECT id, sender, received_at, body, len FROM (
        SELECT id, sender, received_at, body, octet_length(body) AS len,
               coalesce(sum(octet_length(body)) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ahead
          FROM (SELECT id, sender, received_at, body FROM envelopes WHERE recipient = q.username AND id > q.after_id ORDER BY id LIMIT q.lim) AS page
      ) AS w WHERE ahead < q.max_bytes
    ) AS p
  ), totals AS (
    SELECT ord, coalesce(sum(sum(len)) OVER (ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before FROM pages GROUP BY ord
  )
  SELECT p.ord, p.id, p.sender, p.received_at, p.body FROM pages AS p JOIN totals AS t USING (ord) WHERE t.before < $5
  UNION ALL
  SELECT t.ord, NULL, NULL, NULL, NULL FROM totals AS t WHERE t.before >= $5
  ORDER BY 1, 2`;

export function pgPendingReads(pool: pg.Pool, o: { readsPerQuery?: number; queryBytes?: number } = {}) {
  const perQuery = o.readsPerQuery ?? READS_PER_QUERY;
  const queryBytes = o.queryBytes ?? QUERY_BYTES;
  let queued: Read[] = [];
  let scheduled = false;

  async function run(reads: Read[]): Promise<void> {
    let rows: PageRow[];
    try {
      rows = (
        await pool.query<PageRow>({
          name: 'pending-pages',
          text: PAGES_SQL,
          values: [reads.map((r) => r.username), reads.map((r) => r.afterId), reads.map((r) => r.limit), reads.map((r) => r.maxBytes), queryBytes]
        })
      ).rows;
    } catch (e) {
      for (const r of reads) r.reject(e);
      return;
    }
    const pages = reads.map((): StoredEnvelope[] | undefined => []);
    for (const row of rows) {
      const k = Number(row.ord) - 1;
      const read = reads[k]!;
      if (row.id === null) pages[k] = undefined;
      else pages[k]!.push({ id: row.id, recipient: read.username, sender: row.sender!, receivedAt: row.received_at!, body: bytes(row.body!) });
    }
    reads.forEach((r, k) => {
      const page = pages[k];
      if (page) r.resolve(page);
      else enqueue(r, true);
    });
  }

  function flush(): void {
    scheduled = false;
    const all = queued;
    queued = [];
    for (let i = 0; i < all.length; i += perQuery) void run(all.slice(i, i + perQuery));
  }

  /** `first`: a read a query deferred goes ahead of later ones, so none waits forever. */
  function enqueue(r: Read, first = false): void {
    if (first) queued.unshift(r);
    else queued.push(r);
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  return (username: string, afterId: number, limit: number, maxBytes = Infinity): Promise<StoredEnvelope[]> =>
    new Promise((resolve, reject) =>
      enqueue({ username, afterId, limit, maxBytes: Number.isFinite(maxBytes) ? maxBytes : Number.MAX_SAFE_INTEGER, resolve, reject })
    );
}
