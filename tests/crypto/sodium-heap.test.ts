// The heap arena (src/lib/crypto/sodium-heap.ts) against the wrappers it replaces in sealed
// sender v2's and v3's per-recipient loops (P41): the same X25519, HMAC-SHA-256 and keyed BLAKE2b
// results, the same
// refusal of low-order points, and no access outside the arena or after it is disposed.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { hmacSha256 } from '../../src/lib/crypto/hkdf';
import { x25519 } from '../../src/lib/crypto/primitives';
import { HeapArena } from '../../src/lib/crypto/sodium-heap';
import { sodium } from '../../src/lib/crypto/sodium';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

test('P41 arena X25519 equals primitives.x25519 for random scalars and points', () => {
  const a = new HeapArena(96);
  try {
    fc.assert(
      fc.property(bytes32, bytes32, (scalar, seed) => {
        const point = sodium().crypto_scalarmult_base(seed);
        a.write(0, scalar);
        a.write(32, point);
        expect(a.x25519(64, 0, 32)).toBe(true);
        expect(a.view(64, 32).slice()).toEqual(x25519(scalar, point));
      }),
      { numRuns: 50 }
    );
  } finally {
    a.dispose();
  }
});

test('P41 arena X25519 refuses low-order points as primitives.x25519 does (RFC 7748 §6.1)', () => {
  const a = new HeapArena(96);
  const scalar = sodium().randombytes_buf(32);
  // 0 and 1 (orders 4 and 1), and a point of order 8 (libsodium's blacklist).
  const order8 = Uint8Array.from([0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00]);
  try {
    for (const point of [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31)), order8]) {
      expect(codeOf(() => x25519(scalar, point))).toBe('InvalidKey');
      a.write(0, scalar);
      a.write(32, point);
      expect(a.x25519(64, 0, 32)).toBe(false);
    }
  } finally {
    a.dispose();
  }
});

test('P41 arena HMAC-SHA-256 equals hkdf.hmacSha256 for 32-byte keys and any message length', () => {
  const a = new HeapArena(32 + 32 + 300);
  try {
    fc.assert(
      fc.property(bytes32, fc.uint8Array({ maxLength: 300 }), (key, msg) => {
        a.write(0, key);
        a.write(64, msg);
        a.hmacSha256(32, 64, msg.length, 0);
        expect(a.view(32, 32).slice()).toEqual(hmacSha256(key, msg));
        const st = sodium().crypto_auth_hmacsha256_init(key);
        sodium().crypto_auth_hmacsha256_update(st, msg);
        expect(a.view(32, 32).slice()).toEqual(sodium().crypto_auth_hmacsha256_final(st));
      }),
      { numRuns: 100 }
    );
  } finally {
    a.dispose();
  }
});

test('P41 arena keyed BLAKE2b equals crypto_generichash for 16..64-byte outputs and keys and any message length', () => {
  const a = new HeapArena(64 + 64 + 300);
  try {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 64 }), fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (outLength, key, msg) => {
        a.write(0, key);
        a.write(128, msg);
        a.blake2b(64, outLength, 128, msg.length, 0, key.length);
        expect(Buffer.from(a.view(64, outLength)).equals(Buffer.from(sodium().crypto_generichash(outLength, msg, key)))).toBe(true);
      }),
      { numRuns: 200 }
    );
    expect(codeOf(() => a.blake2b(64, 15, 128, 10, 0, 32))).toBe('InvalidArgument');
    expect(codeOf(() => a.blake2b(64, 32, 128, 10, 0, 65))).toBe('InvalidArgument');
    expect(codeOf(() => a.blake2b(64, 32, 128, 400, 0, 32))).toBe('InvalidArgument');
  } finally {
    a.dispose();
  }
});

test('P41 an arena refuses ranges outside itself and any use after dispose', () => {
  const a = new HeapArena(64);
  expect(codeOf(() => a.write(40, new Uint8Array(32)))).toBe('InvalidArgument');
  expect(codeOf(() => a.view(-1, 4))).toBe('InvalidArgument');
  expect(codeOf(() => a.x25519(40, 0, 32))).toBe('InvalidArgument');
  expect(codeOf(() => a.hmacSha256(0, 32, 33, 0))).toBe('InvalidArgument');
  a.write(0, new Uint8Array(32).fill(7));
  a.dispose();
  a.dispose();
  expect(codeOf(() => a.view(0, 32))).toBe('Internal');
  expect(codeOf(() => new HeapArena(0))).toBe('InvalidArgument');
});

test('P41 an arena stays exact after wasm memory grows under it (the heap view is re-read)', () => {
  const a = new HeapArena(96);
  try {
    const scalar = sodium().randombytes_buf(32);
    const point = sodium().crypto_scalarmult_base(sodium().randombytes_buf(32));
    a.write(0, scalar);
    // A wrapper call with a large input makes libsodium grow its memory (and replace the buffer).
    sodium().crypto_generichash(32, new Uint8Array(64 << 20), null);
    a.write(32, point);
    expect(a.x25519(64, 0, 32)).toBe(true);
    expect(a.view(64, 32).slice()).toEqual(x25519(scalar, point));
  } finally {
    a.dispose();
  }
});

test('P41 arena xorSlots equals a byte-by-byte XOR, by words or not, and stays inside the arena', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }),
      fc.constantFrom(32, 36, 48, 50),
      fc.integer({ min: 0, max: 9 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 600, maxLength: 600 }),
      (offset, stride, count, mask, start) => {
        const a = new HeapArena(600);
        try {
          a.write(0, start);
          const expected = start.slice();
          for (let i = 0; i < count; i++) for (let j = 0; j < 32; j++) expected[offset + i * stride + j]! ^= mask[j]!;
          a.xorSlots(offset, stride, count, mask);
          expect(a.view(0, 600).slice()).toEqual(expected);
        } finally {
          a.dispose();
        }
      }
    ),
    { numRuns: 200 }
  );
  const a = new HeapArena(100);
  try {
    expect(codeOf(() => a.xorSlots(0, 48, 3, new Uint8Array(32)))).toBe('InvalidArgument');
    expect(codeOf(() => a.xorSlots(0, 16, 2, new Uint8Array(32)))).toBe('InvalidArgument');
    a.xorSlots(4, 48, 2, new Uint8Array(32).fill(0xff));
    expect(a.view(0, 100).reduce((n, b) => n + (b === 0xff ? 1 : 0), 0)).toBe(64);
  } finally {
    a.dispose();
  }
});

test('P41 arena blake2bMany equals one crypto_generichash per strided operand, and checks every range before the first hash', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 16, max: 64 }),
      fc.integer({ min: 0, max: 40 }),
      fc.uint8Array({ minLength: 1200, maxLength: 1200 }),
      (count, outLength, msgLength, start) => {
        const a = new HeapArena(1200);
        try {
          a.write(0, start);
          // outputs at 0 (stride 64), messages at 400 (stride 48), keys at 800 (stride 32, 32 bytes)
          const out = { at: 0, stride: 64, length: outLength };
          const msg = { at: 400, stride: 48, length: msgLength };
          const key = { at: 800, stride: 32, length: 32 };
          const expected = Array.from({ length: count }, (_, i) => sodium().crypto_generichash(outLength, start.subarray(400 + 48 * i, 400 + 48 * i + msgLength), start.subarray(800 + 32 * i, 832 + 32 * i)));
          a.blake2bMany(out, msg, key, count);
          for (let i = 0; i < count; i++) expect(a.view(64 * i, outLength).slice()).toEqual(expected[i]);
        } finally {
          a.dispose();
        }
      }
    ),
    { numRuns: 100 }
  );
  const a = new HeapArena(256);
  try {
    a.write(0, new Uint8Array(256).fill(9));
    const before = a.view(0, 256).slice();
    // The last key runs past the arena: refused before any output is written.
    expect(codeOf(() => a.blake2bMany({ at: 0, stride: 32, length: 32 }, { at: 100, stride: 0, length: 10 }, { at: 160, stride: 32, length: 32 }, 4))).toBe('InvalidArgument');
    expect(a.view(0, 256).slice()).toEqual(before);
    expect(codeOf(() => a.blake2bMany({ at: 0, stride: 32, length: 15 }, { at: 100, stride: 0, length: 10 }, { at: 160, stride: 0, length: 32 }, 1))).toBe('InvalidArgument');
    expect(codeOf(() => a.blake2bMany({ at: 0, stride: -32, length: 32 }, { at: 100, stride: 0, length: 10 }, { at: 160, stride: 0, length: 32 }, 2))).toBe('InvalidArgument');
  } finally {
    a.dispose();
  }
});

test('P41 arena writeStrided copies one value into every slot and stays inside the arena', () => {
  const a = new HeapArena(100);
  try {
    a.writeStrided(2, 40, 3, Uint8Array.of(1, 2, 3));
    const v = a.view(0, 100);
    expect([...v.subarray(2, 5), ...v.subarray(42, 45), ...v.subarray(82, 85)]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(v.reduce((n, b) => n + (b ? 1 : 0), 0)).toBe(9);
    expect(codeOf(() => a.writeStrided(2, 40, 4, Uint8Array.of(1)))).toBe('InvalidArgument');
    expect(codeOf(() => a.writeStrided(0, 2, 2, Uint8Array.of(1, 2, 3)))).toBe('InvalidArgument');
  } finally {
    a.dispose();
  }
});
