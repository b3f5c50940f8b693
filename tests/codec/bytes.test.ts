/**
 * The byte codec every encoder shares (src/lib/codec/bytes.ts). ByteWriter writes into one
 * growing buffer; these tests pin its output to a plain reference concatenation across the
 * buffer's growth, and ByteReader's in-place integer reads to DataView's. P6 (the KDF inputs and
 * the wire formats built from these bytes stay exact; the golden vectors in tests/crypto check the
 * formats themselves) and P12 (a truncated input is an error, never a short read).
 */
import { describe, expect, test } from 'vitest';
import { ByteReader, ByteWriter } from '../../src/lib/codec/bytes';

type Field = { kind: 'u8' | 'u16' | 'u32' | 'u64'; v: number } | { kind: 'raw' | 'bytes16' | 'bytes32'; v: Uint8Array };

/** The reference: each field as its own big-endian array, concatenated. */
function reference(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const be = (n: number, len: number) => {
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    if (len === 1) dv.setUint8(0, n & 0xff);
    else if (len === 2) dv.setUint16(0, n);
    else if (len === 4) dv.setUint32(0, n >>> 0);
    else {
      dv.setUint32(0, Math.floor(n / 2 ** 32));
      dv.setUint32(4, n >>> 0);
    }
    return b;
  };
  for (const f of fields) {
    if (f.kind === 'u8') parts.push(be(f.v, 1));
    else if (f.kind === 'u16') parts.push(be(f.v, 2));
    else if (f.kind === 'u32') parts.push(be(f.v, 4));
    else if (f.kind === 'u64') parts.push(be(f.v, 8));
    else if (f.kind === 'raw') parts.push(f.v);
    else if (f.kind === 'bytes16') parts.push(be(f.v.length, 2), f.v);
    else if (f.kind === 'bytes32') parts.push(be(f.v.length, 4), f.v);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function write(w: ByteWriter, f: Field): void {
  if (f.kind === 'raw') w.raw(f.v);
  else if (f.kind === 'bytes16') w.bytes16(f.v);
  else if (f.kind === 'bytes32') w.bytes32(f.v);
  else if (f.kind === 'u8') w.u8(f.v);
  else if (f.kind === 'u16') w.u16(f.v);
  else if (f.kind === 'u32') w.u32(f.v);
  else if (f.kind === 'u64') w.u64(f.v);
}

/** A deterministic pseudo-random sequence of fields (xorshift), so a failure reproduces. */
function fields(seed: number, count: number): Field[] {
  let x = seed;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  const out: Field[] = [];
  for (let i = 0; i < count; i++) {
    const r = next();
    const bytes = () => Uint8Array.from({ length: next() % 700 }, () => next() & 0xff);
    switch (r % 7) {
      case 0: out.push({ kind: 'u8', v: next() & 0xff }); break;
      case 1: out.push({ kind: 'u16', v: next() & 0xffff }); break;
      case 2: out.push({ kind: 'u32', v: next() }); break;
      case 3: out.push({ kind: 'u64', v: next() * 2 ** 21 + (next() % 2 ** 21) }); break;
      case 4: out.push({ kind: 'raw', v: bytes() }); break;
      case 5: out.push({ kind: 'bytes16', v: bytes() }); break;
      default: out.push({ kind: 'bytes32', v: bytes() });
    }
  }
  return out;
}

describe('ByteWriter', () => {
  test('P6 writes exactly the reference bytes for any field sequence, through every growth of its buffer', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const fs = fields(seed, 1 + (seed % 23));
      for (const capacity of [1, 16, 128, 4096]) {
        const w = new ByteWriter(capacity);
        for (const f of fs) write(w, f);
        expect(w.finish()).toEqual(reference(fs));
      }
    }
  });

  test('P6 integers keep their low bits and high-bit values (u32 of 2^32 - 1, u8 of 0x1ff)', () => {
    const w = new ByteWriter().u8(0x1ff).u16(0xfedc).u32(0xffffffff).u32(-1).u64(2 ** 53 - 1);
    expect(Array.from(w.finish())).toEqual([0xff, 0xfe, 0xdc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  test('raw copies its input: a key wiped after it was written is still written as it was', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const w = new ByteWriter().raw(key);
    key.fill(0);
    expect(Array.from(w.finish())).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  test('finish returns a copy when the buffer has room left, and may be called again', () => {
    const w = new ByteWriter(4).u32(7);
    const a = w.finish();
    a[3] = 9;
    expect(Array.from(w.finish())).toEqual([0, 0, 0, 7]);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(4);
  });

  test('finish hands over an exactly full buffer without a copy, and later writes never change it', () => {
    const w = new ByteWriter(20).raw(new Uint8Array(16).fill(5)).u32(0x01020304);
    const a = w.finish();
    expect(a.buffer.byteLength).toBe(20);
    // No copy: the same buffer each time while nothing more is written.
    expect(w.finish()).toBe(a);
    w.u8(0xee).u32(0xffffffff);
    expect(Array.from(a.subarray(16))).toEqual([1, 2, 3, 4]);
    expect(a.length).toBe(20);
    expect(Array.from(w.finish().subarray(16))).toEqual([1, 2, 3, 4, 0xee, 0xff, 0xff, 0xff, 0xff]);
  });

  test('ascii writes one byte per char code and length counts what was written', () => {
    const w = new ByteWriter(1).u8(3);
    expect(w.length).toBe(1);
    w.ascii('ab.9_').ascii('');
    expect(w.length).toBe(6);
    expect(Array.from(w.finish())).toEqual([3, 0x61, 0x62, 0x2e, 0x39, 0x5f]);
  });
});

describe('ByteReader', () => {
  test('P6 reads back every field the writer wrote, integers read in place equal to DataView', () => {
    for (let seed = 41; seed <= 80; seed++) {
      const fs = fields(seed, 1 + (seed % 19));
      const w = new ByteWriter();
      for (const f of fs) write(w, f);
      // The reader works on a view into a larger buffer, at an odd offset.
      const bytes = w.finish();
      const host = new Uint8Array(bytes.length + 7);
      host.set(bytes, 3);
      const r = new ByteReader(host.subarray(3, 3 + bytes.length));
      for (const f of fs) {
        if (f.kind === 'u8') expect(r.u8()).toBe(f.v & 0xff);
        else if (f.kind === 'u16') expect(r.u16()).toBe(f.v);
        else if (f.kind === 'u32') expect(r.u32()).toBe(f.v >>> 0);
        else if (f.kind === 'u64') expect(r.u64()).toBe(f.v);
        else if (f.kind === 'raw') expect(r.fixed(f.v.length)).toEqual(f.v);
        else if (f.kind === 'bytes16') expect(r.bytes16()).toEqual(f.v);
        else expect(r.bytes32(1 << 20)).toEqual(f.v);
      }
      r.end();
    }
  });

  test('P12 a truncated integer is DecodeFailed, and nothing is consumed past the end', () => {
    for (const [len, read] of [
      [0, (r: ByteReader) => r.u8()],
      [1, (r: ByteReader) => r.u16()],
      [3, (r: ByteReader) => r.u32()],
      [7, (r: ByteReader) => r.u64()]
    ] as const) {
      const r = new ByteReader(new Uint8Array(len), 'probe');
      expect(() => read(r)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
      expect(r.remaining).toBe(len);
    }
  });
});
