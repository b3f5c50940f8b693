/**
 * The mailbox's group-commit writer in a worker thread (DESIGN.md §5). A commit with
 * synchronous=FULL waits for fsync; done on the event loop, that wait would stall every socket.
 * Here a worker thread with its own SQLite connection runs each batch (inserts and acks) in one
 * BEGIN IMMEDIATE transaction and answers only after COMMIT returned, so 'stored' still means
 * "on disk", while the main thread keeps reading frames and building the next batch.
 * Batches are answered strictly in the order they were sent. It also runs the PASSIVE WAL
 * checkpoints (auto-checkpoint is off), so no commit ever pays for one.
 *
 * A batch crosses the thread boundary as ONE transferred ArrayBuffer (see `pack`), not as
 * structured-cloned objects: cloning hundreds of small objects and byte views per batch was a
 * visible share of the event loop's time under load. The layout is private to this file.
 * The worker is inline JS (eval) so it runs the same under tsx, vitest and plain node.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { AckInput, MailboxBatchResult, NewEnvelope } from './types';

// Batch layout (little-endian): u32 nInserts || u32 nAcks ||
//   nInserts x (str recipient || str sender || f64 receivedAt || u32 len || body) ||
//   nAcks x (str username || u32 n || n x f64 id),   where str = u16 len || utf8.
// Result: ids Float64Array (one per insert, in order), acked Float64Array (count, bytes per ack).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const insert = db.prepare('INSERT INTO envelopes (recipient, sender, received_at, body) VALUES (?, ?, ?, ?)');
// Size lookup, then delete by id: a DELETE ... RETURNING opens a statement journal per call,
// whose malloc/free churn made glibc grow and trim the heap (brk) twice per ack, which cost
// the writer about twice the rest of its CPU. Same effect, same transaction.
const size = db.prepare('SELECT length(body) FROM envelopes WHERE id = ? AND recipient = ?').pluck();
const del = db.prepare('DELETE FROM envelopes WHERE id = ?');
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
  for (let i = 0; i < nAcks; i++) {
    const username = str();
    const n = buf.readUInt32LE(o);
    o += 4;
    let count = 0;
    let bytes = 0;
    for (let k = 0; k < n; k++, o += 8) {
      const id = buf.readDoubleLE(o);
      const s = size.get(id, username);
      if (s !== undefined) { del.run(id); count++; bytes += s; }
    }
    acked[2 * i] = count;
    acked[2 * i + 1] = bytes;
  }
  return { ids, acked };
});
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: next round */ }
}, workerData.checkpointMs);
parentPort.on('message', (m) => {
  if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ type: 'stopped' });
    return;
  }
  try {
    const r = apply.immediate(Buffer.from(m.buf));
    parentPort.postMessage({ type: 'done', ids: r.ids, acked: r.acked }, [r.ids.buffer, r.acked.buffer]);
  } catch (e) {
    parentPort.postMessage({ type: 'failed', message: String(e && e.code || 'error') });
  }
});
`;

export interface MailboxWriter {
  apply(inserts: NewEnvelope[], acks: AckInput[]): Promise<MailboxBatchResult>;
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
  message?: string;
}

export function startMailboxWriter(file: string, checkpointMs = 500): MailboxWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, checkpointMs } });
  const waiting: { resolve(r: MailboxBatchResult): void; reject(e: Error): void }[] = [];
  let stopped: (() => void) | undefined;
  let dead: Error | undefined;

  worker.on('message', (m: Reply) => {
    if (m.type === 'stopped') return stopped?.();
    const w = waiting.shift();
    if (m.type !== 'done') return w?.reject(new Error(`mailbox commit failed: ${m.message}`));
    const acked = m.acked!;
    const usage = new Array<{ count: number; bytes: number }>(acked.length / 2);
    for (let i = 0; i < usage.length; i++) usage[i] = { count: acked[2 * i]!, bytes: acked[2 * i + 1]! };
    w?.resolve({ ids: Array.from(m.ids!), acked: usage });
  });
  worker.on('error', (e) => {
    dead = e instanceof Error ? e : new Error('writer crashed');
    for (const w of waiting.splice(0)) w.reject(dead);
  });

  return {
    apply(inserts, acks) {
      if (dead) return Promise.reject(dead);
      const buf = pack(inserts, acks);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage({ type: 'batch', buf }, [buf]);
      });
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
