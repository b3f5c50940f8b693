/**
 * One attachment blob streamed from a file to the host (README "Attachments"; SECURITY.md P45,
 * P40), so the vault holds a couple of 4 MiB parts, never the file or its blob.
 *
 * Upload: the file is read in slices (Blob.slice().arrayBuffer()), sealed by one
 * AttachmentSealer (crypto/attachment-stream.ts) and each PUT_PART_BYTES part is PUT as soon
 * as it is sealed, the next one sealed while it is in flight. Sealed bytes are kept until the host
 * confirms them. A failed part is retried from the offset the host reports, when that offset is
 * within what we still hold; a host that lost the upload (404, or an offset outside what we hold)
 * gets a fresh upload from the first byte under a fresh key, once per attempt. An upload that still
 * fails keeps its state, so a retry with the same StreamUpload resumes where the host is.
 *
 * The download is ranged-download.ts.
 * The upload also writes the blob, as the host holds it, into this browser's own copy
 * (storage/file-repo.ts), each part once the host confirmed it. The caller marks the copy
 * complete (attachments.ts); until then it is only parts. A copy that cannot be written (the
 * browser's storage quota) is given up, never the transfer: `kept` says whether the copy is whole.
 *
 * Resuming after the tab closed (`PriorUpload`, from unsent-files.ts). As a part's PUT goes (the
 * next part's while the one before travels), a BLAKE2b-256 of its sealed bytes is noted
 * (`target.onPart`, sealed in the unsent note), with the blob id, the file's key and the stream
 * header noted when the blob was made. Nothing waits for these notes: one that lands too late
 * leaves the noted parts short of the host's offset, and the resume then starts clean. When the same
 * file is picked again, it is sealed again under that key and header (attachment-stream.ts: the
 * same file seals to the same blob) up to where the host is, and every part must hash as noted;
 * then only the rest goes up. A part that differs (another file of the same name and size), parts
 * that do not end where the host is, or a blob the host no longer has, and the upload starts clean
 * under a fresh key: the host's word is only compared against our own record, never trusted.
 * Knows nothing of messages or the UI.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';
import { fail } from '../../src/lib/codec/errors';
import { CIPHER_CHUNK, digestOf } from '../../src/lib/crypto/attachment';
import { AttachmentSealer } from '../../src/lib/crypto/attachment-stream';
import { releaseHashes } from '../../src/lib/crypto/blob-release';
import { BLOB_API, MAX_PART_BYTES, UPLOAD_PART_BYTES, isBlobId, type BlobAddRecipients, type BlobCreate, type BlobCreated, type BlobUploadState } from '../../src/lib/wire/blob-api';
import { CopyWriter, dropFile } from '../storage/file-repo';
import type { Vault } from '../storage/schema';
import { fetcher, refusal, type BlobFetch } from './blob-client';
import type { EngineContext } from './context';
import { EngineError, engineFail } from './errors';
import { answerJson } from './host-fetch';

/** The host's `received` count in an upload answer (read bounded, host-fetch.ts); anything else is DecodeFailed. */
function receivedOf(body: unknown): number {
  const received = (body as Partial<BlobUploadState> | undefined)?.received;
  if (typeof received !== 'number' || !Number.isSafeInteger(received) || received < 0) return fail('DecodeFailed', 'the host answered no upload offset');
  return received;
}

/** Plaintext read from the file at a time. */
const READ_SLICE = UPLOAD_PART_BYTES;
/**
 * Sealed bytes per PUT: the largest part the host takes. Fewer, larger requests measured about
 * +40% upload in Chromium against 1 MiB parts (README "Attachments (as built)"); the vault then
 * holds at most two of them sealed (this one travelling, the next one ready).
 */
export const PUT_PART_BYTES = MAX_PART_BYTES;
/**
 * What of a sealed part its noted hash covers: its last cipher chunk and a tag (a part shorter than
 * that, whole). Enough to tell two seals of a prefix apart: under one key and header, secretstream
 * folds each chunk's MAC into the nonce of the next, so a chunk that differs anywhere before changes
 * every byte sealed after it, and the window holds at least one whole chunk's tag; a difference in
 * the window itself is seen directly. Hashing the whole 4 MiB part instead cost about a tenth of
 * upload throughput (README "Attachments", *Resuming*).
 */
const PRINT_WINDOW = CIPHER_CHUNK + 16;
/** The noted hash of a part, from its sealed bytes (or just their last PRINT_WINDOW). */
const partPrint = (sealed: Uint8Array): Uint8Array => digestOf(sealed.subarray(Math.max(0, sealed.length - PRINT_WINDOW)));

/** Tries per part before the upload gives up for now (it stays resumable). */
const PART_TRIES = 3;
const RETRY_MS = 200;

/** What the message needs of an uploaded file. */
export interface UploadedFile {
  blobId: string;
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function readSlice(file: Uint8Array | Blob, start: number, end: number): Promise<Uint8Array> {
  if (file instanceof Uint8Array) return file.subarray(start, end);
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

type PutResult = { ok: true; received: number } | { ok: false; received?: number; error: unknown; status: number };

/** Where an upload keeps our own copy, and whom the host holds the blob for. */
export interface UploadTarget {
  /** The message this file will be sent in (its id is chosen before the upload, so a retry keeps it). */
  messageId: string;
  /** Our copy's owner (file-repo.ts messageOwner / groupOwner of that message's key). */
  owner: string;
  /** Who will fetch it (their release hashes are listed at creation, crypto/blob-release.ts). */
  recipients: readonly string[];
  /** Told when the host made the blob (a fresh one after it lost the first, too), before any PUT. */
  onBlob?: (blob: { blobId: string; key: Uint8Array; header: Uint8Array }) => Promise<void>;
  /** Told each part's hash as its PUT goes (unsent-files.ts notes it; nothing waits for it). */
  onPart?: (part: NotedPart) => Promise<void>;
}

/** A part of the blob as noted when its PUT goes: where it starts and its hash (`partPrint`). */
export interface NotedPart {
  at: number;
  hash: Uint8Array;
}

/** A stopped upload of the same file to take over: the host's blob, the file's key and stream header, its parts as noted. */
export interface PriorUpload {
  blobId: string;
  key: Uint8Array;
  header: Uint8Array;
  parts: readonly NotedPart[];
}

/** One file's upload; `run` again after a failure to resume it. */
export class StreamUpload {
  readonly file: Uint8Array | Blob;
  readonly size: number;
  readonly target: UploadTarget;
  #vault: Vault | undefined;
  #sealer: AttachmentSealer;
  #blobId: string | undefined;
  /** Sealed blob bytes the host has not confirmed, contiguous from #heldStart. */
  #held: Uint8Array[] = [];
  #heldStart = 0;
  /** Blob bytes sealed so far. */
  #produced = 0;
  /** Blob bytes the host holds. */
  #confirmed = 0;
  #running = false;
  /** Set by `forget` (the vault locked): see `#alive`. */
  #forgotten = false;
  /** Our copy of the confirmed bytes (file-repo.ts), written alongside the upload. */
  #copy: CopyWriter | undefined;
  /** The largest number of sealed, unconfirmed bytes held at once (tests check memory stays flat). */
  peakHeld = 0;
  /** Whom the blob lists for release: the target's recipients, and any added since (listAlso). */
  #listed: string[];
  /** The stopped upload this one tries to take over, until `run` tried. */
  #prior: PriorUpload | undefined;
  /** The last part whose hash was noted (the next one is noted while the part before it travels). */
  #noting: { at: number; end: number } | undefined;

  constructor(file: Uint8Array | Blob, target: UploadTarget, prior?: PriorUpload) {
    this.file = file;
    this.target = target;
    this.#listed = [...target.recipients];
    this.size = file instanceof Uint8Array ? file.length : file.size;
    this.#sealer = new AttachmentSealer(this.size);
    this.#prior = prior;
  }

  /** Uploads (or resumes) the whole blob; answers what the message carries. */
  async run(ctx: EngineContext, progress: (done: number) => void): Promise<UploadedFile> {
    if (this.#running) return fail('InvalidArgument', 'this file is already being uploaded');
    this.#running = true;
    this.#vault = ctx.vault;
    this.#copy ??= new CopyWriter(ctx.vault, this.target.owner);
    try {
      return await this.#run(fetcher(ctx), progress);
    } finally {
      this.#running = false;
    }
  }

  async #run(go: BlobFetch, progress: (done: number) => void): Promise<UploadedFile> {
    let restarted = false;
    const restart = async (why: string) => {
      if (restarted) return engineFail('Unavailable', `the host lost the upload again (${why})`);
      restarted = true;
      await this.#reset();
      await this.#create(go);
    };
    if (!this.#blobId && this.#prior) await this.#takeOver(go, this.#prior);
    if (!this.#blobId) await this.#create(go);
    else {
      const at = await this.#hostOffset(go);
      if (at === undefined || !this.#holds(at)) await restart(`host at ${at ?? 'no upload'}, we hold ${this.#heldStart}..${this.#produced}`);
      else await this.#confirm(at);
    }
    progress(this.#confirmed);
    let tries = 0;
    while (this.#confirmed < this.#sealer.total) {
      this.#alive();
      this.#drop();
      await this.#sealUntil(Math.min(this.#confirmed + PUT_PART_BYTES, this.#sealer.total));
      const from = this.#confirmed;
      const end = Math.min(from + PUT_PART_BYTES, this.#produced);
      const body = this.#bytes(from, end);
      // The part's hash is noted as it goes (not waited for: a note that lands after the host
      // took the part only leaves a later resume short, and that one then starts clean).
      this.#note(from, end);
      const sending = this.#put(go, from, body);
      // The next part is sealed, and its hash noted, while this one travels.
      await this.#sealUntil(Math.min(from + 2 * PUT_PART_BYTES, this.#sealer.total));
      const next = Math.min(end + PUT_PART_BYTES, this.#produced);
      if (next > end) this.#note(end, next);
      const r = await sending;
      if (r.ok || r.received !== undefined) {
        // 409: the host is elsewhere (an earlier part landed though its answer was lost).
        if (!this.#holds(r.received!)) await restart(`host at ${r.received}, we hold ${this.#heldStart}..${this.#produced}`);
        else await this.#confirm(r.received!);
        if (r.ok) tries = 0;
      } else if (r.status === 404) {
        await restart('upload gone');
      } else if (r.status >= 500 || r.status === 0) {
        // A lock aborts the part in flight (the disconnect): stop with Locked, asking nothing more.
        this.#alive();
        if (++tries >= PART_TRIES) throw r.error;
        await sleep(RETRY_MS * tries);
        this.#alive();
        const at = await this.#hostOffset(go).catch(() => this.#confirmed);
        if (at === undefined || !this.#holds(at)) await restart(`host at ${at ?? 'no upload'} after a failed part`);
        else await this.#confirm(at);
      } else throw r.error;
      progress(this.#confirmed);
    }
    this.#drop();
    this.#alive();
    // A copy: the sealer's own key is wiped if this upload is given up later (AttachmentSealer.abandon).
    return { blobId: this.#blobId!, key: this.#sealer.key.slice(), digest: this.#sealer.digest(), size: this.size };
  }

  /**
   * The vault locked (P46): the key and stream state go; our partial copy and the upload's note
   * stay, so a Retry after unlocking takes the upload over where the host is, as after a closed
   * tab (`#takeOver`). A run still going stops with Locked before its next part or chunk; the
   * sealed parts it holds (ciphertext) are left to it, never cut from under a part in flight.
   */
  forget(): void {
    this.#forgotten = true;
    this.#sealer.abandon();
  }

  /** A forgotten upload makes no new key and hands out no reference: the vault locked under it. */
  #alive(): void {
    if (this.#forgotten) engineFail('Locked', 'the vault locked during this upload');
  }

  /** Frees what a given-up upload holds, our partial copy included. */
  abandon(): void {
    this.#sealer.abandon();
    this.#held = [];
    const vault = this.#vault;
    const copy = this.#copy;
    // Once the writes in flight settled, so none lands after the drop.
    if (vault) void (copy?.finish() ?? Promise.resolve(false)).then(() => dropFile(vault, this.target.owner)).catch(() => undefined);
  }

  /**
   * The host holds blob bytes up to `to`: the newly confirmed ones go into our copy first (while we
   * still hold them), then count as confirmed. Only confirmed bytes are copied, so the copy is
   * always a prefix of the blob the host has.
   */
  async #confirm(to: number): Promise<void> {
    if (to > this.#confirmed) await this.#copy!.write(this.#confirmed, this.#bytes(this.#confirmed, to));
    this.#confirmed = to;
  }

  /** Notes the hash of the part [at, end), once per range (the notes of one upload commit in order). */
  #note(at: number, end: number): void {
    const onPart = this.target.onPart;
    if (!onPart || (this.#noting?.at === at && this.#noting.end === end)) return;
    this.#noting = { at, end };
    // Best effort, as the blob's note: a part not noted only makes a later resume start clean.
    void onPart({ at, hash: partPrint(this.#bytes(Math.max(at, end - PRINT_WINDOW), end)) }).catch(() => undefined);
  }

  /**
   * Takes over `prior` (a stopped upload of, we hope, this file) if the host still has its blob,
   * the noted parts end exactly where the host is, and sealing this file again under its key and
   * header gives parts with exactly the noted hashes; they go into our copy as they are checked.
   * Otherwise leaves a clean state, so `#run` makes a new blob. A host out of reach fails the run
   * and leaves `prior` for the next one.
   */
  async #takeOver(go: BlobFetch, prior: PriorUpload): Promise<void> {
    this.#prior = undefined;
    this.#blobId = prior.blobId;
    let at: number | undefined;
    try {
      at = await this.#hostOffset(go);
    } catch (e) {
      this.#blobId = undefined;
      this.#prior = prior;
      throw e;
    }
    const parts = prior.parts.filter((p) => at !== undefined && p.at < at);
    let ok = at !== undefined && at > 0 && at <= this.#sealer.total && parts.length > 0 && parts[0]!.at === 0 && parts.every((p, i) => i === 0 || p.at > parts[i - 1]!.at);
    if (ok) {
      try {
        // What an earlier start-up sweep left of our copy goes: the verified parts are written afresh.
        await dropFile(this.#vault!, this.target.owner);
        this.#sealer.abandon();
        this.#sealer = new AttachmentSealer(this.size, prior.key, prior.header);
        for (let i = 0; i < parts.length; i++) {
          const from = parts[i]!.at;
          const end = i + 1 < parts.length ? parts[i + 1]!.at : at!;
          await this.#sealUntil(end);
          const bytes = this.#bytes(from, end);
          ok = bytesEqual(partPrint(bytes), parts[i]!.hash);
          if (!ok) break;
          await this.#copy!.write(from, bytes);
          this.#confirmed = end;
          this.#drop();
        }
      } catch {
        ok = false;
      }
    }
    if (!ok) await this.#reset();
  }

  /** True if the blob lists `username` for release. */
  lists(username: string): boolean {
    return this.#listed.includes(username);
  }

  /**
   * Lists also those of `recipients` the blob does not list yet (a member who joined the group
   * while the file went up: unlisted, the others' releases could delete the blob before they
   * fetched it). Call after `run`; a refusal (the host lost the blob) is thrown, and a later `run`
   * starts again with everyone listed.
   */
  async listAlso(ctx: EngineContext, recipients: readonly string[]): Promise<void> {
    const extra = recipients.filter((u) => !this.#listed.includes(u));
    if (extra.length === 0 || !this.#blobId) return;
    const body: BlobAddRecipients = { releases: releaseHashes(this.#sealer.key, extra) };
    const res = await fetcher(ctx)(`${BLOB_API.prefix}${this.#blobId}${BLOB_API.recipientsSuffix}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) await refusal(res);
    this.#listed.push(...extra);
  }

  /**
   * After `run`: waits until our copy is written; the writer if every part was (to check and mark
   * in the message's transaction), undefined if a write failed (the storage quota: the message
   * goes without a copy).
   */
  async kept(): Promise<CopyWriter | undefined> {
    return this.#copy && (await this.#copy.finish()) ? this.#copy : undefined;
  }

  async #reset(): Promise<void> {
    this.#alive();
    await this.#copy?.finish();
    await dropFile(this.#vault!, this.target.owner).catch(() => undefined);
    this.#copy = new CopyWriter(this.#vault!, this.target.owner);
    this.#sealer.abandon();
    this.#sealer = new AttachmentSealer(this.size);
    this.#blobId = undefined;
    this.#held = [];
    this.#heldStart = this.#produced = this.#confirmed = 0;
  }

  async #create(go: BlobFetch): Promise<void> {
    const body: BlobCreate = { size: this.#sealer.total, releases: releaseHashes(this.#sealer.key, this.#listed) };
    const res = await go(BLOB_API.blobs, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) await refusal(res);
    const created = (await answerJson(res)) as Partial<BlobCreated> | undefined;
    if (typeof created?.id !== 'string' || !isBlobId(created.id)) fail('DecodeFailed', 'the host answered no blob id');
    this.#blobId = created.id;
    this.#confirmed = 0;
    this.#noting = undefined;
    // Best effort: without the note the upload still goes; it only cannot resume after a closed tab.
    await this.target.onBlob?.({ blobId: this.#blobId, key: this.#sealer.key.slice(), header: this.#sealer.header }).catch(() => undefined);
  }

  /** Where the host is with our upload; undefined when it no longer has it. */
  async #hostOffset(go: BlobFetch): Promise<number | undefined> {
    const res = await go(`${BLOB_API.prefix}${this.#blobId}/upload`);
    if (res.status === 404) return undefined;
    if (!res.ok) await refusal(res);
    return receivedOf(await answerJson(res));
  }

  #holds(at: number): boolean {
    return Number.isSafeInteger(at) && at >= this.#heldStart && at <= this.#produced;
  }

  async #put(go: BlobFetch, at: number, body: Uint8Array): Promise<PutResult> {
    try {
      // A Blob body, not the typed array: Chromium uploads a Blob several times faster
      // (tests/bench/files.bench.ts: about 4 MB/s against 34 MB/s on the same run conditions).
      const res = await go(`${BLOB_API.prefix}${this.#blobId}?offset=${at}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Blob([body as Uint8Array<ArrayBuffer>]) });
      if (res.ok) return { ok: true, received: receivedOf(await answerJson(res)) };
      if (res.status === 409) return { ok: false, received: receivedOf(await answerJson(res)), error: undefined, status: 409 };
      return await refusal(res).catch((error: unknown) => ({ ok: false as const, error, status: res.status }));
    } catch (error) {
      // A network failure (EngineError Unavailable from the transport) is worth another try.
      return { ok: false, error, status: error instanceof EngineError && error.code === 'Unavailable' ? 0 : -1 };
    }
  }

  /** Seals file (then padding) until `end` blob bytes exist. */
  async #sealUntil(end: number): Promise<void> {
    while (this.#produced < end) {
      this.#alive();
      const s = this.#sealer;
      const out = s.taken < this.size ? s.push(await readSlice(this.file, s.taken, Math.min(s.taken + READ_SLICE, this.size))) : s.pad(READ_SLICE);
      for (const c of out) {
        this.#held.push(c);
        this.#produced += c.length;
      }
      this.peakHeld = Math.max(this.peakHeld, this.#produced - this.#heldStart);
    }
  }

  /** Forgets held bytes the host has confirmed. */
  #drop(): void {
    while (this.#held.length && this.#heldStart + this.#held[0]!.length <= this.#confirmed) this.#heldStart += this.#held.shift()!.length;
  }

  /** Held blob bytes [from, to) as one array. */
  #bytes(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    let pos = this.#heldStart;
    for (const c of this.#held) {
      const a = Math.max(from, pos);
      const b = Math.min(to, pos + c.length);
      if (a < b) out.set(c.subarray(a - pos, b - pos), a - from);
      pos += c.length;
      if (pos >= to) break;
    }
    return out;
  }
}
