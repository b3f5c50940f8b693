/**
 * The attachment format (crypto/attachment.ts; README "Attachments"; SECURITY.md P45, P40) sealed
 * and opened a piece at a time, so a file of any size needs only a chunk or two of memory here.
 * Same bytes on the wire as sealAttachment/openAttachment: the blob is the secretstream header and
 * 64 KiB chunks of the padme-padded file, the last one FINAL; the digest is BLAKE2b-256 of the
 * whole blob, computed incrementally (crypto_generichash init/update/final).
 *
 * The opener authenticates every chunk as it arrives, but the blob digest and the FINAL tag can
 * only be checked at the end: the plaintext pieces it answers are NOT yet proven to be the
 * sender's file. The caller must keep them to itself until `finish()` returns (the vault hands the
 * page a file only after it, P45). Pure: no DOM, storage or network.
 */
import { fail } from '../codec/errors';
import {
  ATTACHMENT_CHUNK,
  ATTACHMENT_DIGEST_LEN,
  ATTACHMENT_KEY_LEN,
  CIPHER_CHUNK,
  MAX_ATTACHMENT_BYTES,
  STREAM_HEADER_LEN,
  TAG_FINAL,
  TAG_MESSAGE,
  blobSize,
  paddedPlainSize,
  releaseStream,
  type AttachmentRef
} from './attachment';
import { sodium } from './sodium';

type HashState = ReturnType<ReturnType<typeof sodium>['crypto_generichash_init']>;
type StreamState = ReturnType<ReturnType<typeof sodium>['crypto_secretstream_xchacha20poly1305_init_push']>['state'];
/** Seals one file, fed in order, into its blob: `push` the file's bytes, then `pad` until `done`. */
export class AttachmentSealer {
  readonly key: Uint8Array;
  /** The stream header the blob starts with (with the key, what seals the same file to the same blob again). */
  readonly header: Uint8Array;
  readonly size: number;
  /** Bytes of the whole blob (blobSize(size)). */
  readonly total: number;
  readonly #plainSize: number;
  #state: StreamState | undefined;
  #hash: HashState | undefined;
  #digest: Uint8Array | undefined;
  /** Padded-stream bytes sealed so far (whole chunks). */
  #sealed = 0;
  /** File bytes taken so far. */
  #taken = 0;
  readonly #chunk = new Uint8Array(ATTACHMENT_CHUNK);
  #fill = 0;
  #header: Uint8Array | undefined;

  /**
   * A fresh seal of a `size`-byte file; with the `key` and `header` of an earlier one, the same
   * seal again: the same file then gives the same blob, byte for byte (secretstream's push and
   * pull states are one structure, and init_pull(header, key) is the state init_push(key) made
   * with that header). An upload cut off with its tab resumes so (blob-stream.ts), comparing
   * what it seals again with the hashes of the parts it sent.
   */
  constructor(size: number, key?: Uint8Array, header?: Uint8Array) {
    const s = sodium();
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ATTACHMENT_BYTES) fail('InvalidArgument', `file of ${size} bytes (the limit is ${MAX_ATTACHMENT_BYTES})`);
    if (header && !key) fail('InvalidArgument', 'a stream header without its key');
    // Our own copy: `abandon` wipes it, never an array the caller still holds.
    this.key = key ? key.slice() : s.crypto_secretstream_xchacha20poly1305_keygen();
    if (this.key.length !== ATTACHMENT_KEY_LEN) fail('InvalidKey', `attachment key of ${this.key.length} bytes`);
    if (header && header.length !== STREAM_HEADER_LEN) fail('InvalidArgument', `stream header of ${header.length} bytes`);
    this.size = size;
    this.total = blobSize(size);
    this.#plainSize = paddedPlainSize(size);
    if (header) {
      this.#state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, this.key) as unknown as StreamState;
      this.#header = header.slice();
    } else {
      const fresh = s.crypto_secretstream_xchacha20poly1305_init_push(this.key);
      this.#state = fresh.state;
      this.#header = fresh.header;
    }
    const header0 = this.#header;
    this.header = header0.slice();
    this.#hash = s.crypto_generichash_init(null, ATTACHMENT_DIGEST_LEN);
    s.crypto_generichash_update(this.#hash, header0);
  }

  /** Every blob byte has been answered. */
  get done(): boolean {
    return this.#sealed === this.#plainSize;
  }

  /** File bytes taken so far. */
  get taken(): number {
    return this.#taken;
  }

  /** The next bytes of the file, in order; answers the blob bytes they completed (the header first). */
  push(file: Uint8Array): Uint8Array[] {
    if (this.#taken + file.length > this.size) fail('InvalidArgument', `${this.#taken + file.length} bytes pushed into a ${this.size}-byte file`);
    this.#taken += file.length;
    return this.#feed(file);
  }

  /** After the whole file: seals up to `max` bytes of zero padding (the last chunk FINAL); answers the blob bytes. */
  pad(max = 16 * ATTACHMENT_CHUNK): Uint8Array[] {
    if (this.#taken !== this.size) fail('InvalidArgument', `padding after ${this.#taken} of ${this.size} file bytes`);
    const left = this.#plainSize - this.#sealed - this.#fill;
    return this.#feed(new Uint8Array(Math.min(left, Math.max(1, max))));
  }

  /** BLAKE2b-256 of the whole blob, once `done`. */
  digest(): Uint8Array {
    if (!this.done) fail('InvalidArgument', `digest before the end of the blob (${this.#sealed} of ${this.#plainSize} bytes sealed)`);
    if (!this.#digest) {
      this.#digest = sodium().crypto_generichash_final(this.#hash!, ATTACHMENT_DIGEST_LEN);
      this.#hash = undefined;
    }
    return this.#digest;
  }

  /**
   * A stream given up before its end: frees the hash state, zeroes and frees the stream state and
   * wipes the key (a retry seals again from the key its note keeps, blob-stream.ts).
   */
  abandon(): void {
    if (this.#hash) sodium().crypto_generichash_final(this.#hash, ATTACHMENT_DIGEST_LEN);
    this.#hash = undefined;
    this.#state = releaseStream(this.#state);
    this.key.fill(0);
  }

  #feed(src: Uint8Array): Uint8Array[] {
    if (!this.#hash) fail('InvalidArgument', 'this stream was abandoned or has ended');
    const out: Uint8Array[] = [];
    if (this.#header) {
      out.push(this.#header);
      this.#header = undefined;
    }
    let at = 0;
    while (at < src.length) {
      const len = Math.min(ATTACHMENT_CHUNK, this.#plainSize - this.#sealed);
      if (this.#fill === 0 && src.length - at >= len) {
        out.push(this.#seal(src.subarray(at, at + len)));
        at += len;
        continue;
      }
      const n = Math.min(len - this.#fill, src.length - at);
      this.#chunk.set(src.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === len) {
        out.push(this.#seal(this.#chunk.subarray(0, len)));
        this.#fill = 0;
      }
    }
    return out;
  }

  #seal(plain: Uint8Array): Uint8Array {
    const s = sodium();
    if (this.#state === undefined) fail('InvalidArgument', 'this stream was abandoned or has ended');
    const last = this.#sealed + plain.length === this.#plainSize;
    const c = s.crypto_secretstream_xchacha20poly1305_push(this.#state, plain, null, last ? TAG_FINAL : TAG_MESSAGE);
    s.crypto_generichash_update(this.#hash!, c);
    this.#sealed += plain.length;
    // The FINAL chunk is the stream's last use of its state.
    if (last) this.#state = releaseStream(this.#state);
    return c;
  }
}

/**
 * Opens one blob, fed in order: `push` answers the file bytes of every chunk that authenticated,
 * `finish` checks what needs the whole blob. Errors are ProtocolErrors as openAttachment's:
 * InvalidMac for a chunk that fails authentication or a digest that does not match; InvalidMessage
 * for a stream longer or shorter than the size implies, a FINAL tag out of place, or padding that
 * is not zeros.
 */
export class AttachmentOpener {
  readonly total: number;
  readonly #ref: AttachmentRef;
  readonly #plainSize: number;
  #state: StreamState | undefined;
  #hash: HashState | undefined;
  /** Blob bytes taken so far. */
  #at = 0;
  /** Padded-stream bytes opened so far. */
  #opened = 0;
  #chunks = 0;
  readonly #buf = new Uint8Array(CIPHER_CHUNK);
  #fill = 0;

  constructor(ref: AttachmentRef) {
    const s = sodium();
    if (ref.key.length !== ATTACHMENT_KEY_LEN) fail('InvalidKey', `attachment key of ${ref.key.length} bytes`);
    if (!Number.isSafeInteger(ref.size) || ref.size < 0 || ref.size > MAX_ATTACHMENT_BYTES) fail('InvalidArgument', `file size ${ref.size}`);
    if (ref.digest.length !== ATTACHMENT_DIGEST_LEN) fail('InvalidMac', `attachment digest of ${ref.digest.length} bytes`);
    this.#ref = ref;
    this.total = blobSize(ref.size);
    this.#plainSize = paddedPlainSize(ref.size);
    this.#hash = s.crypto_generichash_init(null, ATTACHMENT_DIGEST_LEN);
  }

  /** Blob bytes taken so far. */
  get received(): number {
    return this.#at;
  }

  /** The next blob bytes, in order; answers file bytes NOT yet proven whole (see the module header). */
  push(blob: Uint8Array): Uint8Array[] {
    const s = sodium();
    if (!this.#hash) fail('InvalidMessage', 'attachment stream already failed or finished');
    if (this.#at + blob.length > this.total) this.#fail('InvalidMessage', `attachment blob longer than ${this.total} bytes, expected for a ${this.#ref.size}-byte file`);
    s.crypto_generichash_update(this.#hash, blob);
    this.#at += blob.length;
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < blob.length) {
      const want = this.#state ? Math.min(CIPHER_CHUNK, this.total - this.#cipherDone()) : STREAM_HEADER_LEN;
      if (this.#fill === 0 && blob.length - at >= want) {
        this.#take(blob.subarray(at, at + want), out);
        at += want;
        continue;
      }
      const n = Math.min(want - this.#fill, blob.length - at);
      this.#buf.set(blob.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === want) {
        this.#fill = 0;
        this.#take(this.#buf.subarray(0, want), out);
      }
    }
    return out;
  }

  /** After the last blob byte: the length, the FINAL chunk and the digest. Only then is the file the sender's. */
  finish(): void {
    if (!this.#hash) fail('InvalidMessage', 'attachment stream already failed or finished');
    if (this.#at !== this.total) this.#fail('InvalidMessage', `attachment blob of ${this.#at} bytes, expected ${this.total} for a ${this.#ref.size}-byte file`);
    if (this.#opened !== this.#plainSize) this.#fail('InvalidMessage', `attachment stream ended after ${this.#chunks} chunks without its final chunk`);
    const digest = sodium().crypto_generichash_final(this.#hash, ATTACHMENT_DIGEST_LEN);
    this.#hash = undefined;
    this.#state = releaseStream(this.#state);
    if (!sodium().memcmp(digest, this.#ref.digest)) fail('InvalidMac', `attachment digest does not match the ${this.total}-byte blob`);
  }

  /** Frees the hash state, and zeroes and frees the stream state, of a stream given up before its end. */
  abandon(): void {
    if (this.#hash) sodium().crypto_generichash_final(this.#hash, ATTACHMENT_DIGEST_LEN);
    this.#hash = undefined;
    this.#state = releaseStream(this.#state);
  }

  /** Ciphertext bytes of the chunks opened so far, header included. */
  #cipherDone(): number {
    return STREAM_HEADER_LEN + this.#opened + this.#chunks * (CIPHER_CHUNK - ATTACHMENT_CHUNK);
  }

  #take(piece: Uint8Array, out: Uint8Array[]): void {
    const s = sodium();
    if (!this.#state) {
      this.#state = s.crypto_secretstream_xchacha20poly1305_init_pull(piece, this.#ref.key);
      return;
    }
    const i = this.#chunks;
    const r = s.crypto_secretstream_xchacha20poly1305_pull(this.#state, piece, null) as { message: Uint8Array; tag: number } | false;
    if (!r) return this.#fail('InvalidMac', `attachment chunk ${i} failed authentication`);
    const start = this.#opened;
    this.#opened += r.message.length;
    this.#chunks++;
    const last = this.#opened === this.#plainSize;
    if (r.tag === TAG_FINAL && !last) this.#fail('InvalidMessage', `attachment chunk ${i} is final before the end of the stream`);
    if (r.tag !== TAG_FINAL && r.tag !== TAG_MESSAGE) this.#fail('InvalidMessage', `attachment chunk ${i} has tag ${r.tag}`);
    if (last && r.tag !== TAG_FINAL) this.#fail('InvalidMessage', `attachment stream ended after ${i + 1} chunks without its final chunk`);
    const fileEnd = Math.max(0, Math.min(r.message.length, this.#ref.size - start));
    for (let j = fileEnd; j < r.message.length; j++) if (r.message[j] !== 0) this.#fail('InvalidMessage', `attachment padding is not zeros at byte ${start + j}`);
    if (fileEnd > 0) out.push(fileEnd === r.message.length ? r.message : r.message.subarray(0, fileEnd));
  }

  #fail(code: 'InvalidMac' | 'InvalidMessage', message: string): never {
    this.abandon();
    return fail(code, message);
  }
}
