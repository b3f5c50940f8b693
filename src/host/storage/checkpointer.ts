/**
 * Moves SQLite WAL checkpoints off the event loop. With the default auto-checkpoint, every
 * ~1000 pages one unlucky commit copies the WAL into the database file and fsyncs it inline,
 * stalling every socket for that long (the p99 tail). Instead the main connection turns
 * auto-checkpoint off and a worker thread with its own connection runs PASSIVE checkpoints,
 * which never block the writer. The worker is inline JS (eval) so it runs the same under tsx,
 * vitest and plain node. Knows nothing of the schema.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: next round */ }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.postMessage('closed'); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 500): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, intervalMs } });
  worker.unref();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          void worker.terminate().then(() => resolve());
        };
        worker.once('message', done);
        worker.once('error', done);
        worker.postMessage('stop');
      })
  };
}
