/**
 * The realm's HTTP face (DESIGN.md §7): `createRealm(...)` returns a handler that serves
 * `POST <prefix>` (default `/realm/`) with one binary request body (`src/lib/wire/realm-api.ts`)
 * and answers one binary response. It mounts inside the main host or runs standalone (main.ts).
 *
 * HTTP status is only a hint (200 for every protocol outcome, 400 bad request, 421 wrong realm,
 * 413 too large, 429 rate limited or too soon, 403 origin refused); clients act on the decoded body.
 * CORS: realms may live on other origins than the app. With configured origins (`allowedOrigins`,
 * by default APP_ORIGIN as for the rest of the host) a browser Origin must be one of them exactly;
 * with none, only the same origin as the request's Host. First registrations need a token of one
 * of `issuers` (P38). Storage is the realm port (realm-port.ts): SQLite in `dataDir` (or a given
 * database) by default, or any RealmStorage, e.g. PostgreSQL for `npm run realm`. Nothing is logged: no PIN-derived value, tag or share ever reaches a log,
 * and neither do user ids or IPs.
 */
import type Database from 'better-sqlite3';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../../lib/codec/errors';
import { systemDeps, type Deps } from '../../lib/crypto/deps';
import { constantTimeEqual } from '../../lib/crypto/pin/group';
import { realmIdFromName } from '../../lib/crypto/pin/realm-auth';
import { MAX_REQUEST_LEN, decodeRealmRequest, encodeRealmResponse, type RealmRequest, type RealmResponse } from '../../lib/wire/realm-api';
import { toHex } from '../../lib/codec/bytes';
import { createRateLimiter, type RateLimit } from './rate-limit';
import { applyRealmRequest } from './service';
import { openRealmStore } from './store';
import type { RealmStorage } from '../storage/realm-port';
import { addressBucket, clientAddress, type ClientAddress } from '../client-address';

export interface RealmOptions {
  /** The realm's configured name; its id is `realmIdFromName(id)`, pinned in the app's build. */
  id: string;
  /** Milliseconds clock for rate limits, guess delays and token expiry (tests inject one). */
  clock?: () => number;
  /** Ed25519 public keys whose registration tokens are accepted (the app host's issuer key). */
  issuers?: readonly Uint8Array[];
  /** Path prefix the realm answers under. */
  prefix?: string;
  /**
   * Browser origins allowed to call this realm, e.g. "https://parley.example"; default: APP_ORIGIN
   * (comma-separated) from the environment. When none are set, only the request's own origin.
   */
  allowedOrigins?: readonly string[];
  /**
   * Who the client is for the per-IP limit (P40 lockouts): the host's own rule (client-address.ts,
   * honouring TRUSTED_PROXY, X-Forwarded-For read from the right). Default: the peer address,
   * never a header the client could write.
   */
  clientAddress?: ClientAddress;
  perIp?: RateLimit;
  perUser?: RateLimit;
}

export interface Realm {
  /** The 16-byte realm id clients must pin. */
  realmId: Uint8Array;
  /** Serves the request if its path is under the prefix (returns true), otherwise returns false. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/** The SQLite realm store (realm/store.ts) in the async realm port. */
function sqliteStorage(opts: { dataDir: string } | { db: Database.Database }): RealmStorage {
  const store = openRealmStore(opts);
  return {
    backend: 'sqlite',
    transact: async (userId, fn) => store.transact(userId, fn),
    scrub: async () => store.scrub(),
    close: async () => store.close()
  };
}

export const DEFAULT_PER_IP: RateLimit = { max: 600, windowMs: 60_000 };
export const DEFAULT_PER_USER: RateLimit = { max: 60, windowMs: 60_000 };

const HTTP_STATUS: Partial<Record<RealmResponse['status'], number>> = { badRequest: 400, wrongRealm: 421, rateLimited: 429, tooSoon: 429 };

/** APP_ORIGIN as the host's other origin checks read it (src/host/calls/index.ts). */
export function appOriginsFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  return (env.APP_ORIGIN ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

class TooLarge extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new TooLarge();
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function createRealm(opts: RealmOptions & ({ dataDir: string } | { db: Database.Database } | { storage: RealmStorage })): Realm {
  const realmId = realmIdFromName(opts.id);
  const store = 'storage' in opts ? opts.storage : sqliteStorage('db' in opts ? { db: opts.db } : { dataDir: opts.dataDir });
  const clock = opts.clock ?? Date.now;
  const prefix = opts.prefix ?? '/realm/';
  const bare = prefix.replace(/\/$/, '');
  const allowed = new Set(opts.allowedOrigins ?? appOriginsFromEnv());
  const deps: Deps = { rng: systemDeps.rng, now: clock };
  const policy = { realmId, issuers: (opts.issuers ?? []).map((k) => k.slice()) };
  const perIp = createRateLimiter(opts.perIp ?? DEFAULT_PER_IP, clock);
  const perUser = createRateLimiter(opts.perUser ?? DEFAULT_PER_USER, clock);

  function originAllowed(origin: string, host: string | undefined): boolean {
    if (allowed.size > 0) return allowed.has(origin);
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  const clientIp: ClientAddress = opts.clientAddress ?? clientAddress();

  function send(res: ServerResponse, response: RealmResponse): void {
    const body = encodeRealmResponse(response);
    res.writeHead(HTTP_STATUS[response.status] ?? 200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff'
    });
    res.end(body);
  }

  function plain(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'cache-control': 'no-store', ...headers });
    res.end();
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!originAllowed(origin, req.headers.host)) return plain(res, 403);
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      return plain(res, 204, {
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600'
      });
    }
    if (req.method !== 'POST') return plain(res, 405, { allow: 'POST, OPTIONS' });
    // One IPv6 /64 is one address (as the host's own limits count it).
    if (!perIp.take(addressBucket(clientIp(req)))) return send(res, { op: 'none', status: 'rateLimited' });
    let q: RealmRequest;
    try {
      q = decodeRealmRequest(await readBody(req, MAX_REQUEST_LEN));
    } catch (e) {
      if (e instanceof TooLarge) return plain(res, 413, { connection: 'close' });
      if (isProtocolError(e)) return send(res, { op: 'none', status: 'badRequest' });
      throw e;
    }
    if (!constantTimeEqual(q.realmId, realmId)) return send(res, { op: q.op, status: 'wrongRealm' });
    if (!perUser.take(toHex(q.userId))) return send(res, { op: q.op, status: 'rateLimited' });
    const applied = await applyRealmRequest(store, q, policy, deps);
    if (applied.destroyed) await store.scrub();
    send(res, applied.response);
  }

  return {
    realmId: realmId.slice(),
    async handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path !== bare && !path.startsWith(prefix)) return false;
      try {
        if (path === prefix || path === bare) await serve(req, res);
        else plain(res, 404);
      } catch {
        // Deliberately no logging of the error: it could quote request state.
        if (!res.headersSent) plain(res, 500);
        else res.destroy();
      }
      return true;
    },
    close: () => store.close()
  };
}
