// @ts-check
/**
 * The host's hashing thread (lookup-hasher.ts starts it; README "Design: private discovery", P40).
 * Runs Argon2id for username lookup hashes, one at a time, so a burst of registrations or the
 * startup fill never holds the event loop that serves every socket. Plain ES module JavaScript
 * with JSDoc types (as writer-thread.js), so it needs no loader. It gets the password, salt and
 * parameters already made (src/lib/crypto/username-hash.ts `usernameHashInput`) and knows nothing
 * of what the hash is for.
 */
import _sodium from 'libsodium-wrappers-sumo';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('hash-thread.js runs only as a worker thread');
await _sodium.ready;
const s = _sodium;

/** @typedef {{ id: number, password: Uint8Array, salt: Uint8Array, opslimit: number, memlimitBytes: number, length: number }} HashJob */

port.on('message', (/** @type {HashJob | { stop: true }} */ job) => {
  // lookup-hasher.ts close(): with the port closed, nothing keeps the thread alive and it ends.
  if ('stop' in job) return port.close();
  try {
    const hash = s.crypto_pwhash(job.length, job.password, job.salt, job.opslimit, job.memlimitBytes, s.crypto_pwhash_ALG_ARGON2ID13);
    port.postMessage({ id: job.id, hash });
  } catch (e) {
    port.postMessage({ id: job.id, error: e instanceof Error ? e.message : 'hash failed' });
  }
});
port.postMessage({ ready: true });
