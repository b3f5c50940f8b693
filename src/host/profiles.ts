/**
 * The profile blob endpoint (SECURITY.md P43; routes in src/lib/wire/profile-api.ts): the host
 * keeps opaque, padded profile ciphertext at addresses derived from profile keys it never sees.
 *
 * - No request is authenticated as an account: the address alone finds a blob (GET), and the
 *   owner's write token (derived from its identity key, profile.ts profileWriteToken) creates,
 *   replaces or deletes it. The host stores SHA-256 of the token (profileWriteVerifier), never
 *   the token, so a dump of its files lets nobody overwrite a profile.
 * - A wrong token answers 403 and changes nothing; a blob that is not one of the padded bucket
 *   sizes is refused (400), so every stored blob has one of three lengths (P43: size says only
 *   "no avatar / small / large").
 * - Reads and writes are rate-limited per client address (P40); logs name the route only.
 * - Encrypted username links (README "Design: private discovery") follow the same rules at their
 *   own route and table: the host holds an id, a verifier and a name it cannot decrypt.
 * Knows nothing of profiles' contents, usernames or sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN } from '../lib/crypto/primitives';
import { PROFILE_BLOB_VERSION, PROFILE_BUCKETS, profileWriteVerifier } from '../lib/crypto/profile';
import { MAX_PROFILE_BLOB_LEN, PROFILE_PATH, PROFILE_WRITE_HEADER, parseProfileAddress, parseProfileWriteToken } from '../lib/wire/profile-api';
import { addressBucket } from './client-address';
import { HostError, clientIp, readBody, sendJson } from './http-util';
import type { Limits } from './limits';
import { localLimiters, type LimiterMaker, type SharedLimiter } from './store-limiter';
import type { ProfileStore, UsernameLinkStore } from './storage/profile-port';
import { fromBase64Url } from '../lib/codec/base64url';
import { usernameLinkVerifier } from '../lib/crypto/username-link';
import { LINK_WRITE_TOKEN_LEN, USERNAME_LINK_BLOB_LEN, USERNAME_LINK_PATH, USERNAME_LINK_WRITE_HEADER, parseLinkId } from '../lib/wire/username-link-api';

export interface Profiles {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/** One owner-written blob route: where it lives, what a blob and a token look like. */
interface BlobRoute {
  path: string;
  header: string;
  what: string;
  parseAddress(text: string): Uint8Array;
  maxBlob: number;
  isBlob(b: Uint8Array): boolean;
  /** The verifier of a presented token, or undefined when it is malformed. */
  verifier(headerValue: string | undefined): Uint8Array | undefined;
}

/** Version byte, nonce, one padded bucket, tag: the only lengths profile.ts produces. */
function isProfileBlob(b: Uint8Array): boolean {
  return b.length > 0 && b[0] === PROFILE_BLOB_VERSION && PROFILE_BUCKETS.some((n) => 1 + AEAD_NONCE_LEN + n + AEAD_TAG_LEN === b.length);
}

export function createProfiles(store: ProfileStore, limits: Limits, clock: () => number, limiter: LimiterMaker = localLimiters(clock)): Profiles {
  return createBlobRoute(store, limits, clock, limiter, {
    path: PROFILE_PATH,
    header: PROFILE_WRITE_HEADER,
    what: 'profile',
    parseAddress: parseProfileAddress,
    maxBlob: MAX_PROFILE_BLOB_LEN,
    isBlob: isProfileBlob,
    verifier: (h) => {
      const t = parseProfileWriteToken(h);
      return t && profileWriteVerifier(t);
    }
  });
}

/** Encrypted username links (username-link.ts): the same rules at a 16-byte id, one blob size. */
export function createUsernameLinks(store: UsernameLinkStore, limits: Limits, clock: () => number, limiter: LimiterMaker = localLimiters(clock)): Profiles {
  return createBlobRoute(store, limits, clock, limiter, {
    path: USERNAME_LINK_PATH,
    header: USERNAME_LINK_WRITE_HEADER,
    what: 'username link',
    parseAddress: parseLinkId,
    maxBlob: USERNAME_LINK_BLOB_LEN,
    isBlob: (b) => b.length === USERNAME_LINK_BLOB_LEN,
    verifier: (h) => {
      try {
        const t = h === undefined ? undefined : fromBase64Url(h, LINK_WRITE_TOKEN_LEN);
        return t && t.length === LINK_WRITE_TOKEN_LEN ? usernameLinkVerifier(t) : undefined;
      } catch {
        return undefined;
      }
    }
  });
}

function createBlobRoute(store: ProfileStore, limits: Limits, clock: () => number, limiter: LimiterMaker, route: BlobRoute): Profiles {
  // Counted on the shared store by the host, so every instance counts together (P40).
  const reads = limiter(`${route.what.replace(' ', '-')}-read-ip`, limits.profileReadPerIp);
  const writes = limiter(`${route.what.replace(' ', '-')}-write-ip`, limits.profileWritePerIp);

  async function limit(l: SharedLimiter, req: IncomingMessage, what: string): Promise<void> {
    const wait = await l.hit(addressBucket(clientIp(req)));
    if (wait) throw new HostError(429, 'RateLimited', `too many ${route.what} ${what} from this address`, wait);
  }

  function verifierOf(req: IncomingMessage): Uint8Array {
    const raw = req.headers[route.header];
    const v = route.verifier(Array.isArray(raw) ? undefined : raw);
    if (!v) throw new HostError(401, 'Unauthorized', `missing or malformed ${route.what} write token`);
    return v;
  }

  return {
    async handle(req, res, path) {
      if (!path.startsWith(route.path)) return false;
      let address: Uint8Array;
      try {
        address = route.parseAddress(path.slice(route.path.length));
      } catch (e) {
        if (isProtocolError(e)) throw new HostError(400, 'BadRequest', e.message);
        throw e;
      }
      if (req.method === 'GET') {
        await limit(reads, req, 'reads');
        const found = await store.get(address);
        if (!found) throw new HostError(404, 'NotFound', `no ${route.what} at this address`);
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': found.blob.length, 'Cache-Control': 'no-store' });
        res.end(found.blob);
        return true;
      }
      if (req.method === 'PUT') {
        await limit(writes, req, 'writes');
        const verifier = verifierOf(req);
        const blob = await readBody(req, route.maxBlob);
        if (!route.isBlob(blob)) throw new HostError(400, 'BadRequest', `a ${route.what} blob of ${blob.length} bytes has the wrong size`);
        if ((await store.put(address, verifier, blob, clock())) === 'mismatch') throw new HostError(403, 'Unauthorized', 'the write token does not match this address');
        sendJson(res, 200, { stored: true });
        return true;
      }
      if (req.method === 'DELETE') {
        await limit(writes, req, 'writes');
        const r = await store.remove(address, verifierOf(req));
        if (r === 'mismatch') throw new HostError(403, 'Unauthorized', 'the write token does not match this address');
        sendJson(res, 200, { deleted: r === 'deleted' });
        return true;
      }
      throw new HostError(405, 'BadRequest', `${route.what}s answer GET, PUT and DELETE`);
    }
  };
}
