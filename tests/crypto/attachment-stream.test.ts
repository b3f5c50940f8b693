/**
 * The streaming sealer and opener (src/lib/crypto/attachment-stream.ts) against the one-shot
 * format (crypto/attachment.ts): the same blob layout and digest at chunk and 1 MiB part
 * boundaries, fed in any split; and every spoiled blob (a flipped byte in a middle part, a
 * truncated or reordered blob, a lying digest or padding) is refused (P45, P40).
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { ATTACHMENT_CHUNK, CIPHER_CHUNK, STREAM_HEADER_LEN, blobSize, digestOf, openAttachment, openStream, sealAttachment, type AttachmentRef } from '../../src/lib/crypto/attachment';
import { AttachmentOpener, AttachmentSealer } from '../../src/lib/crypto/attachment-stream';
import { sodium } from '../../src/lib/crypto/sodium';

const MiB = 1024 * 1024;
function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Byte equality without vitest's element-by-element diff (megabytes of it are slow). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Seals `file` with the streaming sealer, pushing it in `split`-byte slices. */
function streamSeal(file: Uint8Array, split: number, key?: Uint8Array): { blob: Uint8Array; digest: Uint8Array; key: Uint8Array } {
  const s = new AttachmentSealer(file.length, key);
  const out: Uint8Array[] = [];
  for (let at = 0; at < file.length; at += split) out.push(...s.push(file.subarray(at, at + split)));
  while (!s.done) out.push(...s.pad(split));
  return { blob: concat(out), digest: s.digest(), key: s.key };
}

/** Opens `blob` with the streaming opener in `split`-byte pieces; throws what it throws. */
function streamOpen(ref: AttachmentRef, blob: Uint8Array, split: number): Uint8Array {
  const o = new AttachmentOpener(ref);
  const out: Uint8Array[] = [];
  for (let at = 0; at < blob.length; at += split) out.push(...o.push(blob.subarray(at, at + split)));
  o.finish();
  return concat(out);
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e.message.replace(`${e.code}: `, `${e.code} `);
    throw e;
  }
  return 'no error';
}

const SIZES = [0, 1, ATTACHMENT_CHUNK - 1, ATTACHMENT_CHUNK, ATTACHMENT_CHUNK + 1, 16 * ATTACHMENT_CHUNK, MiB - STREAM_HEADER_LEN, MiB, MiB + 1, 2 * MiB + 12_345];

describe('streaming attachment format', () => {
  test('P45 a streamed blob has the one-shot layout and digest and opens one-shot; a one-shot blob opens streamed, at chunk and part boundaries in any split', () => {
    for (const n of SIZES) {
      const file = bytes(n, n & 0xff);
      for (const split of [MiB, 1000]) {
        const s = streamSeal(file, split);
        expect(s.blob.length).toBe(blobSize(n));
        expect(s.digest).toEqual(digestOf(s.blob));
        expect(same(openAttachment({ key: s.key, digest: s.digest, size: n }, s.blob), file)).toBe(true);
      }
      const one = sealAttachment(file);
      for (const split of [MiB, CIPHER_CHUNK, 777]) expect(same(streamOpen(one, one.blob, split), file)).toBe(true);
    }
  });

  test('P45 the same key seals the same stream: a streamed blob differs from the one-shot only in its random header nonce', () => {
    // secretstream draws its header inside libsodium, so byte identity is checked through the
    // stream: both blobs have one length and both open, under one key, to the same padded file.
    const file = bytes(3 * ATTACHMENT_CHUNK + 10);
    const one = sealAttachment(file);
    const s = streamSeal(file, 4096, one.key);
    expect(s.blob.length).toBe(one.blob.length);
    expect(same(openAttachment({ key: one.key, digest: s.digest, size: file.length }, s.blob), openAttachment(one, one.blob))).toBe(true);
  });

  test('P45 the key and header of an earlier seal seal the same file to the very same blob and digest (a cut-off upload resumes by comparing); another file differs', () => {
    for (const n of [0, ATTACHMENT_CHUNK + 1, 2 * MiB + 12_345]) {
      const file = bytes(n, 3);
      const first = streamSeal(file, MiB);
      const again = new AttachmentSealer(n, first.key, first.blob.subarray(0, STREAM_HEADER_LEN));
      const out: Uint8Array[] = [];
      for (let at = 0; at < n; at += 1000) out.push(...again.push(file.subarray(at, at + 1000)));
      while (!again.done) out.push(...again.pad(777));
      expect(same(concat(out), first.blob)).toBe(true);
      expect(same(again.digest(), first.digest)).toBe(true);
      if (n === 0) continue;
      const other = file.slice();
      other[n - 1]! ^= 1;
      const third = new AttachmentSealer(n, first.key, first.blob.subarray(0, STREAM_HEADER_LEN));
      const blob = concat([...third.push(other), ...third.pad(n + ATTACHMENT_CHUNK)]);
      expect(same(blob, first.blob)).toBe(false);
      expect(same(blob.subarray(0, STREAM_HEADER_LEN), first.blob.subarray(0, STREAM_HEADER_LEN))).toBe(true);
    }
    // Under one key and header a change anywhere reaches every chunk sealed after it (each MAC is
    // folded into the next nonce): the last chunk of a 2 MiB prefix differs for a byte changed at 1000.
    const file = bytes(3 * MiB, 5);
    const first = streamSeal(file, MiB);
    const other = file.slice();
    other[1000]! ^= 1;
    const again = new AttachmentSealer(file.length, first.key, first.blob.subarray(0, STREAM_HEADER_LEN));
    const blob = concat([...again.push(other), ...again.pad(file.length)]);
    const window = (b: Uint8Array) => b.subarray(2 * MiB - CIPHER_CHUNK - 16, 2 * MiB);
    expect(same(blob.subarray(0, 1000), first.blob.subarray(0, 1000))).toBe(true);
    expect(window(blob).some((x, i) => x !== window(first.blob)[i])).toBe(true);
    let equal = 0;
    for (let i = 0; i < CIPHER_CHUNK + 16; i++) if (window(blob)[i] === window(first.blob)[i]) equal++;
    expect(equal).toBeLessThan((CIPHER_CHUNK + 16) / 64);
    expect(code(() => new AttachmentSealer(10, undefined, new Uint8Array(STREAM_HEADER_LEN)))).toBe('InvalidArgument a stream header without its key');
    expect(code(() => new AttachmentSealer(10, new Uint8Array(32), new Uint8Array(5)))).toBe('InvalidArgument stream header of 5 bytes');
  });

  test('P40 a flipped byte in a middle part, a truncated blob, reordered parts and trailing bytes are refused', () => {
    const file = bytes(3 * MiB);
    const a = sealAttachment(file);
    const flipped = a.blob.slice();
    flipped[MiB + 5000]! ^= 1;
    const chunk = Math.floor((MiB + 5000 - STREAM_HEADER_LEN) / CIPHER_CHUNK);
    expect(code(() => streamOpen(a, flipped, MiB))).toBe(`InvalidMac attachment chunk ${chunk} failed authentication`);
    expect(code(() => streamOpen(a, a.blob.subarray(0, 2 * MiB), MiB))).toBe(`InvalidMessage attachment blob of ${2 * MiB} bytes, expected ${a.blob.length} for a ${3 * MiB}-byte file`);
    const reordered = a.blob.slice();
    reordered.set(a.blob.subarray(2 * MiB, 3 * MiB), MiB);
    reordered.set(a.blob.subarray(MiB, 2 * MiB), 2 * MiB);
    expect(code(() => streamOpen(a, reordered, MiB))).toMatch(/^InvalidMac attachment chunk \d+ failed authentication$/);
    const trailing = concat([a.blob, new Uint8Array(3)]);
    expect(code(() => streamOpen(a, trailing, MiB))).toBe(`InvalidMessage attachment blob longer than ${a.blob.length} bytes, expected for a ${3 * MiB}-byte file`);
    expect(same(streamOpen(a, a.blob, MiB), file)).toBe(true);
  });

  test('P45 a blob whose every chunk authenticates is still refused at the end when its digest is not the message\'s', () => {
    // A sender who seals another file under the same key: only the digest tells.
    const a = sealAttachment(bytes(200_000));
    const other = sealAttachment(bytes(200_000, 9), { key: a.key });
    const o = new AttachmentOpener(a);
    expect(o.push(other.blob).length).toBeGreaterThan(0);
    expect(code(() => o.finish())).toBe(`InvalidMac attachment digest does not match the ${a.blob.length}-byte blob`);
  });

  test('P40 a FINAL chunk before the end, a missing FINAL and non-zero padding are refused', () => {
    // Cut at a chunk boundary, with a size that fits the cut: the last chunk is not FINAL.
    const a = sealAttachment(bytes(3 * ATTACHMENT_CHUNK + 10));
    const cut = a.blob.subarray(0, STREAM_HEADER_LEN + 2 * CIPHER_CHUNK);
    expect(code(() => streamOpen({ key: a.key, digest: digestOf(cut), size: 2 * ATTACHMENT_CHUNK }, cut, MiB))).toBe('InvalidMessage attachment stream ended after 2 chunks without its final chunk');
    // A 1020-byte file claimed as 1000 bytes (same padded size): its last 20 bytes are not zeros.
    const b = sealAttachment(bytes(1020));
    expect(blobSize(1000)).toBe(b.blob.length);
    expect(code(() => streamOpen({ ...b, size: 1000 }, b.blob, MiB))).toBe('InvalidMessage attachment padding is not zeros at byte 1000');
    // A 1-chunk FINAL stream opened as the start of a longer one.
    const c = sealAttachment(bytes(ATTACHMENT_CHUNK));
    const longer = concat([c.blob, new Uint8Array(blobSize(2 * ATTACHMENT_CHUNK) - c.blob.length)]);
    expect(code(() => streamOpen({ key: c.key, digest: digestOf(longer), size: 2 * ATTACHMENT_CHUNK }, longer, MiB))).toBe('InvalidMessage attachment chunk 0 is final before the end of the stream');
  });

  test('the sealer refuses more file bytes than its size, and padding or a digest too early', () => {
    const s = new AttachmentSealer(10);
    expect(code(() => s.push(new Uint8Array(11)))).toBe('InvalidArgument 11 bytes pushed into a 10-byte file');
    s.push(new Uint8Array(4));
    expect(code(() => s.pad())).toBe('InvalidArgument padding after 4 of 10 file bytes');
    expect(code(() => s.digest())).toMatch(/^InvalidArgument digest before the end of the blob/);
  });
});

/** Where `needle` occurs in libsodium's heap (the raw module's HEAPU8). */
function heapHits(needle: Uint8Array): number[] {
  const heap = (sodium() as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
  const hits: number[] = [];
  for (let p = heap.indexOf(needle[0]!); p >= 0 && p <= heap.length - needle.length; p = heap.indexOf(needle[0]!, p + 1)) {
    let i = 1;
    while (i < needle.length && heap[p + i] === needle[i]) i++;
    if (i === needle.length) hits.push(p);
  }
  return hits;
}
const inHeap = (needle: Uint8Array) => heapHits(needle).length > 0;

/**
 * The key a secretstream state holds before any rekey, HChaCha20(key, the header's first 16
 * bytes); the wrappers leave the copy they computed it in behind in freed heap, so it is zeroed
 * there before the stream under test starts: afterwards only that stream's state holds it.
 */
function streamKey(key: Uint8Array, header: Uint8Array): Uint8Array {
  const k = sodium().crypto_core_hchacha20(header.subarray(0, 16), key, null);
  const heap = (sodium() as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
  for (const p of heapHits(k)) heap.fill(0, p, p + k.length);
  return k;
}

describe('P46 stream states leave the heap with their stream', () => {
  test('a sealer given up part-way zeroes and frees its stream state and wipes its key; the caller\'s key array is its own', () => {
    const file = bytes(3 * ATTACHMENT_CHUNK);
    const callerKey = sodium().crypto_secretstream_xchacha20poly1305_keygen();
    // A known header (the resume constructor), so k is known before the stream starts.
    const header = new AttachmentSealer(file.length, callerKey).header;
    const k = streamKey(callerKey, header);
    expect(inHeap(k)).toBe(false);
    const s = new AttachmentSealer(file.length, callerKey, header);
    s.push(file.subarray(0, ATTACHMENT_CHUNK));
    // The check can fail: while the stream runs, its state (and so k) is in the heap.
    expect(inHeap(k)).toBe(true);
    s.abandon();
    expect(inHeap(k)).toBe(false);
    expect(s.key.every((b) => b === 0)).toBe(true);
    expect(callerKey.some((b) => b !== 0)).toBe(true);
    expect(code(() => s.push(file.subarray(ATTACHMENT_CHUNK, 2 * ATTACHMENT_CHUNK)))).toMatch(/^InvalidArgument/);
    s.abandon();
  });

  test('an opener zeroes and frees its stream state when it finishes, fails or is given up', () => {
    const file = bytes(2 * ATTACHMENT_CHUNK + 5);
    const sealed = streamSeal(file, 10_000);
    const ref = { key: sealed.key, digest: sealed.digest, size: file.length };
    const k = streamKey(sealed.key, sealed.blob);
    expect(inHeap(k)).toBe(false);
    const heads = (end: number) => {
      const o = new AttachmentOpener(ref);
      o.push(sealed.blob.subarray(0, end));
      return o;
    };
    const given = heads(STREAM_HEADER_LEN + CIPHER_CHUNK);
    expect(inHeap(k)).toBe(true);
    given.abandon();
    expect(inHeap(k)).toBe(false);

    const whole = heads(sealed.blob.length);
    whole.finish();
    expect(inHeap(k)).toBe(false);

    const tampered = sealed.blob.slice();
    tampered[STREAM_HEADER_LEN + CIPHER_CHUNK + 3]! ^= 1;
    const failing = new AttachmentOpener(ref);
    expect(code(() => failing.push(tampered))).toMatch(/^InvalidMac/);
    expect(inHeap(k)).toBe(false);
  });

  test('the one-shot openers leave no stream state behind either, opened or refused', () => {
    const file = bytes(ATTACHMENT_CHUNK + 9);
    const sealed = sealAttachment(file);
    const k = streamKey(sealed.key, sealed.blob);
    expect(same(openAttachment(sealed, sealed.blob), file)).toBe(true);
    expect(inHeap(k)).toBe(false);
    const cut = sealed.blob.slice();
    cut[STREAM_HEADER_LEN + 1]! ^= 1;
    expect(code(() => openStream(sealed, cut))).toMatch(/^InvalidMac/);
    expect(inHeap(k)).toBe(false);
  });
});
