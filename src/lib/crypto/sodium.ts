/**
 * The one door to libsodium (wasm, sumo build: Argon2id, ristretto255, HMAC-SHA-256/512, ML-KEM-768).
 *
 * `await initSodium()` once at start-up (worker, host, test setup); every other core function is
 * synchronous, because per-call async crypto costs far more than the primitive itself.
 *
 * Temporaries are zeroed when freed. libsodium-wrappers copies every input (a message, a key, a
 * passphrase) into the wasm heap, and every output out of it, through `_malloc` and `_free` on the
 * raw module, and frees without zeroing: those bytes stayed in the heap until an allocation
 * happened to overwrite them, so a lock (which wipes the keys we hold, README "In memory after a
 * lock") left copies of texts and keys behind in the vault worker's memory. `initSodium` wraps the
 * two functions so each block the wrappers free is zeroed first (tests/crypto/sodium-zero.test.ts).
 * Only the wrappers' own calls go through them; libsodium's C code frees its internal state
 * itself, and clears what it considers secret.
 */
import _sodium from 'libsodium-wrappers-sumo';

type Sodium = typeof _sodium;

/** The raw module's allocator as the wrappers call it (pointers are heap offsets). */
interface RawHeap {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
}

let ready: Sodium | undefined;

/** Wraps `lib`'s allocator so every block is zeroed before it is freed; idempotent. */
function zeroOnFree(lib: RawHeap & { parleyZeroOnFree?: true }): void {
  if (lib.parleyZeroOnFree) return;
  const malloc = lib._malloc;
  const free = lib._free;
  const sizes = new Map<number, number>();
  lib._malloc = (size: number): number => {
    const ptr = malloc(size);
    if (ptr !== 0) sizes.set(ptr, size);
    return ptr;
  };
  lib._free = (ptr: number): void => {
    const size = sizes.get(ptr);
    if (size !== undefined) {
      sizes.delete(ptr);
      // HEAPU8 is read here, not kept: a grown heap is a new view.
      lib.HEAPU8.fill(0, ptr, ptr + size);
    }
    free(ptr);
  };
  lib.parleyZeroOnFree = true;
}

export async function initSodium(): Promise<Sodium> {
  if (ready) return ready;
  await _sodium.ready;
  const lib = (_sodium as unknown as { libsodium?: Partial<RawHeap> }).libsodium;
  if (!lib || !lib.HEAPU8 || typeof lib._malloc !== 'function' || typeof lib._free !== 'function') {
    throw new Error('libsodium build exposes no raw module to zero its temporaries');
  }
  zeroOnFree(lib as RawHeap);
  ready = _sodium;
  return ready;
}

export function sodium(): Sodium {
  if (!ready) throw new Error('libsodium not initialised: await initSodium() first');
  return ready;
}
