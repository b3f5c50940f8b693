/**
 * HMAC-SHA256 (RFC 2104) with reusable keyed states, for the per-message ratchet KDFs only.
 *
 * Why: KDF_CK runs HMAC twice under one chain key, and the message-key HKDF runs HMAC three
 * times, twice under one PRK and once under the all-zero salt. Most of an HMAC of a short input
 * is keying (hashing the ipad and opad blocks), and the libsodium-wrappers one-shot call adds a
 * malloc, copies and a free per call. Here a keyed state is computed once and copied, the
 * zero-salt state is computed once per process, and all buffers live in one scratch area of the
 * wasm heap, so a ratchet message costs 14 SHA-256 blocks instead of 20, with no per-call
 * allocation inside libsodium. The outputs are plain HMAC-SHA256:
 * tests/crypto/ratchet-kdf.test.ts checks them against node:crypto and the shared `hmacSha256`.
 *
 * Uses libsodium's own exports (crypto_auth_hmacsha256_init/update/final) through the raw
 * module that libsodium-wrappers exposes as `.libsodium`; copying a state struct is plain C
 * semantics (crypto_auth_hmacsha256_state holds no pointers). Lengths are unsigned long long,
 * passed as (low, high) 32-bit halves as the wrappers themselves do. Every use wipes the scratch
 * area (except the public zero-key state) before returning or throwing. Knows nothing of chains,
 * labels or state.
 */
import { sodium } from './sodium';

interface RawSodium {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _crypto_auth_hmacsha256_statebytes(): number;
  _crypto_auth_hmacsha256_init(state: number, key: number, keyLen: number): number;
  _crypto_auth_hmacsha256_update(state: number, input: number, lenLow: number, lenHigh: number): number;
  _crypto_auth_hmacsha256_final(state: number, out: number): number;
}

/** Largest key or message accepted (the ratchet's longest is T(1) || info || 0x02, 51 bytes). */
export const KEYED_HMAC_MAX_INPUT = 128;
const MAC_LEN = 32;

interface Scratch {
  raw: RawSodium;
  stateBytes: number;
  /** Two working states, then the zero-key state, the key/input area and the output. */
  slots: [number, number];
  zeroKey: number;
  input: number;
  out: number;
  /** First byte to wipe and the end (the zero-key state is public and kept). */
  wipe: [number, number][];
}

let scratch: Scratch | undefined;
let busy = false;

function setup(): Scratch {
  const raw = (sodium() as unknown as { libsodium?: Partial<RawSodium> }).libsodium;
  if (!raw?._crypto_auth_hmacsha256_init || !raw._crypto_auth_hmacsha256_update || !raw._crypto_auth_hmacsha256_final || !raw._malloc) {
    throw new Error('keyed-hmac: this libsodium build does not expose crypto_auth_hmacsha256_*');
  }
  const r = raw as RawSodium;
  const sb = r._crypto_auth_hmacsha256_statebytes();
  const base = r._malloc(3 * sb + KEYED_HMAC_MAX_INPUT + MAC_LEN);
  if (base === 0) throw new Error('keyed-hmac: malloc failed');
  const s: Scratch = {
    raw: r,
    stateBytes: sb,
    slots: [base, base + sb],
    zeroKey: base + 2 * sb,
    input: base + 3 * sb,
    out: base + 3 * sb + KEYED_HMAC_MAX_INPUT,
    wipe: [
      [base, base + 2 * sb],
      [base + 3 * sb, base + 3 * sb + KEYED_HMAC_MAX_INPUT + MAC_LEN]
    ]
  };
  r.HEAPU8.fill(0, s.input, s.input + MAC_LEN);
  if (r._crypto_auth_hmacsha256_init(s.zeroKey, s.input, MAC_LEN) !== 0) throw new Error('keyed-hmac: init failed');
  return s;
}

function put(s: Scratch, data: Uint8Array): void {
  if (data.length > KEYED_HMAC_MAX_INPUT) throw new Error(`keyed-hmac: input of ${data.length} bytes exceeds ${KEYED_HMAC_MAX_INPUT}`);
  // HEAPU8 is re-read on every access: a memory growth elsewhere replaces the view.
  s.raw.HEAPU8.set(data, s.input);
}

export interface KeyedHmac {
  /** Keys working state `slot` with `key`. */
  init(slot: 0 | 1, key: Uint8Array): void;
  /** Sets working state `slot` to HMAC keyed with 32 zero bytes (RFC 5869's absent salt). */
  initZeroKey(slot: 0 | 1): void;
  /** Copies state `from` into `to`, so one keying serves two messages. */
  copy(to: 0 | 1, from: 0 | 1): void;
  /** HMAC of `data` under state `slot`; the state is used up. */
  mac(slot: 0 | 1, data: Uint8Array): Uint8Array;
}

/** Runs `fn` with the scratch states; everything secret in the scratch area is wiped afterwards. */
export function withKeyedHmac<T>(fn: (h: KeyedHmac) => T): T {
  if (busy) throw new Error('keyed-hmac: re-entered');
  const s = (scratch ??= setup());
  const r = s.raw;
  const h: KeyedHmac = {
    init(slot, key) {
      put(s, key);
      r._crypto_auth_hmacsha256_init(s.slots[slot], s.input, key.length);
    },
    initZeroKey(slot) {
      r.HEAPU8.copyWithin(s.slots[slot], s.zeroKey, s.zeroKey + s.stateBytes);
    },
    copy(to, from) {
      r.HEAPU8.copyWithin(s.slots[to], s.slots[from], s.slots[from] + s.stateBytes);
    },
    mac(slot, data) {
      put(s, data);
      r._crypto_auth_hmacsha256_update(s.slots[slot], s.input, data.length, 0);
      r._crypto_auth_hmacsha256_final(s.slots[slot], s.out);
      return r.HEAPU8.slice(s.out, s.out + MAC_LEN);
    }
  };
  busy = true;
  try {
    return fn(h);
  } finally {
    for (const [from, to] of s.wipe) r.HEAPU8.fill(0, from, to);
    busy = false;
  }
}
