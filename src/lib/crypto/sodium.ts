/**
 * The one door to libsodium (wasm, sumo build: Argon2id, ristretto255, HMAC-SHA-256/512, ML-KEM-768).
 *
 * `await initSodium()` once at start-up (worker, host, test setup); every other core function is
 * synchronous, because per-call async crypto costs far more than the primitive itself.
 */
import _sodium from 'libsodium-wrappers-sumo';

type Sodium = typeof _sodium;

let ready: Sodium | undefined;

export async function initSodium(): Promise<Sodium> {
  if (ready) return ready;
  await _sodium.ready;
  ready = _sodium;
  return ready;
}

export function sodium(): Sodium {
  if (!ready) throw new Error('libsodium not initialised: await initSodium() first');
  return ready;
}
