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

/** The raw module's allocator as the wrappers and sodium-heap.ts call it (pointers are heap offsets). */
export interface RawHeap {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
}

let ready: Sodium | undefined;

/**
 * Wraps `lib`'s allocator so every block is zeroed before it is freed; idempotent. Live blocks are
 * kept as (pointer, size) pairs in a typed array, newest last: the wrappers free what one call
 * allocated before the next call, so a free finds its block among the last few entries. (A `Map`
 * cost about ten times as much, a quarter of a 1 KiB message's encryption.) A free of a block not
 * allocated here is passed on untouched.
 */
function zeroOnFree(lib: RawHeap & { parleyZeroOnFree?: true }): void {
  if (lib.parleyZeroOnFree) return;
  const malloc = lib._malloc;
  const free = lib._free;
  let live = new Int32Array(256);
  let top = 0;
  lib._malloc = (size: number): number => {
    const ptr = malloc(size);
    if (ptr !== 0) {
      if (top === live.length) {
        const grown = new Int32Array(live.length * 2);
        grown.set(live);
        live = grown;
      }
      live[top++] = ptr | 0;
      live[top++] = size;
    }
    return ptr;
  };
  lib._free = (ptr: number): void => {
    const key = ptr | 0;
    for (let i = top - 2; i >= 0; i -= 2) {
      if (live[i] !== key) continue;
      const size = live[i + 1]!;
      top -= 2;
      live[i] = live[top]!;
      live[i + 1] = live[top + 1]!;
      // HEAPU8 is read here, not kept: a grown heap is a new view.
      lib.HEAPU8.fill(0, ptr >>> 0, (ptr >>> 0) + size);
      break;
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
