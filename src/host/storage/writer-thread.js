// @ts-check
/**
 * The mailbox writer's worker thread (writer.ts starts it; DESIGN.md §5 group commit, P40).
 * Plain ES module JavaScript with JSDoc types, checked by `npm run check` (checkJs), so the
 * thread runs the same under node, tsx and vitest without a loader.
 *
 * Its own SQLite connection runs each batch (inserts and acks) in one BEGIN IMMEDIATE transaction
 * and answers only after COMMIT returned (synchronous=FULL: on disk). Batches are answered strictly
 * in arrival order. It runs the WAL checkpoints (auto-checkpoint is off), so no commit pays for
 * one, and the retention sweep in chunks queued between batches (P40). Deletes zero what they free
 * (secure_delete), and a TRUNCATE checkpoint after them drops the WAL frames that still held the
 * deleted rows (P40). The batch layout is writer.ts `pack`'s.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ file: string, checkpointMs: number, maxPageCount: number }} WriterData */

const port = parentPort;
if (!port) throw new Error('writer-thread.js runs only as a worker thread');
const data = /** @type {WriterData} */ (workerData);

const db = new Database(data.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
// P40 secure delete: deleted cells and freed pages are overwritten with zeros.
db.pragma('secure_delete = ON');
if (data.maxPageCount > 0) db.pragma('max_page_count = ' + data.maxPageCount);

const insert = db.prepare('INSERT INTO envelopes (recipient, sender, received_at, body) VALUES (?, ?, ?, ?)');
// Size lookup, then delete by id: a DELETE ... RETURNING opens a statement journal per call,
// whose malloc/free churn made glibc grow and trim the heap (brk) twice per ack, which cost
// the writer about twice the rest of its CPU. Same effect, same transaction.
const size = db.prepare('SELECT length(body), sender FROM envelopes WHERE id = ? AND recipient = ?').raw();
const del = db.prepare('DELETE FROM envelopes WHERE id = ?');
let deletedSinceTruncate = false;

/**
 * @typedef {{ ids: Float64Array<ArrayBuffer>, acked: Float64Array<ArrayBuffer>, senders: string[], senderStats: Float64Array<ArrayBuffer> }} Applied
 */

const apply = db.transaction(
  /** @param {Buffer} buf @returns {Applied} */
  (buf) => {
    const nInserts = buf.readUInt32LE(0);
    const nAcks = buf.readUInt32LE(4);
    let o = 8;
    const str = () => {
      const n = buf.readUInt16LE(o);
      const s = buf.toString('utf8', o + 2, o + 2 + n);
      o += 2 + n;
      return s;
    };
    const ids = new Float64Array(nInserts);
    for (let i = 0; i < nInserts; i++) {
      const recipient = str();
      const sender = str();
      const receivedAt = buf.readDoubleLE(o);
      const len = buf.readUInt32LE(o + 8);
      o += 12;
      ids[i] = Number(insert.run(recipient, sender, receivedAt, buf.subarray(o, o + len)).lastInsertRowid);
      o += len;
    }
    const acked = new Float64Array(2 * nAcks);
    /** @type {string[]} */
    const senders = [];
    /** @type {number[]} */
    const stats = [];
    for (let i = 0; i < nAcks; i++) {
      const username = str();
      const n = buf.readUInt32LE(o);
      o += 4;
      let count = 0;
      let bytes = 0;
      /** @type {Map<string, [number, number]> | undefined} */
      let bySender;
      for (let k = 0; k < n; k++, o += 8) {
        const id = buf.readDoubleLE(o);
        const row = /** @type {[number, string] | undefined} */ (size.get(id, username));
        if (row === undefined) continue;
        del.run(id);
        count++;
        bytes += row[0];
        bySender ??= new Map();
        const t = bySender.get(row[1]);
        if (t) {
          t[0]++;
          t[1] += row[0];
        } else bySender.set(row[1], [1, row[0]]);
      }
      acked[2 * i] = count;
      acked[2 * i + 1] = bytes;
      if (bySender) {
        for (const [s, t] of bySender) {
          senders.push(s);
          stats.push(i, t[0], t[1]);
        }
      }
    }
    return { ids, acked, senders, senderStats: Float64Array.from(stats) };
  }
);

// Retention chunks (P40): oldest first, at most 'limit' rows each, so a large sweep is many short
// transactions with mailbox batches in between.
const sweepEnvelopes = db
  .prepare('DELETE FROM envelopes WHERE id IN (SELECT id FROM envelopes WHERE received_at < ? ORDER BY id LIMIT ?) RETURNING recipient, sender, length(body)')
  .raw();
const sweepTokens = db.prepare('DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at <= ? LIMIT ?)');
const sweep = db.transaction(
  /** @param {number} before @param {number} now @param {number} limit */
  (before, now, limit) => ({ rows: sweepEnvelopes.all(before, limit), tokens: sweepTokens.run(now, limit).changes })
);

// Checkpoints: PASSIVE normally; after deletes, TRUNCATE, so the WAL frames that still hold
// deleted envelopes (P40 secure delete) are gone once the checkpoint has copied the zeroed pages.
const timer = setInterval(() => {
  try {
    if (!deletedSinceTruncate) db.pragma('wal_checkpoint(PASSIVE)');
    else if (/** @type {{ busy: number }[]} */ (db.pragma('wal_checkpoint(TRUNCATE)'))[0]?.busy === 0) deletedSinceTruncate = false;
  } catch {
    // Busy or full: next round.
  }
}, data.checkpointMs);

/** @typedef {{ type: 'stop' } | { type: 'sweep', before: number, now: number, limit: number } | { type: 'batch', buf: ArrayBuffer }} Request */

port.on('message', (/** @type {Request} */ m) => {
  if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    port.postMessage({ type: 'stopped' });
    // Nothing is left to keep the thread alive: it ends on its own (writer.ts stop).
    port.close();
    return;
  }
  try {
    if (m.type === 'sweep') {
      const r = sweep.immediate(m.before, m.now, m.limit);
      if (r.rows.length > 0) deletedSinceTruncate = true;
      port.postMessage({ type: 'swept', rows: r.rows, tokens: r.tokens });
      return;
    }
    const r = apply.immediate(Buffer.from(m.buf));
    if (r.senders.length > 0) deletedSinceTruncate = true;
    port.postMessage({ type: 'done', ids: r.ids, acked: r.acked, senders: r.senders, senderStats: r.senderStats }, [r.ids.buffer, r.acked.buffer, r.senderStats.buffer]);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'error';
    port.postMessage({ type: 'failed', code });
  }
});
