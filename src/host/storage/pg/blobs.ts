/**
 * Attachment blobs on PostgreSQL (blob-port.ts; README "Attachments"), so an upload begun through
 * one host instance resumes through another and every instance serves it. Own migration track
 * (`parley_blobs_schema`). Metadata is one row per blob; the bytes are one `bytea` row per
 * uploaded part (at most MAX_PART_BYTES), keyed by its offset, stored EXTERNAL (ciphertext does
 * not compress, and an uncompressed TOAST value is read by slices, so a range request fetches
 * only the parts' bytes it needs).
 *
 * A part is appended in one transaction that locks the blob's row, checks the offset against
 * `received`, inserts the part and moves `received`: an instance killed mid-part leaves nothing of
 * it (the uploader asks any instance where the blob is and sends it again), and two instances
 * appending to one blob are serialised by the row lock (P34 for uploads: what was answered is
 * stored). Release hashes (blob-port.ts) are rows of `attachment_releases` (a later migration); a
 * release locks the blob's row too, so two releases of its last two hashes, on two instances,
 * are serialised and exactly one sees the list empty and deletes the blob; the uploader adding
 * hashes later (`addReleases`) takes the same lock, so it cannot race a release deleting the
 * blob. Deleting a blob deletes its parts and release rows (ON DELETE CASCADE); the sweep
 * deletes in small batches so it never holds many locks. As owned-blobs.ts says, PostgreSQL does not scrub deleted
 * bytes from disk until its pages and WAL segments are reused. Knows nothing of what a blob holds.
 */
import type pg from 'pg';
import { MAX_BLOB_RELEASES } from '../../../lib/wire/blob-api';
import { BlobOffsetError, checkedHash, checkedReleases, type BlobRecord, type BlobStore } from '../blob-port';
import { inTransaction, migrate } from './client';

export const BLOBS_SCHEMA_TRACK = 'parley_blobs_schema';
export const PG_BLOB_MIGRATIONS: readonly string[] = [
  `CREATE TABLE attachment_blobs (
     id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
     owner text NOT NULL,
     size bigint NOT NULL CHECK (size > 0),
     received bigint NOT NULL CHECK (received >= 0 AND received <= size),
     created_at bigint NOT NULL
   );
   CREATE INDEX attachment_blobs_created ON attachment_blobs (created_at);
   CREATE INDEX attachment_blobs_pending ON attachment_blobs (owner) WHERE received < size;
   CREATE TABLE attachment_parts (
     id text NOT NULL REFERENCES attachment_blobs (id) ON DELETE CASCADE,
     start_at bigint NOT NULL,
     bytes bytea NOT NULL,
     PRIMARY KEY (id, start_at)
   );
   ALTER TABLE attachment_parts ALTER COLUMN bytes SET STORAGE EXTERNAL;`,
  `CREATE TABLE attachment_releases (
     id text NOT NULL REFERENCES attachment_blobs (id) ON DELETE CASCADE,
     hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
     PRIMARY KEY (id, hash)
   );`
];

/** Blobs deleted per sweep statement. */
const SWEEP_BATCH = 100;

function checkedId(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`blob id of ${id.length} characters is not 32 hex digits`);
  return id;
}

type Row = { id: string; owner: string; size: number; received: number; created_at: number };
const toRecord = (r: Row): BlobRecord => ({ id: r.id, owner: r.owner, size: r.size, received: r.received, createdAt: r.created_at });

/** The store on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgBlobs(pool: pg.Pool): Promise<BlobStore> {
  await migrate(pool, BLOBS_SCHEMA_TRACK, PG_BLOB_MIGRATIONS);
  return {
    async create(id, owner, size, now, releases) {
      checkedReleases(releases);
      await inTransaction(pool, async (c) => {
        await c.query('INSERT INTO attachment_blobs (id, owner, size, received, created_at) VALUES ($1, $2, $3, 0, $4)', [checkedId(id), owner, size, now]);
        if (releases.length > 0) await c.query('INSERT INTO attachment_releases (id, hash) SELECT $1, unnest($2::text[])', [id, releases]);
      });
    },
    async get(id) {
      const r = await pool.query<Row>('SELECT id, owner, size, received, created_at FROM attachment_blobs WHERE id = $1', [checkedId(id)]);
      return r.rows[0] ? toRecord(r.rows[0]) : undefined;
    },
    async pending(owner) {
      const r = await pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM attachment_blobs WHERE owner = $1 AND received < size', [owner]);
      return r.rows[0]!.n;
    },
    append(id, offset, part) {
      return inTransaction(pool, async (c) => {
        const r = await c.query<Row>('SELECT size, received FROM attachment_blobs WHERE id = $1 FOR UPDATE', [checkedId(id)]);
        const row = r.rows[0];
        if (!row) throw new Error('no such blob');
        if (offset !== row.received) throw new BlobOffsetError(row.received);
        if (offset + part.length > row.size) throw new RangeError(`part ends at ${offset + part.length}, past the blob's ${row.size} bytes`);
        await c.query('INSERT INTO attachment_parts (id, start_at, bytes) VALUES ($1, $2, $3)', [id, offset, part]);
        await c.query('UPDATE attachment_blobs SET received = $2 WHERE id = $1', [id, offset + part.length]);
        return offset + part.length;
      });
    },
    async read(id, start, end) {
      // Each overlapping part contributes the slice inside [start, end); substring of an
      // EXTERNAL value reads only that slice.
      const r = await pool.query<{ part: Buffer }>(
        `SELECT substring(bytes FROM (greatest($2 - start_at, 0) + 1)::integer FOR (least($3, start_at + length(bytes)) - greatest($2, start_at))::integer) AS part
         FROM attachment_parts WHERE id = $1 AND start_at < $3 AND start_at + length(bytes) > $2 ORDER BY start_at`,
        [checkedId(id), start, end]
      );
      const out = new Uint8Array(end - start);
      let at = 0;
      for (const { part } of r.rows) {
        if (at + part.length > out.length) throw new Error(`blob parts overlap at ${start + at}`);
        out.set(part, at);
        at += part.length;
      }
      if (at !== out.length) throw new Error(`blob parts end at ${start + at}, expected ${end}`);
      return out;
    },
    async release(id, hash) {
      checkedId(id);
      checkedHash(hash);
      return inTransaction(pool, async (c) => {
        const r = await c.query<Row>('SELECT size, received FROM attachment_blobs WHERE id = $1 FOR UPDATE', [id]);
        const row = r.rows[0];
        if (!row) return false;
        const struck = await c.query('DELETE FROM attachment_releases WHERE id = $1 AND hash = $2', [id, hash]);
        if (struck.rowCount !== 1 || row.received < row.size) return false;
        const left = await c.query('SELECT 1 FROM attachment_releases WHERE id = $1 LIMIT 1', [id]);
        if (left.rowCount !== 0) return false;
        await c.query('DELETE FROM attachment_blobs WHERE id = $1', [id]);
        return true;
      });
    },
    async addReleases(id, owner, releases) {
      checkedId(id);
      checkedReleases(releases);
      return inTransaction(pool, async (c) => {
        // The row lock, as a release takes it: a release deleting the blob either went first (no
        // row: 'missing') or waits and then sees the added hashes.
        const r = await c.query<{ owner: string }>('SELECT owner FROM attachment_blobs WHERE id = $1 FOR UPDATE', [id]);
        const row = r.rows[0];
        if (!row || row.owner !== owner) return 'missing';
        const listed = new Set((await c.query<{ hash: string }>('SELECT hash FROM attachment_releases WHERE id = $1', [id])).rows.map((h) => h.hash));
        const fresh = releases.filter((h) => !listed.has(h));
        if (listed.size + fresh.length > MAX_BLOB_RELEASES) return 'tooMany';
        if (fresh.length > 0) await c.query('INSERT INTO attachment_releases (id, hash) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [id, fresh]);
        return 'added';
      });
    },
    async remove(id, owner) {
      // One statement: its row lock waits for an append or release holding the blob, and the
      // cascade takes the parts and release rows.
      const r = await pool.query('DELETE FROM attachment_blobs WHERE id = $1 AND owner = $2', [checkedId(id), owner]);
      return r.rowCount === 1;
    },
    async sweep(before, incompleteBefore) {
      let deleted = 0;
      for (;;) {
        const r = await pool.query(
          `DELETE FROM attachment_blobs WHERE id IN (
             SELECT id FROM attachment_blobs WHERE created_at < $1 OR (received < size AND created_at < $2) LIMIT ${SWEEP_BATCH}
             FOR UPDATE SKIP LOCKED)`,
          [before, incompleteBefore]
        );
        deleted += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < SWEEP_BATCH) return deleted;
      }
    },
    close: async () => undefined
  };
}
