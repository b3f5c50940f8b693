/**
 * The mailbox's group-commit writer in a worker thread (DESIGN.md §5). A commit with
 * synchronous=FULL waits for fsync; done on the event loop, that wait would stall every socket.
 * Here a worker thread with its own SQLite connection runs each batch (inserts and acks) in one
 * BEGIN IMMEDIATE transaction and answers only after COMMIT returned, so 'stored' still means
 * "on disk", while the main thread keeps reading frames and building the next batch.
 * Batches are answered strictly in the order they were sent. It also runs the WAL checkpoints
 * (auto-checkpoint is off), so no commit ever pays for one, and the retention sweep in chunks
 * queued between batches (P40). Deletes here zero what they free (secure_delete), and a TRUNCATE
 * checkpoint after them drops the WAL frames that still held the deleted rows (P40).
 *
 * A batch crosses the thread boundary as ONE transferred ArrayBuffer (see `pack`), not as
 * structured-cloned objects: cloning hundreds of small objects and byte views per batch was a
 * visible share of the event loop's time under load. The layout is private to this file.
 * The worker is inline JS (eval) so it runs the same under tsx, vitest and plain node.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { StorageFullError, type AckInput, type MailboxBatchResult, type MailboxTally, type NewEnvelope, type SweptChunk } from './types';

// Batch layout (little-endian): u32 nInserts || u32 nAcks ||
//   nInserts x (str recipient || str sender || f64 receivedAt || u32 len || body) ||
//   nAcks x (str username || u32 n || n x f64 id),   where str = u16 len || utf8.
// Result: ids Float64Array (one per insert, in order), acked Float64Array (count, bytes per ack),
// and per sender of the acked envelopes: senders string[] with senderStats (ack index, count, bytes).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
// P40 secure delete: deleted cells and freed pages are overwritten with zeros.
db.pragma('secure_delete = ON');
if (workerData.maxPageCount > 0) db.pragma('max_page_count = ' + workerData.maxPageCount);
const insert = db.prepare('INSERT INTO envelopes (recipient, sender, received_at, body) VALUES (?, ?, ?, ?)');
// Size lookup, then delete by id: a DELETE ... RETURNING opens a statement journal per call,
// whose malloc/free churn made glibc grow and trim the heap (brk) twice per ack, which cost
// the writer about twice the rest of its CPU. Same effect, same transaction.
const size = db.prepare('SELECT length(body), sender FROM envelopes WHERE id = ? AND recipient = ?').raw();
const del = db.prepare('DELETE FROM envelopes WHERE id = ?');
let deletedSinceTruncate = false;
const apply = db.transaction((buf) => {
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
  const senders = [];
  const stats = [];
  for (let i = 0; i < nAcks; i++) {
    const username = str();
    const n = buf.readUInt32LE(o);
    o += 4;
    let count = 0;
    let bytes = 0;
    let bySender;
    for (let k = 0; k < n; k++, o += 8) {
      const id = buf.readDoubleLE(o);
      const row = size.get(id, username);
      if (row === undefined) continue;
      del.run(id);
      count++;
      bytes += row[0];
      bySender ??= new Map();
      const t = bySender.get(row[1]);
      if (t) { t[0]++; t[1] += row[0]; } else bySender.set(row[1], [1, row[0]]);
    }
    acked[2 * i] = count;
    acked[2 * i + 1] = bytes;
    if (bySender) for (const [s, t] of bySender) { senders.push(s); stats.push(i, t[0], t[1]); }
  }
  return { ids, acked, senders, senderStats: Float64Array.from(stats) };
});
// Retention chunks (P40): oldest first, at most 'limit' rows each, so a large sweep is many short
// transactions with mailbox batches in between.
const sweepEnvelopes = db.prepare(
  'DELETE FROM envelopes WHERE id IN (SELECT id FROM envelopes WHERE received_at < ? ORDER BY id LIMIT ?) RETURNING recipient, sender, length(body)'
).raw();
const sweepTokens = db.prepare('DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at <= ? LIMIT ?)');
const sweep = db.transaction((before, now, limit) => ({ rows: sweepEnvelopes.all(before, limit), tokens: sweepTokens.run(now, limit).changes }));
// Checkpoints: PASSIVE normally; after deletes, TRUNCATE, so the WAL frames that still hold
// deleted envelopes (P40 secure delete) are gone once the checkpoint has copied the zeroed pages.
const timer = setInterval(() => {
  try {
    if (!deletedSinceTruncate) db.pragma('wal_checkpoint(PASSIVE)');
    else if (db.pragma('wal_checkpoint(TRUNCATE)')[0].busy === 0) deletedSinceTruncate = false;
  } catch { /* busy or full: next round */ }
}, workerData.checkpointMs);
parentPort.on('message', (m) => {
  if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ type: 'stopped' });
    return;
  }
  try {
    if (m.type === 'sweep') {
      const r = sweep.immediate(m.before, m.now, m.limit);
      if (r.rows.length > 0) deletedSinceTruncate = true;
      parentPort.postMessage({ type: 'swept', rows: r.rows, tokens: r.tokens });
      return;
    }
    const r = apply.immediate(Buffer.from(m.buf));
    if (r.senders.length > 0) deletedSinceTruncate = true;
    parentPort.postMessage({ type: 'done', ids: r.ids, acked: r.acked, senders: r.senders, senderStats: r.senderStats }, [r.ids.buffer, r.acked.buffer, r.senderStats.buffer]);
  } catch (e) {
    parentPort.postMessage({ type: 'failed', code: String((e && e.code) || 'error') });
  }
});
`;

export interface MailboxWriter {
  apply(inserts: NewEnvelope[], acks: AckInput[]): Promise<MailboxBatchResult>;
  sweepChunk(before: number, now: number, limit: number): Promise<SweptChunk>;
  stop(): Promise<void>;
}

/** Packs a batch into one fresh ArrayBuffer (its own, so it can be transferred, not copied). */
function pack(inserts: NewEnvelope[], acks: AckInput[]): ArrayBuffer {
  // Upper bound: a UTF-16 code unit never takes more than 3 UTF-8 bytes.
  let size = 8;
  for (const e of inserts) size += 4 + 3 * (e.recipient.length + e.sender.length) + 12 + e.body.length;
  for (const a of acks) size += 2 + 3 * a.username.length + 4 + 8 * a.ids.length;
  const buf = Buffer.allocUnsafeSlow(size);
  buf.writeUInt32LE(inserts.length, 0);
  buf.writeUInt32LE(acks.length, 4);
  let o = 8;
  const str = (s: string) => {
    const n = buf.write(s, o + 2, 'utf8');
    buf.writeUInt16LE(n, o);
    o += 2 + n;
  };
  for (const e of inserts) {
    str(e.recipient);
    str(e.sender);
    buf.writeDoubleLE(e.receivedAt, o);
    buf.writeUInt32LE(e.body.length, o + 8);
    o += 12;
    buf.set(e.body, o);
    o += e.body.length;
  }
  for (const a of acks) {
    str(a.username);
    buf.writeUInt32LE(a.ids.length, o);
    o += 4;
    for (const id of a.ids) {
      buf.writeDoubleLE(id, o);
      o += 8;
    }
  }
  return buf.buffer as ArrayBuffer;
}

interface Reply {
  type: string;
  ids?: Float64Array;
  acked?: Float64Array;
  senders?: string[];
  senderStats?: Float64Array;
  rows?: [string, string, number][];
  tokens?: number;
  code?: string;
}

interface Waiter {
  resolve(m: Reply): void;
  reject(e: Error): void;
}

export interface WriterOptions {
  checkpointMs?: number;
  /** SQLite max_page_count for this connection (0: none); see sqlite.ts. */
  maxPageCount?: number;
}

/** The error a failed write rejects with: StorageFullError when the database has no room. */
function writeError(code: string | undefined): Error {
  if (code === 'SQLITE_FULL') return new StorageFullError(code);
  return Object.assign(new Error(`mailbox write failed: ${code ?? 'unknown'}`), { code });
}

function ackTallies(m: Reply): MailboxTally[] {
  const acked = m.acked!;
  const out = new Array<MailboxTally>(acked.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = { count: acked[2 * i]!, bytes: acked[2 * i + 1]!, bySender: new Map() };
  const stats = m.senderStats!;
  m.senders!.forEach((sender, j) => out[stats[3 * j]!]!.bySender.set(sender, { count: stats[3 * j + 1]!, bytes: stats[3 * j + 2]! }));
  return out;
}

function sweptChunk(m: Reply): SweptChunk {
  const byRecipient = new Map<string, MailboxTally>();
  for (const [recipient, sender, bytes] of m.rows!) {
    let t = byRecipient.get(recipient);
    if (!t) byRecipient.set(recipient, (t = { count: 0, bytes: 0, bySender: new Map() }));
    t.count++;
    t.bytes += bytes;
    const s = t.bySender.get(sender);
    if (s) {
      s.count++;
      s.bytes += bytes;
    } else t.bySender.set(sender, { count: 1, bytes });
  }
  return { envelopes: m.rows!.length, tokens: m.tokens!, byRecipient };
}

export function startMailboxWriter(file: string, opts: WriterOptions = {}): MailboxWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const workerData = { driver, file, checkpointMs: opts.checkpointMs ?? 500, maxPageCount: opts.maxPageCount ?? 0 };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  const waiting: Waiter[] = [];
  let stopped: (() => void) | undefined;
  let dead: Error | undefined;

  worker.on('message', (m: Reply) => {
    if (m.type === 'stopped') return stopped?.();
    const w = waiting.shift();
    if (m.type === 'failed') return w?.reject(writeError(m.code));
    w?.resolve(m);
  });
  worker.on('error', (e) => {
    dead = e instanceof Error ? e : new Error('writer crashed');
    for (const w of waiting.splice(0)) w.reject(dead);
  });

  /** Posts one request; replies come back strictly in posting order. */
  function request(message: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      worker.postMessage(message, transfer);
    });
  }

  return {
    async apply(inserts, acks) {
      const buf = pack(inserts, acks);
      const m = await request({ type: 'batch', buf }, [buf]);
      return { ids: Array.from(m.ids!), acked: ackTallies(m) };
    },
    async sweepChunk(before, now, limit) {
      return sweptChunk(await request({ type: 'sweep', before, now, limit }));
    },
    async stop() {
      if (dead) return;
      await new Promise<void>((resolve) => {
        stopped = resolve;
        worker.postMessage({ type: 'stop' });
      });
      await worker.terminate();
    }
  };
}
