/**
 * Encrypted attachments (DESIGN.md §4 "Encoding", SECURITY.md P1 and P40): the format of a file's
 * ciphertext as the host stores it, and its pure seal and open.
 *
 *   blob = secretstream header (24) || chunk_0 || ... || chunk_{n-1}
 *   chunk_i = crypto_secretstream_xchacha20poly1305_push(plain_i) (plain_i is ATTACHMENT_CHUNK
 *             bytes, the last one 1..ATTACHMENT_CHUNK), tagged MESSAGE, the last one FINAL
 *   plain = file bytes || zeros up to padme(file size)
 *   digest = BLAKE2b-256(blob), carried beside the key in the message (wire/content.ts kind 0x10)
 *            (BLAKE2b, not SHA-256: libsodium's wasm hashes it about 4x faster)
 *
 * A fresh 32-byte key per file. The stream's own nonce chaining makes a reordered, dropped or
 * repeated chunk fail authentication; the FINAL tag makes a truncated blob an error, and bytes
 * after it are refused. Padding to padme (Nikitin et al., "Reducing metadata leakage from
 * encrypted files", PETS 2019) leaves the host a size class with at most 12% overhead, never
 * the exact size. The opener checks the digest first, so a blob the host swapped is refused
 * before a byte is decrypted. Pure: no DOM, storage or network; the vault worker does the IO.
 */
import { fail } from '../codec/errors';
import { sodium } from './sodium';
import { releaseWrapperState } from './sodium-heap';

/** Plaintext bytes per secretstream chunk. */
export const ATTACHMENT_CHUNK = 64 * 1024;
export const ATTACHMENT_KEY_LEN = 32;
export const ATTACHMENT_DIGEST_LEN = 32;
export const STREAM_HEADER_LEN = 24;
export const STREAM_ABYTES = 17;
/** Ciphertext bytes per full chunk. */
export const CIPHER_CHUNK = ATTACHMENT_CHUNK + STREAM_ABYTES;
/** Largest file, in plaintext bytes (the host refuses blobs beyond maxBlobSize(MAX_ATTACHMENT_BYTES)). */
export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;

/** secretstream tags: every chunk but the last is MESSAGE, the last FINAL. */
export const TAG_MESSAGE = 0;
export const TAG_FINAL = 3;

/** The blob's digest: BLAKE2b with a 32-byte output. */
export function digestOf(blob: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(ATTACHMENT_DIGEST_LEN, blob, null);
}

/** padme(L): L rounded up so that only its top ~log2(log2 L) bits vary (≤ 12% overhead). */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) fail('InvalidArgument', `length ${length} is not a size`);
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const step = 2 ** (e - s);
  return Math.ceil(length / step) * step;
}

/** Bytes of the padded plaintext stream for a file of `size` bytes (never empty: one chunk at least). */
export function paddedPlainSize(size: number): number {
  return Math.max(1, padme(size));
}

/** Bytes of the blob the host stores for a file of `size` bytes. */
export function blobSize(size: number): number {
  const plain = paddedPlainSize(size);
  return STREAM_HEADER_LEN + plain + Math.ceil(plain / ATTACHMENT_CHUNK) * STREAM_ABYTES;
}

export interface SealedAttachment {
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
  blob: Uint8Array;
}

type StreamState = ReturnType<ReturnType<typeof sodium>['crypto_secretstream_xchacha20poly1305_init_pull']>;

/** crypto_secretstream_xchacha20poly1305_statebytes(): what the wrappers allocate for a stream state. */
const STREAM_STATE_LEN = 52;

/**
 * Zeroes and frees a secretstream state (the wrappers allocate one per stream and never free it),
 * so the key schedule it holds leaves the heap with its stream (P46). Answers undefined, for
 * `state = releaseStream(state)`; the state must not be used again.
 */
export function releaseStream<T>(state: T | undefined): undefined {
  if (state !== undefined) releaseWrapperState(state as unknown as number, STREAM_STATE_LEN);
  return undefined;
}

/**
 * Seals a whole file into its blob under a fresh key (or `key`, for tests). Calls `progress`
 * with plaintext bytes done after each chunk.
 */
export function sealAttachment(file: Uint8Array, opts: { key?: Uint8Array; progress?: (done: number) => void } = {}): SealedAttachment {
  const s = sodium();
  if (file.length > MAX_ATTACHMENT_BYTES) fail('InvalidArgument', `file of ${file.length} bytes exceeds ${MAX_ATTACHMENT_BYTES}`);
  const key = opts.key ?? s.crypto_secretstream_xchacha20poly1305_keygen();
  if (key.length !== ATTACHMENT_KEY_LEN) fail('InvalidKey', `attachment key of ${key.length} bytes`);
  const plainSize = paddedPlainSize(file.length);
  const blob = new Uint8Array(blobSize(file.length));
  const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
  try {
    blob.set(header, 0);
    let at = STREAM_HEADER_LEN;
    const chunk = new Uint8Array(ATTACHMENT_CHUNK);
    for (let off = 0; off < plainSize; off += ATTACHMENT_CHUNK) {
      const len = Math.min(ATTACHMENT_CHUNK, plainSize - off);
      const piece = len === ATTACHMENT_CHUNK ? chunk : new Uint8Array(len);
      piece.fill(0);
      if (off < file.length) piece.set(file.subarray(off, Math.min(off + len, file.length)));
      const last = off + len >= plainSize;
      const c = s.crypto_secretstream_xchacha20poly1305_push(state, piece, null, last ? TAG_FINAL : TAG_MESSAGE);
      blob.set(c, at);
      at += c.length;
      opts.progress?.(Math.min(off + len, file.length));
    }
  } finally {
    releaseStream(state);
  }
  return { key, digest: digestOf(blob), size: file.length, blob };
}

/** What the message says about a file: enough to check and open its blob. */
export interface AttachmentRef {
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
}

/**
 * Opens a blob the host returned. Errors (ProtocolError): InvalidMac "digest" when the blob is
 * not the one the sender sealed (swapped, truncated or altered by the host: checked first), or a
 * chunk fails authentication (wrong key, reordered or altered chunk); InvalidMessage when the
 * stream ends before its FINAL chunk, goes on after it, or its padding is not zeros.
 */
export function openAttachment(ref: AttachmentRef, blob: Uint8Array, progress?: (done: number) => void): Uint8Array {
  const s = sodium();
  if (ref.key.length !== ATTACHMENT_KEY_LEN) fail('InvalidKey', `attachment key of ${ref.key.length} bytes`);
  if (!Number.isSafeInteger(ref.size) || ref.size < 0 || ref.size > MAX_ATTACHMENT_BYTES) fail('InvalidArgument', `file size ${ref.size}`);
  if (ref.digest.length !== ATTACHMENT_DIGEST_LEN || !s.memcmp(digestOf(blob), ref.digest)) {
    fail('InvalidMac', `attachment digest does not match the ${blob.length}-byte blob`);
  }
  return openStream(ref, blob, progress);
}

/** The stream checks alone (the digest already matched, or a test skips it to reach them). */
export function openStream(ref: Pick<AttachmentRef, 'key' | 'size'>, blob: Uint8Array, progress?: (done: number) => void): Uint8Array {
  const s = sodium();
  const expected = blobSize(ref.size);
  if (blob.length !== expected) fail('InvalidMessage', `attachment blob of ${blob.length} bytes, expected ${expected} for a ${ref.size}-byte file`);
  const state = s.crypto_secretstream_xchacha20poly1305_init_pull(blob.subarray(0, STREAM_HEADER_LEN), ref.key);
  try {
    return pullAll(state, ref, blob, progress);
  } finally {
    releaseStream(state);
  }
}

function pullAll(state: StreamState, ref: Pick<AttachmentRef, 'key' | 'size'>, blob: Uint8Array, progress?: (done: number) => void): Uint8Array {
  const s = sodium();
  const plainSize = paddedPlainSize(ref.size);
  const out = new Uint8Array(plainSize);
  let at = STREAM_HEADER_LEN;
  let got = 0;
  for (let i = 0; ; i++) {
    if (at >= blob.length) fail('InvalidMessage', `attachment stream ended after ${i} chunks without its final chunk`);
    const end = Math.min(at + CIPHER_CHUNK, blob.length);
    const r = s.crypto_secretstream_xchacha20poly1305_pull(state, blob.subarray(at, end), null) as { message: Uint8Array; tag: number } | false;
    if (!r) fail('InvalidMac', `attachment chunk ${i} failed authentication`);
    if (got + r.message.length > plainSize) fail('InvalidMessage', `attachment stream longer than ${plainSize} bytes`);
    out.set(r.message, got);
    got += r.message.length;
    at = end;
    progress?.(Math.min(got, ref.size));
    if (r.tag === TAG_FINAL) break;
    if (r.tag !== TAG_MESSAGE) fail('InvalidMessage', `attachment chunk ${i} has tag ${r.tag}`);
  }
  if (at !== blob.length) fail('InvalidMessage', `${blob.length - at} bytes after the attachment's final chunk`);
  if (got !== plainSize) fail('InvalidMessage', `attachment stream of ${got} bytes, expected ${plainSize}`);
  for (let i = ref.size; i < plainSize; i++) if (out[i] !== 0) fail('InvalidMessage', `attachment padding is not zeros at byte ${i}`);
  return out.slice(0, ref.size);
}
