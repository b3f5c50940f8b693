/**
 * Primitives run in place in libsodium's own wasm heap, for loops that run the same primitive once
 * per recipient (sealed sender v2's and v3's key material, SECURITY.md P41). Each libsodium-wrappers call
 * mallocs, copies its inputs in, copies the output out and frees: for a 32-byte HMAC that costs
 * more than the HMAC, and for X25519 about a tenth. A `HeapArena` is ONE allocation that callers
 * write into and read from by offset; it is zeroed when made and zeroed again and freed by
 * `dispose()` (the wrappers free without zeroing, so this leaves fewer secrets in the heap).
 *
 * The raw module is the one libsodium-wrappers exposes as `sodium.libsodium` (its Emscripten
 * build): the same C functions the wrappers call, so the same results as primitives.ts and hkdf.ts
 * (tests/crypto/sodium-heap.test.ts compares them). Knows nothing of protocols or labels.
 */
import { fail } from '../codec/errors';
import { sodium, type RawHeap } from './sodium';

/** The few exports of libsodium's Emscripten module used here (pointers are heap offsets). */
interface RawSodium extends RawHeap {
  _crypto_scalarmult(q: number, n: number, p: number): number;
  /** u64 message length passed as (low, high) 32-bit halves; the key is 32 bytes. */
  _crypto_auth_hmacsha256(out: number, msg: number, lenLow: number, lenHigh: number, key: number): number;
  /** BLAKE2b: the u64 message length as (low, high); key may be 0 with keyLength 0. */
  _crypto_generichash(out: number, outLength: number, msg: number, lenLow: number, lenHigh: number, key: number, keyLength: number): number;
}

function rawSodium(): RawSodium {
  const lib = (sodium() as unknown as { libsodium?: Partial<RawSodium> }).libsodium;
  // The allocator (HEAPU8, _malloc, _free) is checked once, by initSodium.
  if (!lib || typeof lib._crypto_scalarmult !== 'function' || typeof lib._crypto_auth_hmacsha256 !== 'function' || typeof lib._crypto_generichash !== 'function') {
    fail('Internal', 'libsodium build exposes no raw module');
  }
  return lib as RawSodium;
}

/**
 * Zeroes and frees a state libsodium-wrappers allocated and handed out by address (a secretstream
 * state: `new u(52).address` in the wrappers, which never free it), so the key it was derived
 * from does not stay in the heap after its stream ends. The caller must not use the address again.
 */
export function releaseWrapperState(address: number, size: number): void {
  const lib = rawSodium();
  if (!Number.isInteger(address) || address <= 0 || !Number.isInteger(size) || size <= 0 || address + size > lib.HEAPU8.length) fail('InvalidArgument', `wrapper state ${address}+${size}`);
  lib.HEAPU8.fill(0, address, address + size);
  lib._free(address);
}

export class HeapArena {
  private readonly lib: RawSodium;
  private ptr: number;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 1 << 20) fail('InvalidArgument', `heap arena of ${size} bytes`);
    this.lib = rawSodium();
    this.ptr = this.lib._malloc(size);
    if (!this.ptr) fail('Internal', `heap arena of ${size} bytes: out of memory`);
    this.heap().fill(0, this.ptr, this.ptr + size);
  }

  // Re-read on every use: the heap's buffer is replaced when wasm memory grows (any wrapper call).
  private heap(): Uint8Array {
    if (!this.ptr) fail('Internal', 'heap arena used after dispose');
    return this.lib.HEAPU8;
  }

  private at(offset: number, length: number): number {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      fail('InvalidArgument', `heap arena range ${offset}+${length} outside ${this.size}`);
    }
    return this.ptr + offset;
  }

  /** Copies `bytes` in at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    this.heap().set(bytes, this.at(offset, bytes.length));
  }

  /** A view (not a copy) of `length` bytes at `offset`: valid until the next libsodium call. */
  view(offset: number, length: number): Uint8Array {
    const p = this.at(offset, length);
    return this.heap().subarray(p, p + length);
  }

  /**
   * X25519 (RFC 7748) of the 32-byte scalar at `scalar` and point at `point` into `out`. False
   * when libsodium refuses the point (low order) or the result is all zero (RFC 7748 §6.1): the
   * caller decides the error, as primitives.ts `x25519` does.
   */
  x25519(out: number, scalar: number, point: number): boolean {
    const o = this.at(out, 32);
    const rc = this.lib._crypto_scalarmult(o, this.at(scalar, 32), this.at(point, 32));
    const h = this.heap();
    let acc = 0;
    for (let i = 0; i < 32; i++) acc |= h[o + i]!;
    return rc === 0 && acc !== 0;
  }

  /** HMAC-SHA-256 (RFC 2104) with the 32-byte key at `key` over `length` bytes at `message`, into `out` (32 bytes). */
  hmacSha256(out: number, message: number, length: number, key: number): void {
    const rc = this.lib._crypto_auth_hmacsha256(this.at(out, 32), this.at(message, length), length, 0, this.at(key, 32));
    if (rc !== 0) fail('Internal', `hmac-sha256 returned ${rc}`);
  }

  /**
   * Keyed BLAKE2b (RFC 7693; libsodium's crypto_generichash) of `length` bytes at `message`, keyed
   * by the `keyLength` (16..64) bytes at `key`, into `outLength` (16..64) bytes at `out`.
   */
  blake2b(out: number, outLength: number, message: number, length: number, key: number, keyLength: number): void {
    if (outLength < 16 || outLength > 64 || keyLength < 16 || keyLength > 64) fail('InvalidArgument', `blake2b of ${outLength} bytes keyed by ${keyLength}`);
    const rc = this.lib._crypto_generichash(this.at(out, outLength), outLength, this.at(message, length), length, 0, this.at(key, keyLength), keyLength);
    if (rc !== 0) fail('Internal', `blake2b returned ${rc}`);
  }

  /** Copies `bytes` in at `count` places, `stride` bytes apart from `offset` (one value into many inputs). */
  writeStrided(offset: number, stride: number, count: number, bytes: Uint8Array): void {
    if (!Number.isInteger(stride) || !Number.isInteger(count) || count < 0 || stride < bytes.length) fail('InvalidArgument', `${count} writes of ${bytes.length} bytes ${stride} apart`);
    if (count === 0) return;
    const p = this.at(offset, (count - 1) * stride + bytes.length);
    const heap = this.heap();
    for (let i = 0, at = p; i < count; i++, at += stride) heap.set(bytes, at);
  }

  /**
   * `blake2b` `count` times over strided operands: output i at `out + i * outStride`, message i at
   * `message + i * messageStride`, key i at `key + i * keyStride`; the ranges are checked once, so
   * a loop of small hashes pays no per-call checks.
   */
  blake2bMany(out: { at: number; stride: number; length: number }, message: { at: number; stride: number; length: number }, key: { at: number; stride: number; length: number }, count: number): void {
    if (out.length < 16 || out.length > 64 || key.length < 16 || key.length > 64) fail('InvalidArgument', `blake2b of ${out.length} bytes keyed by ${key.length}`);
    if (!Number.isInteger(count) || count < 0) fail('InvalidArgument', `${count} blake2b calls`);
    if (count === 0) return;
    const span = (r: { at: number; stride: number; length: number }) => {
      if (!Number.isInteger(r.stride) || r.stride < 0) fail('InvalidArgument', `stride of ${r.stride}`);
      return this.at(r.at, (count - 1) * r.stride + r.length);
    };
    const o = span(out);
    const m = span(message);
    const k = span(key);
    for (let i = 0; i < count; i++) {
      const rc = this.lib._crypto_generichash(o + i * out.stride, out.length, m + i * message.stride, message.length, 0, k + i * key.stride, key.length);
      if (rc !== 0) fail('Internal', `blake2b returned ${rc}`);
    }
  }

  /**
   * XORs `mask` into the first `mask.length` bytes of each of `count` slots, `stride` bytes apart,
   * from `offset`: one pad over many outputs. By 32-bit words when the heap address, the stride
   * and the mask allow (XOR works on words of either byte order alike), else byte by byte.
   */
  xorSlots(offset: number, stride: number, count: number, mask: Uint8Array): void {
    if (!Number.isInteger(stride) || !Number.isInteger(count) || count < 0 || stride < mask.length) fail('InvalidArgument', `xor of ${mask.length} bytes into ${count} slots of ${stride}`);
    if (count === 0) return;
    const p = this.at(offset, (count - 1) * stride + mask.length);
    const heap = this.heap();
    if (p % 4 === 0 && stride % 4 === 0 && mask.length % 4 === 0) {
      const words = new Uint32Array(heap.buffer, heap.byteOffset + p, ((count - 1) * stride + mask.length) / 4);
      const m = new Uint32Array(mask.slice().buffer);
      const step = stride / 4;
      for (let i = 0, at = 0; i < count; i++, at += step) for (let j = 0; j < m.length; j++) words[at + j]! ^= m[j]!;
      return;
    }
    for (let i = 0, at = p; i < count; i++, at += stride) for (let j = 0; j < mask.length; j++) heap[at + j]! ^= mask[j]!;
  }

  /** Zeroes and frees the arena; safe to call twice. */
  dispose(): void {
    if (!this.ptr) return;
    this.lib.HEAPU8.fill(0, this.ptr, this.ptr + this.size);
    this.lib._free(this.ptr);
    this.ptr = 0;
  }
}
