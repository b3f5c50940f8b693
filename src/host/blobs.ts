/**
 * The host's attachment blob endpoints (wire/blob-api.ts; README "Attachments"; SECURITY.md P1,
 * P40, P41): create a blob of a declared size under an unguessable id, resumable in-order upload
 * by its uploader, ranged download by whoever knows the id, anonymous release, and the 30-day
 * retention sweep. The host reads no blob and never learns who a blob is for: a recipient is
 * whoever holds the id (carried inside the ratchet), and a download carries no account (no
 * bearer, and the vault sends it without credentials, so not on the account's connections), so
 * the host cannot pair the uploader with the accounts that fetch. Downloads are counted per
 * client address instead (P40).
 * Blobs go by age, or earlier once every recipient released them (blob-port.ts `release`), and
 * that pairs no one either: the uploader lists SHA-256 hashes of release tokens derived from the
 * file key, which the host never sees, so a hash names no account and the host cannot make a
 * token; a release, like a download, carries no account and is counted per client address; and
 * it answers 204 whatever happened, so it confirms neither blob nor token (no oracle). The
 * uploader, and only it (with its bearer, as for its upload), may list more hashes later, for a
 * member who joined while the file went up; a blob that is gone or another account's reads as
 * absent there too. What the host learns is how many recipients a blob had, which the fan-out of
 * the message already shows. The uploader may also delete its own blob outright (a delete for
 * everyone of the message that pointed at it, an upload given up): the host then also learns
 * when its uploader withdrew it, never to whom it went.
 * Logs name only the route, never an id or a token. Hostile input (bad ids, bad offsets, bad
 * release lists or tokens, oversized bodies, malformed ranges) gets a clear 4xx before any store
 * call that could fail on it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BLOB_API,
  BLOB_RETENTION_MS,
  INCOMPLETE_RETENTION_MS,
  MAX_BLOB_BYTES,
  MAX_BLOB_RELEASES,
  MAX_PART_BYTES,
  MAX_PENDING_UPLOADS,
  isBlobId,
  isReleaseHex
} from '../lib/wire/blob-api';
import type { Auth } from './auth';
import { sendBlobRange } from './blob-download';
import { addressBucket } from './client-address';
import { HostError, bearer, clientIp, readBody, readJson, requestPath, sendJson } from './http-util';
import type { SharedLimiter } from './store-limiter';
import { BlobOffsetError, type BlobStore } from './storage/blob-port';

export interface BlobsDeps {
  auth: Auth;
  store: BlobStore;
  clock: () => number;
  /** Downloads per client address (limits.blobReadPerIp, counted on the shared store). */
  reads: SharedLimiter;
  /** MiB of uploads started per account (limits.blobUploadMiBPerAccount). */
  uploads: SharedLimiter;
  /** `/recipients` calls per account (limits.blobRecipientsPerAccount). */
  recipients: SharedLimiter;
  /** Deletes of its own uploads per account (limits.blobDeletesPerAccount). */
  deletes: SharedLimiter;
  /** Largest blob accepted (default MAX_BLOB_BYTES; tests lower it). */
  maxBlobBytes?: number;
}

export interface BlobsApi {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Deletes expired blobs; never rejects (a failure is retried at the next sweep). */
  sweep(): Promise<number>;
}

/** `bytes=a-b` / `bytes=a-` within `size`, as [start, end); undefined for no header; 416 otherwise. */
function range(header: string | undefined, size: number): [number, number] | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m && m[2] ? Number(m[2]) + 1 : size;
  if (!m || start >= size || end > size || end <= start) throw new HostError(416, 'BadRequest', `range not satisfiable for ${size} bytes`);
  return [start, end];
}

/**
 * The largest create body (wire/blob-api.ts BlobCreate) as JSON.stringify writes it: each release
 * is 64 hex digits, two quotes and a comma; 256 bytes for `size` and the keys.
 */
const CREATE_BODY_BYTES = 256 + MAX_BLOB_RELEASES * 67;
const MIB = 1024 * 1024;
/** A release body (BlobRelease): `{"token":"<64 hex>"}` is 76 bytes. */
const RELEASE_BODY_BYTES = 256;
/** A recipients body (BlobAddRecipients): a full release list, as in a create body. */
const RECIPIENTS_BODY_BYTES = CREATE_BODY_BYTES;

/** The release list of a create body: absent is none; else distinct hashes (isReleaseHex), at most MAX_BLOB_RELEASES. */
function releasesOf(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new HostError(400, 'BadRequest', 'releases must be an array of SHA-256 hashes');
  if (v.length > MAX_BLOB_RELEASES) throw new HostError(400, 'BadRequest', `${v.length} releases, more than ${MAX_BLOB_RELEASES}`);
  const bad = v.findIndex((h) => !isReleaseHex(h));
  if (bad >= 0) throw new HostError(400, 'BadRequest', `release ${bad} is not 64 lowercase hex digits`);
  if (new Set(v).size !== v.length) throw new HostError(400, 'BadRequest', 'releases repeat a hash');
  return v as string[];
}

/** The hashes of a recipients body: present, at least one, else as a create's list (releasesOf). */
function addedReleasesOf(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new HostError(400, 'BadRequest', 'releases must be a non-empty array of SHA-256 hashes');
  return releasesOf(v);
}

function idOf(rest: string): string {
  if (!isBlobId(rest)) throw new HostError(400, 'BadRequest', `blob id of ${Math.min(rest.length, 999)} characters is not 32 hex digits`);
  return rest;
}

export function createBlobsApi(d: BlobsDeps): BlobsApi {
  const max = d.maxBlobBytes ?? MAX_BLOB_BYTES;

  async function owned(id: string, user: string) {
    const blob = await d.store.get(id);
    // Someone else's upload reads as absent: an id never confirms another account's blob.
    if (!blob || blob.owner !== user) throw new HostError(404, 'NotFound', 'no such upload');
    return blob;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = requestPath(req);
    if (path === BLOB_API.blobs) {
      if (req.method !== 'POST') throw new HostError(405, 'BadRequest', 'method not allowed here');
      const user = await d.auth.requireUser(bearer(req));
      const body = (await readJson(req, CREATE_BODY_BYTES)) as { size?: unknown; releases?: unknown } | null;
      const size = body?.size;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) throw new HostError(400, 'BadRequest', 'size must be a positive integer');
      if (size > max) throw new HostError(413, 'TooLarge', `a file of ${size} bytes exceeds the limit of ${max}`);
      const releases = releasesOf(body?.releases);
      if ((await d.store.pending(user)) >= MAX_PENDING_UPLOADS) throw new HostError(429, 'RateLimited', `at most ${MAX_PENDING_UPLOADS} unfinished uploads`);
      // Charged when the upload starts, by its declared size: a refused or abandoned upload
      // still counted, so restarting cannot reset the budget.
      const wait = await d.uploads.hit(user, Math.ceil(size / MIB));
      if (wait) throw new HostError(429, 'RateLimited', 'this account has uploaded as much as the host allows for now', wait);
      const id = randomBytes(16).toString('hex');
      await d.store.create(id, user, size, d.clock(), releases);
      sendJson(res, 201, { id });
      return true;
    }
    if (!path.startsWith(BLOB_API.prefix)) return false;
    const rest = path.slice(BLOB_API.prefix.length);
    if (rest.endsWith('/upload')) {
      if (req.method !== 'GET') throw new HostError(405, 'BadRequest', 'method not allowed here');
      const user = await d.auth.requireUser(bearer(req));
      const blob = await owned(idOf(rest.slice(0, -'/upload'.length)), user);
      sendJson(res, 200, { size: blob.size, received: blob.received });
      return true;
    }
    if (rest.endsWith(BLOB_API.releaseSuffix)) {
      if (req.method !== 'POST') throw new HostError(405, 'BadRequest', 'method not allowed here');
      const id = idOf(rest.slice(0, -BLOB_API.releaseSuffix.length));
      // No account, as a download: a bearer sent anyway is ignored (P41), and releases count
      // against the same per-address budget (P40).
      const wait = await d.reads.hit(addressBucket(clientIp(req)));
      if (wait) throw new HostError(429, 'RateLimited', 'too many file requests from this address', wait);
      const token = ((await readJson(req, RELEASE_BODY_BYTES)) as { token?: unknown } | null)?.token;
      if (!isReleaseHex(token)) throw new HostError(400, 'BadRequest', 'token must be 64 lowercase hex digits');
      // The hash of the token's 32 bytes, as the uploader listed it. 204 whether it struck a
      // hash, deleted the blob or matched nothing: the answer confirms no blob and no token.
      await d.store.release(id, createHash('sha256').update(Buffer.from(token, 'hex')).digest('hex'));
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return true;
    }
    if (rest.endsWith(BLOB_API.recipientsSuffix)) {
      // More recipients for the uploader's own blob (a member who joined while it went up): with
      // its bearer, as for the upload itself; gone or someone else's reads as absent (404).
      if (req.method !== 'POST') throw new HostError(405, 'BadRequest', 'method not allowed here');
      const user = await d.auth.requireUser(bearer(req));
      const id = idOf(rest.slice(0, -BLOB_API.recipientsSuffix.length));
      const wait = await d.recipients.hit(user);
      if (wait) throw new HostError(429, 'RateLimited', 'too many recipient lists from this account', wait);
      const releases = addedReleasesOf(((await readJson(req, RECIPIENTS_BODY_BYTES)) as { releases?: unknown } | null)?.releases);
      const added = await d.store.addReleases(id, user, releases);
      if (added === 'missing') throw new HostError(404, 'NotFound', 'no such upload');
      if (added === 'tooMany') throw new HostError(400, 'BadRequest', `the blob would list more than ${MAX_BLOB_RELEASES} releases`);
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return true;
    }
    const id = idOf(rest);
    if (req.method === 'DELETE') {
      // The uploader withdrawing its own blob (a delete for everyone, an upload given up), with
      // its bearer; gone or someone else's reads as absent, as for /upload.
      const user = await d.auth.requireUser(bearer(req));
      const wait = await d.deletes.hit(user);
      if (wait) throw new HostError(429, 'RateLimited', 'too many deletes from this account', wait);
      if (!(await d.store.remove(id, user))) throw new HostError(404, 'NotFound', 'no such upload');
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return true;
    }
    if (req.method === 'PUT') {
      const offset = Number(new URL(req.url ?? '', 'http://host').searchParams.get('offset') ?? NaN);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new HostError(400, 'BadRequest', 'offset must be a non-negative integer');
      const user = await d.auth.requireUser(bearer(req));
      const blob = await owned(id, user);
      if (offset !== blob.received) {
        req.resume();
        sendJson(res, 409, { error: { code: 'BadRequest', message: `offset ${offset}, but the host has ${blob.received} bytes` }, received: blob.received });
        return true;
      }
      const part = await readBody(req, Math.min(MAX_PART_BYTES, blob.size - blob.received));
      if (part.length === 0) throw new HostError(400, 'BadRequest', 'empty part');
      try {
        sendJson(res, 200, { received: await d.store.append(id, offset, part) });
      } catch (e) {
        if (e instanceof BlobOffsetError) {
          sendJson(res, 409, { error: { code: 'BadRequest', message: `offset ${offset}, but the host has ${e.received} bytes` }, received: e.received });
          return true;
        }
        throw e;
      }
      return true;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // No account: a bearer sent anyway is ignored, never checked or logged (P41).
      const wait = await d.reads.hit(addressBucket(clientIp(req)));
      if (wait) throw new HostError(429, 'RateLimited', 'too many file downloads from this address', wait);
      const blob = await d.store.get(id);
      if (!blob || blob.received < blob.size) throw new HostError(404, 'NotFound', 'no such blob');
      const r = range(typeof req.headers.range === 'string' ? req.headers.range : undefined, blob.size);
      const [start, end] = r ?? [0, blob.size];
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/octet-stream',
        'Content-Length': end - start,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'no-store'
      };
      if (r) headers['Content-Range'] = `bytes ${start}-${end - 1}/${blob.size}`;
      if (req.method === 'HEAD') {
        res.writeHead(r ? 206 : 200, headers);
        res.end();
        return true;
      }
      await sendBlobRange(res, (a, b) => d.store.read(id, a, b), start, end, () => res.writeHead(r ? 206 : 200, headers));
      return true;
    }
    throw new HostError(405, 'BadRequest', 'method not allowed here');
  }

  return {
    handle,
    async sweep() {
      const now = d.clock();
      try {
        return await d.store.sweep(now - BLOB_RETENTION_MS, now - INCOMPLETE_RETENTION_MS);
      } catch {
        return 0;
      }
    }
  };
}
