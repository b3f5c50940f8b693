/**
 * The attachment format (src/lib/crypto/attachment.ts): round trip at chunk boundaries, padme
 * size classes, and every way a host or a wrong key can spoil a blob ends in a clear
 * ProtocolError, never in plaintext (P1, P40).
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { ATTACHMENT_CHUNK, CIPHER_CHUNK, STREAM_HEADER_LEN, blobSize, openAttachment, openStream, padme, sealAttachment } from '../../src/lib/crypto/attachment';
import { sodium } from '../../src/lib/crypto/sodium';

const bytes = (n: number, seed = 7): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e.message.replace(`${e.code}: `, `${e.code} `);
    throw e;
  }
  return 'no error';
}

describe('attachment format', () => {
  test('P45 a file round-trips at every chunk boundary, and the blob has the padded size', () => {
    for (const n of [0, 1, 100, ATTACHMENT_CHUNK - 1, ATTACHMENT_CHUNK, ATTACHMENT_CHUNK + 1, 3 * ATTACHMENT_CHUNK + 5]) {
      const file = bytes(n);
      const sealed = sealAttachment(file);
      expect(sealed.blob.length).toBe(blobSize(n));
      expect(sealed.key.length).toBe(32);
      expect(openAttachment(sealed, sealed.blob)).toEqual(file);
    }
  });

  test('P45 padme leaves a size class: nearby sizes share a blob size, overhead at most 12%', () => {
    expect(padme(1_000_000)).toBe(padme(999_990));
    expect(blobSize(1_000_000)).toBe(blobSize(999_990));
    for (const n of [2, 9, 1000, 65_537, 1_234_567, 99 * 1024 * 1024]) {
      expect(padme(n)).toBeGreaterThanOrEqual(n);
      expect(padme(n) / n).toBeLessThanOrEqual(1.12);
    }
  });

  test('each file gets a fresh key', () => {
    const file = bytes(10);
    expect(sealAttachment(file).key).not.toEqual(sealAttachment(file).key);
  });

  test('P40 a blob the host swapped or altered is refused by its digest before decryption', () => {
    const a = sealAttachment(bytes(1000));
    const other = sealAttachment(bytes(1000, 9), { key: a.key });
    expect(code(() => openAttachment(a, other.blob))).toMatch(/^InvalidMac .*digest/);
    const flipped = a.blob.slice();
    flipped[STREAM_HEADER_LEN + 5]! ^= 1;
    expect(code(() => openAttachment(a, flipped))).toMatch(/^InvalidMac .*digest/);
    expect(code(() => openAttachment(a, a.blob.subarray(0, a.blob.length - 1)))).toMatch(/^InvalidMac .*digest/);
  });

  test('P40 past the digest (a sender who lies): a tampered chunk, reordered chunks, a wrong key, a truncated stream and trailing bytes are each refused', () => {
    const file = bytes(3 * ATTACHMENT_CHUNK + 10);
    const a = sealAttachment(file);
    const ref = { key: a.key, size: file.length };
    const tampered = a.blob.slice();
    tampered[STREAM_HEADER_LEN + CIPHER_CHUNK + 3]! ^= 0x40;
    expect(code(() => openStream(ref, tampered))).toBe('InvalidMac attachment chunk 1 failed authentication');
    const c0 = a.blob.subarray(STREAM_HEADER_LEN, STREAM_HEADER_LEN + CIPHER_CHUNK);
    const c1 = a.blob.subarray(STREAM_HEADER_LEN + CIPHER_CHUNK, STREAM_HEADER_LEN + 2 * CIPHER_CHUNK);
    const swapped = a.blob.slice();
    swapped.set(c1, STREAM_HEADER_LEN);
    swapped.set(c0, STREAM_HEADER_LEN + CIPHER_CHUNK);
    expect(code(() => openStream(ref, swapped))).toBe('InvalidMac attachment chunk 0 failed authentication');
    expect(code(() => openStream({ ...ref, key: sodium().randombytes_buf(32) }, a.blob))).toBe('InvalidMac attachment chunk 0 failed authentication');
    // Cut at a chunk boundary, with a size claim that fits the cut: only the missing FINAL tag tells.
    const truncated = a.blob.subarray(0, STREAM_HEADER_LEN + 2 * CIPHER_CHUNK);
    expect(code(() => openStream({ ...ref, size: 2 * ATTACHMENT_CHUNK }, truncated))).toBe('InvalidMessage attachment stream ended after 2 chunks without its final chunk');
    const trailing = new Uint8Array(a.blob.length + 3);
    trailing.set(a.blob);
    expect(code(() => openStream(ref, trailing))).toBe(`InvalidMessage attachment blob of ${a.blob.length + 3} bytes, expected ${a.blob.length} for a ${file.length}-byte file`);
    expect(openStream(ref, a.blob)).toEqual(file);
  });

  test('P40 a size the message claims that does not match the stream is refused', () => {
    const a = sealAttachment(bytes(5000));
    expect(code(() => openStream({ key: a.key, size: 50_000 }, a.blob))).toMatch(/^InvalidMessage attachment blob of \d+ bytes, expected/);
    expect(code(() => openAttachment({ ...a, size: -1 }, a.blob))).toBe('InvalidArgument file size -1');
  });
});
