/**
 * One attachment blob streamed from the host into a file (README "Attachments (as built)";
 * SECURITY.md P45, P40), so the vault holds a few 1 MiB parts, never the blob.
 *
 * Ranged GETs of UPLOAD_PART_BYTES parts, up to DOWNLOAD_IN_FLIGHT at once (three ranges in flight
 * were the largest measured lever), fed strictly in order into one AttachmentOpener. Each answer
 * must be exactly its range's length; what the bytes are is the opener's check. The plaintext
 * pieces go into Blobs (which the browser may page to disk) and the file is answered only after
 * the opener's final checks (length, FINAL tag, padding, digest) pass; before that nothing leaves
 * this module (P45). Any failure aborts the requests still in flight and waits for them to settle
 * before it is thrown.
 * Each part is also written, as the host holds it, into this browser's own copy
 * (storage/file-repo.ts) as it arrives; the caller marks the copy complete (attachments.ts). A
 * download that stops part-way keeps those parts, and the next one resumes: it reads them back from
 * the copy into the opener (which checks them again, chunk by chunk) and asks the host only for the
 * rest.
 * Knows nothing of messages or the UI.
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import { AttachmentOpener } from '../../src/lib/crypto/attachment-stream';
import { blobSize, type AttachmentRef } from '../../src/lib/crypto/attachment';
import { BLOB_API, UPLOAD_PART_BYTES } from '../../src/lib/wire/blob-api';
import { CopyWriter, FROM_START, localParts, type ResumePoint } from '../storage/file-repo';
import { downloader, refusal, type BlobFetch } from './blob-client';
import type { EngineContext } from './context';
import { EngineError, engineFail, isEngineError } from './errors';
import { readBody } from './host-fetch';

/** Ranged part requests in flight at once while downloading (at most this many parts wait in memory, plus the one being opened). */
export const DOWNLOAD_IN_FLIGHT = 3;

/**
 * Tries per part. A part whose request could not reach the host, was answered 5xx, or whose body
 * was cut off (a host instance restarting, a blob read failing half way: src/host/blob-download.ts)
 * is asked for again after a pause, at most twice, as long as the download is still wanted.
 * Everything else is final at once: a refusal that cannot change (FileGone, RateLimited, whose
 * retry would only spend more of the address's downloads) or an answer of the wrong length
 * (Tampered: a host that lies is not given another go).
 */
export const DOWNLOAD_PART_TRIES = 3;
/** Pause before the k-th retry of a part: k times this. */
const RETRY_PAUSE_MS = 400;

/**
 * Blob bytes [start, end) of `blobId`: exactly that many, or a ProtocolError (the caller says
 * Tampered: a blob shorter than the message says, or a host that answers another length).
 */
async function fetchRange(go: BlobFetch, blobId: string, start: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
  const res = await go(BLOB_API.prefix + blobId, { headers: { Range: `bytes=${start}-${end - 1}` }, signal });
  if (res.status === 404) return engineFail('FileGone', 'the file is no longer on the host');
  if (res.status === 416) return fail('InvalidMessage', `attachment blob shorter than ${end} bytes`);
  // The person is waiting on this download: "too many from your address" is theirs to know,
  // not "unreachable", and trying again now cannot help.
  if (res.status === 429) return engineFail('RateLimited', 'the host limits downloads from this address');
  if (!res.ok) await refusal(res);
  let part: Uint8Array;
  try {
    // Never more than the range asked for is held (host-fetch.ts `readBody`).
    part = await readBody(res, end - start, `the ${end - start}-byte range at ${start}`);
  } catch (e) {
    if (isProtocolError(e)) return fail('InvalidMessage', `host answered more than ${end - start} bytes for the range at ${start}`);
    return engineFail('Unavailable', `the download of the range at ${start} was cut off`);
  }
  if (part.length !== end - start) fail('InvalidMessage', `host answered ${part.length} bytes for the ${end - start}-byte range at ${start}`);
  return part;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** fetchRange, tried again after a transient failure (DOWNLOAD_PART_TRIES). */
async function fetchRangeTried(go: BlobFetch, blobId: string, start: number, end: number, signal: AbortSignal, more: () => boolean): Promise<Uint8Array> {
  for (let tried = 1; ; tried++) {
    try {
      return await fetchRange(go, blobId, start, end, signal);
    } catch (e) {
      const transient = e instanceof EngineError && e.code === 'Unavailable';
      if (!transient || tried >= DOWNLOAD_PART_TRIES || signal.aborted) throw e;
      await pause(RETRY_PAUSE_MS * tried, signal);
      // Not asked again once the download is no longer wanted (P46: the vault locked meanwhile).
      if (signal.aborted || !more()) throw e;
    }
  }
}

/**
 * The parts of a `total`-byte blob in order, with up to `window` requests in flight ahead of the
 * consumer. Leaving early (an error here or in the consumer's loop) aborts the requests still in
 * flight and waits until they settle, so none outlives the download and none rejects unhandled.
 */
async function* rangedParts(go: BlobFetch, blobId: string, total: number, window: number, from = 0, more: () => boolean = () => true): AsyncGenerator<Uint8Array> {
  const abort = new AbortController();
  const queue: Promise<Uint8Array>[] = [];
  let next = from;
  const fill = () => {
    while (queue.length < window && next < total && more()) {
      const end = Math.min(next + UPLOAD_PART_BYTES, total);
      const part = fetchRangeTried(go, blobId, next, end, abort.signal, more);
      // Handled here too: a request aborted after an earlier failure is never awaited below.
      part.catch(() => undefined);
      queue.push(part);
      next = end;
    }
  };
  try {
    fill();
    while (queue.length) {
      const part = await queue[0]!;
      queue.shift();
      // The next request starts before the consumer opens this part.
      fill();
      yield part;
    }
  } finally {
    if (queue.length) {
      abort.abort();
      await Promise.allSettled(queue);
    }
  }
}

/**
 * Opens the blob `parts` yields through an AttachmentOpener; answers the file as a Blob only once
 * every check passed. A ProtocolError means the blob is not the sender's. `keep` sees each part,
 * at its offset, once the opener took it. `live` runs before each part and throws to stop (the
 * vault locked: `stopIfLocked`), so a lock ends an open at its next part, its stream state freed.
 */
export async function openParts(ref: AttachmentRef, parts: AsyncIterable<Uint8Array>, progress: (done: number) => void, keep?: (at: number, part: Uint8Array) => Promise<void>, live?: () => void): Promise<Blob> {
  const opener = new AttachmentOpener(ref);
  const pieces: Blob[] = [];
  try {
    for await (const part of parts) {
      live?.();
      const at = opener.received;
      const plain = opener.push(part);
      if (plain.length) pieces.push(new Blob(plain as Uint8Array<ArrayBuffer>[]));
      await keep?.(at, part);
      progress(opener.received);
    }
    opener.finish();
  } catch (e) {
    opener.abandon();
    throw e;
  }
  return new Blob(pieces);
}

/** The kept parts [0, from) out of the copy, then the rest from the host. */
async function* resumedParts(local: AsyncIterable<Uint8Array>, remote: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* local;
  yield* remote;
}

/** Throws Locked once the vault locked (P46): a download stops opening, and asks no more parts, at its next part. */
export function stopIfLocked(ctx: EngineContext): void {
  if (ctx.vault.locked) engineFail('Locked', 'the vault locked during this download');
}

/**
 * Downloads blob `blobId`, DOWNLOAD_IN_FLIGHT parts at a time and opened in order (openParts),
 * each part written into the copy of `owner` as it is opened; `copy` is undefined when a write
 * failed (the file still opens, without a copy). FileGone when the host no longer has it. With
 * `resume` (file-repo.ts resumePoint), the parts an earlier download kept are opened first and
 * the host is asked from `resume.from` on; a kept part that is missing is a LocalCopyError.
 */
export async function downloadStream(ctx: EngineContext, ref: AttachmentRef & { blobId: string }, owner: string, progress: (done: number) => void, resume: ResumePoint = FROM_START): Promise<{ bytes: Blob; copy: CopyWriter | undefined }> {
  const total = blobSize(ref.size);
  // Locked (P46): no new request; the open stops at its next part (`stopIfLocked`).
  const remote = rangedParts(downloader(ctx), ref.blobId, total, DOWNLOAD_IN_FLIGHT, resume.from, () => !ctx.vault.locked);
  const parts = resume.from > 0 ? resumedParts(localParts(ctx.vault, owner, total, resume.from), remote) : remote;
  const copy = new CopyWriter(ctx.vault, owner, { blobId: ref.blobId, total, kept: resume.kept });
  try {
    // The FileResume row is down before the first request, so a tab closed at any point leaves a
    // resumable copy, never parts the next start sweeps.
    await copy.begin();
    const bytes = await openParts(ref, parts, progress, (at, part) => (at >= resume.from ? copy.write(at, part) : Promise.resolve()), () => stopIfLocked(ctx));
    return { bytes, copy: (await copy.finish()) ? copy : undefined };
  } catch (e) {
    // Every write has settled before the caller drops the parts.
    await copy.finish();
    // A lock cuts the parts in flight (the disconnect aborts them) and asks for none again: the
    // open stopped because of the lock, not the host.
    if (isEngineError(e, 'Unavailable')) stopIfLocked(ctx);
    throw e;
  }
}
