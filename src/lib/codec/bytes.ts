/**
 * Strict binary encoding helpers shared by every codec.
 *
 * `ByteWriter` appends fixed-width integers and length-prefixed fields; `ByteReader` reads them
 * back and fails with `DecodeFailed` on short input, oversize lengths or trailing bytes
 * (`reader.end()` must be called by every decoder).
 */
import { fail } from './errors';

export class ByteWriter {
  // One growing buffer written in place: encoders run on every message (session heads, ratchet
  // headers), and a small array per integer field was most of their cost and garbage.
  private buf: Uint8Array;
  private view: DataView;
  private size = 0;

  /** `capacity`: the expected size, if known (the buffer grows as needed either way). */
  constructor(capacity = 128) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far (the offset of the next write). */
  get length(): number {
    return this.size;
  }

  private reserve(n: number): number {
    const at = this.size;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.size = at + n;
    return at;
  }

  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, v);
    return this;
  }

  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v >>> 0);
    return this;
  }

  /** Unsigned integer up to 2^53, big-endian in 8 bytes (timestamps). */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) fail('InvalidArgument', 'u64 out of range');
    const at = this.reserve(8);
    this.view.setUint32(at, Math.floor(v / 2 ** 32));
    this.view.setUint32(at + 4, v >>> 0);
    return this;
  }

  /** Copies `b` in now (later changes to `b` do not reach the output). */
  raw(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** The char codes of `s`, one byte each: for strings already checked to be ASCII. */
  ascii(s: string): this {
    const at = this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[at + i] = s.charCodeAt(i);
    return this;
  }

  /** Exactly `n` bytes; asserts the length so a wrong-size key can never be written. */
  fixed(b: Uint8Array, n: number): this {
    if (b.length !== n) fail('InvalidArgument', `expected ${n} bytes, got ${b.length}`);
    return this.raw(b);
  }

  /** u16 length prefix then bytes. */
  bytes16(b: Uint8Array): this {
    if (b.length > 0xffff) fail('InvalidArgument', `field of ${b.length} bytes exceeds 65535`);
    return this.u16(b.length).raw(b);
  }

  /** u32 length prefix then bytes. */
  bytes32(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }

  /** The bytes written: the buffer itself when it is exactly full (any later write grows into a new one), else a copy. */
  finish(): Uint8Array {
    return this.size === this.buf.length ? this.buf : this.buf.slice(0, this.size);
  }
}

export class ByteReader {
  private offset = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'message'
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private take(n: number): Uint8Array {
    if (n > this.remaining) fail('DecodeFailed', `${this.what} truncated: need ${n}, have ${this.remaining}`);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Offset of the next `n` bytes, consumed (integers are read in place, without a copy). */
  private skip(n: number): number {
    if (n > this.remaining) fail('DecodeFailed', `${this.what} truncated: need ${n}, have ${this.remaining}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.buf[this.skip(1)]!;
  }

  u16(): number {
    const at = this.skip(2);
    return (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  u32(): number {
    const at = this.skip(4);
    return ((this.buf[at]! << 24) | (this.buf[at + 1]! << 16) | (this.buf[at + 2]! << 8) | this.buf[at + 3]!) >>> 0;
  }

  u64(): number {
    const b = this.take(8);
    const dv = new DataView(b.buffer, b.byteOffset);
    const hi = dv.getUint32(0);
    if (hi >= 2 ** 21) fail('DecodeFailed', `${this.what}: u64 beyond 2^53`);
    return hi * 2 ** 32 + dv.getUint32(4);
  }

  fixed(n: number): Uint8Array {
    return this.take(n);
  }

  bytes16(max = 0xffff): Uint8Array {
    const n = this.u16();
    if (n > max) fail('DecodeFailed', `${this.what}: field of ${n} bytes exceeds ${max}`);
    return this.take(n);
  }

  bytes32(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) fail('DecodeFailed', `${this.what}: field of ${n} bytes exceeds ${max}`);
    return this.take(n);
  }

  /** The rest of the input (for a trailing ciphertext). */
  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  /** Every decoder ends here: trailing bytes are an error, never ignored. */
  end(): void {
    if (this.remaining !== 0) fail('DecodeFailed', `${this.what}: ${this.remaining} trailing bytes`);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const w = new ByteWriter();
  for (const p of parts) w.raw(p);
  return w.finish();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h: string): Uint8Array {
  if (h.length % 2 !== 0 || /[^0-9a-f]/i.test(h)) fail('InvalidArgument', 'hex: malformed');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}
