/**
 * Username lookup hashes (src/lib/crypto/username-hash.ts) computed on a thread of their own
 * (hash-thread.js), for the discovery index (discovery.ts): Argon2id over 16 MiB takes 20–60 ms,
 * and on the event loop every registration stalled every socket that long, so a burst of sign-ups
 * from many addresses could stall delivery for everyone (P40). Jobs run one at a time in arrival
 * order; at most `maxWaiting` wait, and more are refused at once (`Unavailable`, the caller's to
 * retry) rather than queued without bound. Knows nothing of HTTP or storage.
 */
import { Worker } from 'node:worker_threads';
import { USERNAME_HASH_LEN, usernameHashInput } from '../lib/crypto/username-hash';
import { HostError } from './http-util';

export interface LookupHasher {
  hash(username: string): Promise<Uint8Array>;
  /** Refuses what waits and stops the thread. */
  close(): Promise<void>;
}

const THREAD_FILE = new URL('./hash-thread.js', import.meta.url);
/** How long close() waits for the thread to end on its own before cutting it off. */
const STOP_GRACE_MS = 5_000;

interface Pending {
  resolve(h: Uint8Array): void;
  reject(e: Error): void;
}

export function startLookupHasher({ maxWaiting = 256 } = {}): LookupHasher {
  // Plain JS: no loader needed in the thread (the parent's tsx --import is dropped).
  const worker = new Worker(THREAD_FILE, { execArgv: [] });
  const pending = new Map<number, Pending>();
  let next = 1;
  let dead: Error | undefined;
  const fail = (e: Error) => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (m: { id?: number; hash?: Uint8Array; error?: string }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.hash && m.hash.length === USERNAME_HASH_LEN) p.resolve(new Uint8Array(m.hash));
    else p.reject(new Error(`lookup hash failed: ${m.error ?? 'bad answer'}`));
  });
  worker.on('error', (e) => fail(e instanceof Error ? e : new Error('hashing thread crashed')));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => fail(dead ?? new Error('hashing thread stopped')));
  // The thread does not keep the host alive on its own.
  worker.unref();
  return {
    hash(username) {
      if (dead) return Promise.reject(dead);
      if (pending.size >= maxWaiting) return Promise.reject(new HostError(503, 'Unavailable', 'too many hashes waiting', 1000));
      const id = next++;
      return new Promise<Uint8Array>((resolve, reject) => {
        const input = usernameHashInput(username); // a name that is not canonical rejects here
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, length: USERNAME_HASH_LEN, ...input });
      });
    },
    async close() {
      // The thread finishes the hash it is on (tens of ms), closes its port and ends on its own:
      // no terminate() in the middle of the wasm. One that does not end in time is cut off.
      fail(new Error('hashing thread closed'));
      worker.postMessage({ stop: true });
      const late = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      await exited;
      clearTimeout(late);
    }
  };
}
