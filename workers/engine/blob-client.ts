/**
 * The vault's side of the attachment blob endpoints (src/lib/wire/blob-api.ts; README
 * "Attachments"): upload in UPLOAD_PART_BYTES parts, resuming where the host says it is, and
 * ranged download of exactly the size the sender's message implies. What a blob holds is checked
 * by crypto/attachment.ts, not here: a host that answers with other bytes is caught there.
 */
import { BLOB_API, UPLOAD_PART_BYTES, type BlobCreated, type BlobUploadState } from '../../src/lib/wire/blob-api';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { refusedCode } from './host-fetch';
import { hostRefusal } from './host-refusal';

export async function refusal(res: Response): Promise<never> {
  const code = await refusedCode(res);
  if (code === 'TooLarge' && res.status === 413) return engineFail('TooLarge', 'the host refused the file as too large');
  throw hostRefusal(code, res.status);
}

export function fetcher(ctx: EngineContext): (path: string, init?: RequestInit) => Promise<Response> {
  const me = requireMe(ctx);
  const f = ctx.transport.authedFetch?.bind(ctx.transport);
  if (!f) return engineFail('Unavailable', 'this host transport carries no files');
  return (path, init) => f(hostAuth(me), path, init);
}

/** Uploads `blob` (continuing upload `resumeId` if the host still has it); answers its id. */
export async function uploadBlob(ctx: EngineContext, blob: Uint8Array, resumeId: string | undefined, progress: (done: number) => void, onId: (id: string) => void): Promise<string> {
  const go = fetcher(ctx);
  let id = resumeId;
  let at = 0;
  if (id) {
    const res = await go(`${BLOB_API.prefix}${id}/upload`);
    if (res.ok) at = ((await res.json()) as BlobUploadState).received;
    else id = undefined;
  }
  if (!id) {
    const res = await go(BLOB_API.blobs, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ size: blob.length }) });
    if (!res.ok) await refusal(res);
    id = ((await res.json()) as BlobCreated).id;
    onId(id);
  }
  progress(at);
  while (at < blob.length) {
    const part = blob.subarray(at, Math.min(at + UPLOAD_PART_BYTES, blob.length));
    const res = await go(`${BLOB_API.prefix}${id}?offset=${at}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: part as BodyInit });
    // 409: the host is elsewhere (an earlier part landed though its answer was lost): go on from there.
    if (res.status === 409) at = ((await res.json()) as { received: number }).received;
    else if (res.ok) at = ((await res.json()) as { received: number }).received;
    else await refusal(res);
    progress(at);
  }
  return id;
}

/**
 * Downloads `size` bytes of blob `id` in ranged parts. A blob that is gone answers FileGone; one
 * shorter than the message says comes back short, and the digest check refuses it.
 */
export async function downloadBlob(ctx: EngineContext, id: string, size: number, progress: (done: number) => void): Promise<Uint8Array> {
  const go = fetcher(ctx);
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const end = Math.min(at + UPLOAD_PART_BYTES, size);
    const res = await go(BLOB_API.prefix + id, { headers: { Range: `bytes=${at}-${end - 1}` } });
    if (res.status === 404) return engineFail('FileGone', 'the file is no longer on the host');
    if (res.status === 416) return out.subarray(0, at);
    if (!res.ok) await refusal(res);
    const part = new Uint8Array(await res.arrayBuffer());
    if (part.length === 0) return out.subarray(0, at);
    out.set(part.subarray(0, size - at), at);
    at += Math.min(part.length, size - at);
    progress(at);
  }
  return out;
}
