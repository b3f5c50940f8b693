/**
 * The thin host on one port (DESIGN.md §2, §5): /healthz, the /api/v1 JSON/binary API,
 * the /api/v1/ws WebSocket, and the built PWA (static.ts) when `staticDir` is given.
 *
 * Storage is the async HostStore (storage/port.ts) chosen by `databaseUrl` (open.ts): SQLite in
 * `dataDir` by default, or PostgreSQL shared by several instances, which then tell each other
 * about new envelopes and takeovers over the instance bus (storage/bus-port.ts).
 *
 * `close()` is the graceful drain (SIGTERM): stop accepting, commit every queued envelope and ack
 * (their senders get 'stored'), close sockets with 1012 (clients reconnect, behind a balancer to
 * another instance), then close the stores. Nothing acknowledged is lost, and anything not
 * acknowledged was never promised.
 * Logs are one line per request (method, route, status, ms): never bodies, tokens or queries.
 *
 * Hostile input (P40): a request target that is not a plain path gets 400 (an upgrade with one
 * is dropped) before any handler parses it; a full store answers 503 with Retry-After on every
 * endpoint that writes and is logged with its reason, at most once a minute; the retention sweep
 * never throws into a timer or into startup. Client addresses come from client-address.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { encodeIdentityPublic } from '../lib/crypto/identity';
import { initSodium } from '../lib/crypto/sodium';
import { API } from '../lib/wire/host-api';
import { createAccountRecords } from './account-record';
import { createApi } from './api';
import { attachCalls } from './calls';
import { createAuth } from './auth';
import { createDirectory } from './directory';
import { clientAddress } from './client-address';
import { HostError, requestPath, sendError, sendJson, setClientIp } from './http-util';
import { createHub } from './hub';
import { DEFAULT_LIMITS, type Limits } from './limits';
import { createMailbox } from './mailbox';
import { createProfiles, createUsernameLinks } from './profiles';
import { createDiscovery } from './discovery';
import { startLookupHasher } from './lookup-hasher';
import { staticHandler } from './static';
import { createRealm } from './realm/create-realm';
import { SIGNED_OUT_CLOSE_CODE } from '../lib/wire/account-record-api';
import { envelopeSeal } from './storage/envelope-seal';
import { bindEnvelopeKey, bindNameKey, openHostBackend, openSideStores, openRealmStorage } from './storage/open';
import { nameKeyInDataDir } from './storage/name-key';
import { nameSeal } from './storage/name-seal';
import { builtInRealmIdKey, realmIdKey } from './storage/realm-ids';
import { StorageFullError } from './storage/types';
import { storeLimiters } from './store-limiter';
import { createWsEndpoint, type SocketStats } from './ws';
import { createSealed, type SealedKeys } from './sealed';
import { createSealedMulti } from './sealed-multi';
import { SEALED_API } from '../lib/wire/sealed-api';
import { SEALED_MULTI_PATH } from '../lib/wire/sealed-multi-api';
import { createGroupsApi } from './groups';
import { createBlobsApi } from './blobs';
import { createPush, type PushOptions } from './push/create-push';
import { PUSH_API } from '../lib/wire/push-api';

export interface HostOptions {
  port: number;
  /** Interface to bind; default 127.0.0.1 (main.ts binds all interfaces). */
  hostname?: string;
  dataDir: string;
  /** postgres:// URL (DATABASE_URL): the stores on PostgreSQL, shared with other instances. Absent: SQLite in dataDir. */
  databaseUrl?: string;
  staticDir?: string;
  clock?: () => number;
  limits?: Partial<Limits>;
  log?: (line: string) => void;
  /** Reverse proxies whose X-Forwarded-For gives the client address (addresses or CIDR ranges). */
  trustedProxies?: readonly string[];
  /** Sealed sender (P41): the operator's certificate key and pinned trust; default a development root in dataDir. */
  sealedKeys?: SealedKeys;
  /** Web Push (README "Web Push with the tab closed"): loopback test endpoints, coalescing, VAPID subject. */
  push?: PushOptions;
  /**
   * The key that seals usernames at rest (README "Usernames at rest"); every instance sharing a
   * database needs the same one. Default: `name.key` in dataDir, made on first start.
   */
  nameKey?: Uint8Array;
}

export interface RunningHost {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Runs the retention sweep now (it also runs on start and every sweepIntervalMs); never rejects. */
  sweep(): Promise<number>;
  /** Per authenticated WebSocket: bytes queued to it and sends awaiting commit (P40: bounded). */
  sockets(): SocketStats[];
}

/** Route label for logs: the fixed prefix only, so usernames and ids stay out of log lines. */
function routeLabel(path: string | undefined): string {
  if (path === undefined) return 'malformed';
  const known = [...Object.values(API), ...Object.values(SEALED_API), SEALED_MULTI_PATH, ...Object.values(PUSH_API)].find((p) => path === p || (p.endsWith('/') && path.startsWith(p)));
  return known ?? (path.startsWith('/api/') ? '/api/?' : 'static');
}

/** A storage error as the port reports it, or as realm and account records' own SQLite files do. */
function isStorageFull(e: unknown): boolean {
  return e instanceof StorageFullError || (e as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

/**
 * Storage failure log lines, with their reason, at most one per `what` a minute (a full disk must
 * not also fill the log); the next line says how many were held back.
 */
function storageFailureLog(log: (line: string) => void, clock: () => number): (what: string, e: unknown) => void {
  const last = new Map<string, { at: number; held: number }>();
  return (what, e) => {
    const reason = e instanceof StorageFullError ? e.message : `${e instanceof Error ? e.name : 'unknown'} ${String((e as { code?: unknown } | null)?.code ?? '')}`.trim();
    const now = clock();
    const seen = last.get(what);
    if (seen && now - seen.at < 60_000) return void seen.held++;
    log(`storage: ${what} failed: ${reason}${seen?.held ? ` (${seen.held} more since the last line)` : ''}`);
    last.set(what, { at: now, held: 0 });
  };
}

export async function createHost(opts: HostOptions): Promise<RunningHost> {
  await initSodium();
  const clock = opts.clock ?? Date.now;
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.log ?? (() => {});
  const storageFailed = storageFailureLog(log, clock);
  const addressOf = clientAddress(opts.trustedProxies);
  const nameKey = opts.nameKey ?? nameKeyInDataDir(opts.dataDir);
  const names = nameSeal(nameKey);
  const bodies = envelopeSeal(nameKey);
  const at = { databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, names, bodies };
  const resealed = await bindNameKey(at, names);
  if (resealed > 0) log(`storage: sealed ${resealed} stored usernames under the name key`);
  const sealedBodies = await bindEnvelopeKey(at, bodies);
  if (sealedBodies > 0) log(`storage: sealed ${sealedBodies} stored envelope bodies under the envelope key`);
  const { store: storage, bus } = await openHostBackend(at, { maxDatabaseBytes: limits.maxDatabaseBytes, maxChallenges: limits.maxChallenges, sweepChunk: limits.sweepChunk }, log);
  const auth = createAuth(storage, limits, clock);
  const directory = createDirectory(storage, auth, limits, clock);
  const hub = createHub(storage, limits);
  // Web Push: an empty push to an account with no live socket here when mail for it commits.
  const push = await createPush({ at, auth, online: (u) => hub.online(u), clock, log, ...(opts.push ? { options: opts.push } : {}) });
  const mailbox = createMailbox(storage, limits, clock, (e, before) => (hub.deliver(e, before), push.stored(e.recipient)), storageFailed);
  const ws = createWsEndpoint(auth, mailbox, hub, limits);
  bus.onMailboxes((usernames) => hub.poke(usernames));
  bus.onResync(() => hub.pokeAll());
  bus.onSignOut((username) => ws.closeUser(username, SIGNED_OUT_CLOSE_CODE, 'signed-out'));
  // PIN recovery (DESIGN.md §7): the default single realm at /realm/ with its own storage (its
  // own SQLite file, or its own tables on PostgreSQL so every instance serves the same realm), and
  // the sealed account records (account-record.ts), whose device gate every login passes.
  // The built-in realm trusts this host's registration tokens (P38) and APP_ORIGIN (create-realm.ts).
  const records = await createAccountRecords({ dataDir: opts.dataDir, auth, storage, clock, closeUser: (u, code, why) => ws.closeUser(u, code, why) });
  const realmStorage = await openRealmStorage({ databaseUrl: opts.databaseUrl, dataDir: join(opts.dataDir, 'realm') }, realmIdKey(builtInRealmIdKey(nameKey)));
  const realm = createRealm({ id: 'parley', storage: realmStorage, clock, issuers: [records.issuerPublicKey], clientAddress: addressOf });
  // Private discovery: anonymous lookups by memory-hard hash (exists + identity key), fed by registrations.
  // Profiles, group blobs, discovery, sealed sender and attachments: on PostgreSQL shared by every instance.
  const side = await openSideStores(at);
  const hasher = startLookupHasher({ maxWaiting: limits.lookupHashWaiting });
  const counted = storeLimiters(storage, clock);
  const discovery = createDiscovery(side.discovery, limits, clock, hasher, counted);
  // The fill hashes while the host serves (a large index takes minutes: ~20 ms per account).
  const started = clock();
  const fill = await discovery.fill(() => side.accounts()).catch((e: unknown) => void storageFailed('discovery fill', e));
  if (fill && fill.todo > 0) log(`discovery: indexing ${fill.todo} accounts in the background`);
  fill?.done.then(
    (n) => n > 0 && log(`discovery: indexed ${n} accounts in ${((clock() - started) / 1000).toFixed(1)} s`),
    (e: unknown) => storageFailed('discovery fill', e)
  );
  const gated = {
    ...directory,
    login: records.login,
    register: async (req: Parameters<typeof directory.register>[0]) => {
      // The lookup hash first: when the hashing thread is full (503) nothing is created yet.
      const entry = await discovery.prepare(req.username);
      const r = await directory.register(req);
      // Indexed before the answer, so a lookup made once the registration is done finds it; a
      // failure to store it is logged, not fatal (the account exists; the next startup's fill adds it).
      await entry.add(encodeIdentityPublic(req.identity)).catch((e: unknown) => storageFailed('discovery index', e));
      return r;
    }
  };
  // Private profiles (P43): opaque blobs in their own store, reached without an account.
  const profiles = createProfiles(side.owned.profiles, limits, clock, counted);
  const usernameLinks = createUsernameLinks(side.owned.links, limits, clock, counted);
  const api = createApi({
    auth,
    directory: gated,
    mailbox,
    limits,
    perIp: counted('ip', limits.perIp),
    registerPerIp: counted('register-ip', limits.registerPerIp)
  });
  // Sealed sender (P41): its own store and routes; sealed mail enters the mailbox with no sender.
  const sealedPerIp = counted('sealed-ip', limits.sealedSendPerIp);
  const sealed = await createSealed({ store: side.sealed, perIp: sealedPerIp, auth, mailbox, identityOf: (u) => storage.identity(u), limits, clock, dataDir: opts.dataDir, log, ...(opts.sealedKeys ? { keys: opts.sealedKeys } : {}) });
  // Sealed sender v2 (P41): one unauthenticated upload fanned out to each recipient, no sender stored.
  const sealedMulti = createSealedMulti({ store: side.sealed, mailbox, limits, perIp: sealedPerIp });
  // Groups (README "Groups"): fan-out of group messages and the encrypted state blobs.
  const groups = createGroupsApi({
    auth,
    mailbox,
    blobs: side.groupBlobs,
    clock,
    reads: counted('group-blob-read-ip', limits.groupBlobReadPerIp),
    writes: counted('group-blob-write-ip', limits.groupBlobWritePerIp)
  });
  // Attachments (README "Attachments"): opaque padded blobs by unguessable id, 30-day retention.
  const blobs = createBlobsApi({
    auth,
    store: side.blobs,
    clock,
    reads: counted('blob-read-ip', limits.blobReadPerIp),
    uploads: counted('blob-upload-account', limits.blobUploadMiBPerAccount),
    recipients: counted('blob-recipients-account', limits.blobRecipientsPerAccount),
    deletes: counted('blob-delete-account', limits.blobDeletesPerAccount)
  });
  const serveStatic = opts.staticDir ? staticHandler(opts.staticDir) : undefined;

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (path === API.health) return sendJson(res, 200, { ok: true });
    if (await calls.http(req, res)) return;
    if (await realm.handle(req, res)) return;
    if (await records.handle(req, res)) return;
    if (await sealedMulti.handle(req, res)) return;
    if (await sealed.handle(req, res)) return;
    if (await profiles.handle(req, res, path)) return;
    if (await usernameLinks.handle(req, res, path)) return;
    if (await discovery.handle(req, res, path)) return;
    if (await groups(req, res)) return;
    if (await blobs.handle(req, res)) return;
    if (await push.handle(req, res, path)) return;
    if (await api(req, res)) return;
    if (serveStatic) return serveStatic(req, res);
    throw new HostError(404, 'NotFound', 'no such endpoint');
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    let path: string | undefined;
    Promise.resolve()
      .then(() => {
        path = requestPath(req);
        setClientIp(req, addressOf(req));
        return handle(req, res, path);
      })
      .catch((e: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (e instanceof HostError) return sendError(res, e);
        if (isStorageFull(e)) {
          storageFailed(`${req.method} ${routeLabel(path)}`, e);
          return sendError(res, new HostError(503, 'Unavailable', 'storage is full; nothing was stored, retry later', limits.storageRetryAfterMs));
        }
        log(`error ${req.method} ${routeLabel(path)}: ${e instanceof Error ? e.name : 'unknown'}`);
        sendError(res, new HostError(500, 'Internal', 'internal error'));
      })
      .catch(() => res.destroy())
      .finally(() => log(`${req.method} ${routeLabel(path)} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`));
  });
  const calls = attachCalls(server, { auth, clock, log });
  server.on('upgrade', (req, socket, head) => {
    let path: string;
    try {
      path = requestPath(req);
      setClientIp(req, addressOf(req));
      if (calls.upgrade(req, socket, head)) return;
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
    if (path !== API.ws) return void socket.destroy();
    ws.handleUpgrade(req, socket, head);
  });

  const sweepTimer = setInterval(() => void mailbox.sweep().then(() => blobs.sweep()), limits.sweepIntervalMs);
  sweepTimer.unref();
  void mailbox.sweep().then(() => blobs.sweep());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.hostname ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${opts.hostname && opts.hostname !== '0.0.0.0' ? opts.hostname : '127.0.0.1'}:${port}`,
    port,
    sweep: async () => (await mailbox.sweep()) + (await blobs.sweep()),
    sockets: () => ws.stats(),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await mailbox.drain();
        ws.closeAll();
        calls.close();
        server.closeIdleConnections();
        let grace: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([stopped, new Promise((r) => (grace = setTimeout(r, 2000)))]);
        clearTimeout(grace);
        server.closeAllConnections();
        clearInterval(sweepTimer);
        const st = mailbox.stats();
        log(`mailbox: ${st.envelopes} envelopes and ${st.acks} ack batches in ${st.commits} commits, avg ${(st.commitMs / Math.max(1, st.commits)).toFixed(2)} ms, max ${st.maxCommitMs.toFixed(1)} ms`);
        // Each store closes even if another fails (on a full disk the final checkpoints do): what
        // was committed stays in its WAL and is read on the next start.
        for (const [what, close] of [['realm', () => realm.close()], ['push', () => push.close()], ['discovery fill', () => discovery.close()], ['hashing thread', () => hasher.close()], ['side stores', () => side.close()], ['bus', () => bus.close()], ['host store', () => storage.close()]] as const) {
          try {
            await close();
          } catch (e) {
            storageFailed(`${what} close`, e);
          }
        }
      })();
      return closing;
    }
  };
}
