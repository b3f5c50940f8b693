/**
 * How the vault reaches the attachment blob endpoints (src/lib/wire/blob-api.ts; README
 * "Attachments"; the transfers themselves are blob-stream.ts and ranged-download.ts): uploads as the account (the host
 * holds each upload to its owner and the pending-upload quota), downloads as nobody (P41: the
 * id is the capability, so the host cannot pair the uploader with who fetches), and the refusal
 * each answer stands for.
 */
import { BLOB_API } from '../../src/lib/wire/blob-api';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { refusedCode } from './host-fetch';
import { hostRefusal } from './host-refusal';

export async function refusal(res: Response): Promise<never> {
  const code = await refusedCode(res);
  if (code === 'TooLarge' && res.status === 413) return engineFail('TooLarge', 'the host refused the file as too large');
  // The account's upload budget or unfinished-upload limit (host limits.ts, P40): trying again
  // at once cannot help, so it is not read as the host being unreachable.
  if (code === 'RateLimited' && res.status === 429) return engineFail('RateLimited', 'the host limits how much this account uploads for now');
  throw hostRefusal(code, res.status);
}

export type BlobFetch = (path: string, init?: RequestInit) => Promise<Response>;

/** Requests as the account: creating, resuming and uploading a blob. */
export function fetcher(ctx: EngineContext): BlobFetch {
  const me = requireMe(ctx);
  const f = ctx.transport.authedFetch?.bind(ctx.transport);
  if (!f) return engineFail('Unavailable', 'this host transport carries no files');
  return (path, init) => f(hostAuth(me), path, init);
}

/** Requests as nobody: downloading a blob by its id. */
export function downloader(ctx: EngineContext): BlobFetch {
  const f = ctx.transport.anonymousFetch?.bind(ctx.transport);
  if (!f) return engineFail('Unavailable', 'this host transport carries no files');
  return f;
}

/**
 * Deletes our own blob on the host (wire/blob-api.ts DELETE, as the account that uploaded it);
 * blob-withdrawals.ts decides when. True once the host confirmed it is gone: deleted now (204) or
 * already (404: retention, a release, an earlier attempt whose answer was lost). False for any
 * other answer or none; the caller keeps the id for a later attempt.
 */
export async function withdrawBlob(ctx: EngineContext, blobId: string): Promise<boolean> {
  try {
    const res = await fetcher(ctx)(`${BLOB_API.prefix}${blobId}`, { method: 'DELETE' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status === 204 || res.status === 404;
  } catch {
    return false;
  }
}
