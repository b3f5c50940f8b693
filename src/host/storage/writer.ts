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
 * visible share of the event loop's time under load. The layout is private to this file and
 * writer-thread.js (plain JS with checked JSDoc types, so it needs no loader in the thread).
 */
import { Worker } from 'node:worker_threads';
import { StorageFullError, type AckInput, type MailboxBatchResult, type MailboxTally, type NewEnvelope, type SweptChunk } from './types';

// Batch layout (little-endian): u32 nInserts || u32 nAcks ||
//   nInserts x (str recipient || str sender || f64 receivedAt || u32 len || body) ||
//   nAcks x (str username || u32 n || n x f64 id),   where str = u16 len || utf8.
// Result: ids Float64Array (one per insert, in order), acked Float64Array (count, bytes per ack),
// and per sender of the acked envelopes: senders string[] with senderStats (ack index, count, bytes).
// The thread's side is writer-thread.js.
const WORKER_FILE = new URL('./writer-thread.js', import.meta.url);
/** How long stop() waits for the thread to end on its own before cutting it off. */
const STOP_GRACE_MS = 10_000;

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
  const workerData = { file, checkpointMs: opts.checkpointMs ?? 500, maxPageCount: opts.maxPageCount ?? 0 };
  // The thread needs no loader (plain JS): drop the parent's (e.g. tsx's --import) for a faster start.
  const worker = new Worker(WORKER_FILE, { workerData, execArgv: [] });
  const waiting: Waiter[] = [];
  let dead: Error | undefined;

  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: Reply) => {
    if (m.type === 'stopped') return;
    const w = waiting.shift();
    if (m.type === 'failed') return w?.reject(writeError(m.code));
    w?.resolve(m);
  });
  worker.on('error', (e) => {
    dead = e instanceof Error ? e : new Error('writer crashed');
    for (const w of waiting.splice(0)) w.reject(dead);
  });
  void exited.then(() => {
    dead ??= new Error('writer stopped');
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
      // The thread closes its database and its port, then ends on its own: no terminate() while
      // it may be inside SQLite. Only a thread that does not end within STOP_GRACE_MS is cut off.
      if (!dead) worker.postMessage({ type: 'stop' });
      const late = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      await exited;
      clearTimeout(late);
    }
  };
}
