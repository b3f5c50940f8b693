/**
 * The mailbox's group-commit writer in a worker thread (DESIGN.md §5). A commit with
 * synchronous=FULL waits for fsync; done on the event loop, that wait would stall every socket.
 * Here a worker thread with its own SQLite connection runs each batch (inserts and acks) in one
 * BEGIN IMMEDIATE transaction and answers only after COMMIT returned, so 'stored' still means
 * "on disk", while the main thread keeps reading frames and building the next batch.
 * Batches are answered strictly in the order they were sent. It also runs the PASSIVE WAL
 * checkpoints (auto-checkpoint is off), so no commit ever pays for one.
 * The worker is inline JS (eval) so it runs the same under tsx, vitest and plain node.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { AckInput, MailboxBatchResult, NewEnvelope } from './types';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const insert = db.prepare('INSERT INTO envelopes (recipient, sender, received_at, body) VALUES (?, ?, ?, ?)');
const ack = db.prepare('DELETE FROM envelopes WHERE id = ? AND recipient = ? RETURNING length(body) AS size');
const apply = db.transaction((inserts, acks) => {
  const ids = inserts.map((e) => Number(insert.run(e.recipient, e.sender, e.receivedAt, e.body).lastInsertRowid));
  const acked = acks.map((a) => {
    const out = { count: 0, bytes: 0 };
    for (const id of a.ids) {
      const r = ack.get(id, a.username);
      if (r) { out.count++; out.bytes += r.size; }
    }
    return out;
  });
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
    parentPort.postMessage({ type: 'done', result: apply.immediate(m.inserts, m.acks) });
  } catch (e) {
    parentPort.postMessage({ type: 'failed', message: String(e && e.code || 'error') });
  }
});
`;

export interface MailboxWriter {
  apply(inserts: NewEnvelope[], acks: AckInput[]): Promise<MailboxBatchResult>;
  stop(): Promise<void>;
}

export function startMailboxWriter(file: string, checkpointMs = 500): MailboxWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, checkpointMs } });
  const waiting: { resolve(r: MailboxBatchResult): void; reject(e: Error): void }[] = [];
  let stopped: (() => void) | undefined;
  let dead: Error | undefined;

  worker.on('message', (m: { type: string; result?: MailboxBatchResult; message?: string }) => {
    if (m.type === 'stopped') return stopped?.();
    const w = waiting.shift();
    if (m.type === 'done') w?.resolve(m.result!);
    else w?.reject(new Error(`mailbox commit failed: ${m.message}`));
  });
  worker.on('error', (e) => {
    dead = e instanceof Error ? e : new Error('writer crashed');
    for (const w of waiting.splice(0)) w.reject(dead);
  });

  return {
    apply(inserts, acks) {
      if (dead) return Promise.reject(dead);
      // Structured clone copies a view's WHOLE underlying buffer (often a pooled socket chunk),
      // so each body is compacted to its own bytes first.
      const compact = inserts.map((e) =>
        e.body.byteOffset === 0 && e.body.byteLength === e.body.buffer.byteLength ? e : { ...e, body: e.body.slice() }
      );
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage({ type: 'batch', inserts: compact, acks });
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
