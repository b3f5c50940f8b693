/**
 * The host's group endpoints (src/lib/wire/group-api.ts; README "Groups"): the fan-out of one
 * uploaded group message to each listed mailbox, and the encrypted group state blobs. The host
 * holds no group identity and reads nothing here: a fan-out list is used once and never stored
 * as a list (each copy is an ordinary envelope from the authenticated sender), and a blob is
 * opaque bytes at an opaque address. Blob reads and writes carry no account (the address and the
 * write token are the capabilities; the vault sends them without credentials), so the host cannot
 * list who reads or writes a group's state: they are counted per client address instead (P40).
 * Logs name only the route, never a recipient or an address.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromBase64Url } from '../lib/codec/base64url';
import { isProtocolError } from '../lib/codec/errors';
import { BLOB_ADDRESS_BYTES, GROUP_API, MAX_FANOUT, MAX_GROUP_BLOB_BYTES, MAX_GROUP_MESSAGE_BYTES, NEXT_WRITE_TOKEN_HEADER, WRITE_TOKEN_HEADER, decodeFanOut } from '../lib/wire/group-api';
import type { Auth } from './auth';
import { addressBucket } from './client-address';
import { HostError, bearer, clientIp, readBody, requestPath, sendJson } from './http-util';
import type { Mailbox } from './mailbox';
import type { SharedLimiter } from './store-limiter';
import type { GroupBlobStore } from './storage/group-blob-port';

export interface GroupsDeps {
  auth: Auth;
  mailbox: Mailbox;
  blobs: GroupBlobStore;
  clock: () => number;
  /** Blob reads and writes per client address (limits.groupBlobReadPerIp / groupBlobWritePerIp). */
  reads: SharedLimiter;
  writes: SharedLimiter;
}

function key32(text: string | undefined, what: string): Uint8Array {
  let b: Uint8Array;
  try {
    b = fromBase64Url(text ?? '', BLOB_ADDRESS_BYTES);
  } catch {
    throw new HostError(400, 'BadRequest', `${what} is not base64url`);
  }
  if (b.length !== BLOB_ADDRESS_BYTES) throw new HostError(400, 'BadRequest', `${what} of ${b.length} bytes, expected ${BLOB_ADDRESS_BYTES}`);
  return b;
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** Answers true if it handled the request (a path under /api/v1/groups/). */
export function createGroupsApi(d: GroupsDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = requestPath(req);
    if (path === GROUP_API.messages) {
      if (req.method !== 'POST') throw new HostError(405, 'BadRequest', 'method not allowed here');
      const user = await d.auth.requireUser(bearer(req));
      const raw = await readBody(req, MAX_GROUP_MESSAGE_BYTES + 2 + MAX_FANOUT * 33);
      let fan;
      try {
        fan = decodeFanOut(raw);
      } catch (e) {
        throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'malformed fan-out');
      }
      if (fan.to.some((u) => u === user)) throw new HostError(400, 'BadRequest', 'a fan-out lists its own sender');
      const results = await Promise.allSettled(fan.to.map((to) => d.mailbox.submit(user, to, fan.body)));
      const stored = results.filter((r) => r.status === 'fulfilled').length;
      // Every copy refused (the store is full, say): the sender retries the whole upload later.
      if (stored === 0) {
        const first = results[0] as PromiseRejectedResult;
        throw first.reason instanceof HostError ? first.reason : new HostError(503, 'Unavailable', 'no copy was stored; retry later');
      }
      sendJson(res, 201, { stored, refused: fan.to.length - stored });
      return true;
    }
    if (!path.startsWith(GROUP_API.blobs)) return false;
    const address = key32(path.slice(GROUP_API.blobs.length), 'blob address');
    // No account on either method: a bearer sent anyway is ignored, never checked or logged.
    const limit = async (l: SharedLimiter, what: string): Promise<void> => {
      const wait = await l.hit(addressBucket(clientIp(req)));
      if (wait) throw new HostError(429, 'RateLimited', `too many group blob ${what} from this address`, wait);
    };
    if (req.method === 'GET') {
      await limit(d.reads, 'reads');
      const blob = await d.blobs.getBlob(address);
      if (!blob) throw new HostError(404, 'NotFound', 'no blob at this address');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length, 'Cache-Control': 'no-store' });
      res.end(blob);
      return true;
    }
    if (req.method === 'PUT') {
      await limit(d.writes, 'writes');
      const header = req.headers[WRITE_TOKEN_HEADER];
      const token = key32(Array.isArray(header) ? header[0] : header, 'write token');
      const nextHeader = req.headers[NEXT_WRITE_TOKEN_HEADER];
      const next = nextHeader === undefined ? undefined : key32(Array.isArray(nextHeader) ? nextHeader[0] : nextHeader, 'next write token');
      const blob = await readBody(req, MAX_GROUP_BLOB_BYTES);
      if (blob.length === 0) throw new HostError(400, 'BadRequest', 'empty blob');
      const r = await d.blobs.putBlob(address, sha256(token), blob, d.clock(), next && sha256(next));
      if (r === 'mismatch') throw new HostError(403, 'Unauthorized', 'wrong write token for this blob');
      sendJson(res, 200, { stored: true });
      return true;
    }
    throw new HostError(405, 'BadRequest', 'method not allowed here');
  };
}
