/**
 * Sends a range of a stored blob as a response body in bounded steps (README "Attachments",
 * SECURITY.md P40): at most `step` bytes are read from the store at a time, and the next step is
 * read only once the socket has taken the last one. A download of a whole 100 MiB blob (an
 * unranged GET, or `bytes=0-`) so holds about one step in the host's memory per response instead
 * of the whole blob, however many arrive at once; a client that goes away stops the reads, and one
 * that stops reading is cut off after BLOB_SEND_STALL_MS.
 *
 * The status line and headers are written (`head`) once the first step is read, so a blob that
 * cannot be read at all still gets an error status. A read that fails later (the blob released by
 * its last recipient or swept meanwhile, a storage error) can no longer be answered with one: the
 * connection is cut, so the client sees a body shorter than its Content-Length, never a short
 * body it could take for the whole blob (and the vault checks every download against the file's
 * digest anyway).
 */
import type { ServerResponse } from 'node:http';

/** Bytes read per step: the vault's own ranged parts are 1 MiB, so they take one step. */
export const BLOB_READ_STEP_BYTES = 1024 * 1024;

export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

/**
 * How long a download may wait for its client to take the last step before the connection is cut:
 * a reader that stops reading (on purpose or not) holds a step of memory only this long, so
 * stalled downloads cannot pile up (P40).
 */
export const BLOB_SEND_STALL_MS = 60_000;

/**
 * Resolves once `res` can take more ('drain'), or once it is closed; true if still writable. A
 * client that takes nothing for `stallMs` is cut off (false).
 */
function writable(res: ServerResponse, stallMs: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed && !res.writableEnded);
    };
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, stallMs);
    res.once('drain', done);
    res.once('close', done);
  });
}

/**
 * Writes [start, end) of the blob to `res` step by step, calling `head` before the first byte,
 * and ends it. Returns the number of bytes read from the store (less than end - start when the
 * client left first). When a read fails it throws: before `head`, with nothing written; after,
 * having destroyed `res`.
 */
export async function sendBlobRange(
  res: ServerResponse,
  read: RangeReader,
  start: number,
  end: number,
  head: () => void,
  { step = BLOB_READ_STEP_BYTES, stallMs = BLOB_SEND_STALL_MS }: { step?: number; stallMs?: number } = {}
): Promise<number> {
  let at = start;
  while (at < end) {
    if (res.destroyed) return at - start;
    const next = Math.min(end, at + step);
    let bytes: Uint8Array;
    try {
      bytes = await read(at, next);
    } catch (e) {
      if (at > start) res.destroy();
      throw e;
    }
    if (at === start) head();
    at = next;
    if (!res.write(bytes) && at < end && !(await writable(res, stallMs))) return at - start;
  }
  res.end();
  return at - start;
}
