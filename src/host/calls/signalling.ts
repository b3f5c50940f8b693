/**
 * The PeerJS signalling server (package `peer`) mounted on the host's own HTTP server at /peerjs
 * (DESIGN.md §6; SECURITY.md P27, P28). The PeerServer is untrusted by design — calls are
 * authenticated end to end by the DTLS fingerprints exchanged inside the ratchet — so this module
 * only keeps it from becoming a public utility or a directory:
 *
 * - discovery off (`allow_discovery: false`; GET /peerjs/peerjs/peers is answered 404 here anyway)
 * - only random 128-bit ids (32 lowercase hex) register; server-issued ids (/id) are not offered,
 *   since a client that lets the server pick its id lets the server predict it
 * - per-IP rate limit on connections, a cap on concurrent peers, 16 KiB frames, and per socket a
 *   budget of frames and bytes in and of unsent bytes out (signalling-guard.ts, P40)
 * - browser requests only from the app's origin (Origin checked on the WebSocket upgrade; CORS
 *   on HTTP answers names only that origin)
 *
 * The WebSocket upgrade is dispatched by server.ts (one `upgrade` listener for the whole host), so
 * the PeerServer's own WebSocketServer runs with `noServer`. Knows nothing of accounts or calls.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ExpressPeerServer } from 'peer';
import { WebSocketServer } from 'ws';
import { addressBucket } from '../client-address';
import { clientIp } from '../http-util';
import { createLimiter, type Window } from '../rate-limit';
import { DEFAULT_SIGNALLING_BUDGET, guardSignallingSocket, type SignallingBudget } from './signalling-guard';
import { scopedTimers } from './scoped-timers';

export const PEERJS_PATH = '/peerjs';
/** PeerJS clients connect to `${path}/peerjs?key=…&id=…&token=…`. */
export const PEERJS_WS_PATH = '/peerjs/peerjs';
export const PEERJS_KEY = 'peerjs';

export interface SignallingOptions {
  /** Origins allowed to open signalling sockets; default: the request's own Host (same origin). */
  allowedOrigins?: string[];
  /** Connections per IP; default 60 a minute. */
  perIp?: Window;
  /** Most peers registered at once; default 2000. */
  maxPeers?: number;
  /** Frames, bytes and unsent bytes per socket (signalling-guard.ts, P40); default DEFAULT_SIGNALLING_BUDGET. */
  budget?: Partial<SignallingBudget>;
  clock?: () => number;
  log?: (line: string) => void;
}

export interface Signalling {
  /** Handles /peerjs HTTP requests; false if the path is not ours. */
  http(req: IncomingMessage, res: ServerResponse): boolean;
  /** Handles a /peerjs/peerjs upgrade (accepting or refusing it); false if the path is not ours. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ids currently registered (tests). */
  peerCount(): number;
  /** Closes every signalling socket and stops the PeerServer's timers. */
  close(): void;
}

const PEER_ID = /^[0-9a-f]{32}$/;
/** PeerJS tokens are Math.random().toString(36).slice(2): short base-36. */
const PEER_TOKEN = /^[0-9a-z]{1,32}$/;

/** Is this browser Origin allowed? Absent Origin = not a browser page: CORS does not apply. */
export function originAllowed(req: IncomingMessage, allowed: string[] | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed && allowed.length > 0) return allowed.includes(origin);
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createSignalling(server: Server, opts: SignallingOptions = {}): Signalling {
  const clock = opts.clock ?? Date.now;
  const limiter = createLimiter(opts.perIp ?? { max: 60, windowMs: 60_000 }, clock);
  const log = opts.log ?? (() => {});
  const budget: SignallingBudget = { ...DEFAULT_SIGNALLING_BUDGET, ...opts.budget };
  let wss: WebSocketServer | undefined;
  let peers = 0;

  const app = ExpressPeerServer(server, {
    path: '/',
    key: PEERJS_KEY,
    allow_discovery: false,
    concurrent_limit: opts.maxPeers ?? 2000,
    alive_timeout: 60_000,
    expire_timeout: 5000,
    corsOptions: { origin: opts.allowedOrigins && opts.allowedOrigins.length > 0 ? opts.allowedOrigins : false },
    createWebSocketServer: () => {
      wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
      return wss;
    }
  });
  app.on('connection', () => peers++);
  app.on('disconnect', () => (peers = Math.max(0, peers - 1)));
  app.on('error', () => log('peerjs: socket error'));
  // ExpressPeerServer initialises on express's 'mount' event; we have no express parent app
  // (express is not a dependency of ours), so we run peer's own mount listener directly —
  // not express's `onmount`, which would copy settings from a parent. app.path() is then ''.
  // Its timers are kept in scope so close() can stop them: peer offers no way to (scoped-timers.ts).
  const timers = scopedTimers();
  timers.run(() => {
    for (const onMount of app.listeners('mount')) if ((onMount as { name?: string }).name !== 'onmount') (onMount as () => void).call(app);
  });
  if (!wss) throw new Error('peer did not create its WebSocket server');
  const socketServer = wss;

  return {
    http(req, res) {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (path !== PEERJS_PATH && !path.startsWith(PEERJS_PATH + '/')) return false;
      const origin = req.headers.origin;
      if (origin !== undefined && originAllowed(req, opts.allowedOrigins)) res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Cache-Control', 'no-store');
      if (!originAllowed(req, opts.allowedOrigins) || limiter.hit(addressBucket(clientIp(req))) > 0) {
        res.writeHead(403).end();
        return true;
      }
      if (req.method === 'GET' && (path === PEERJS_PATH || path === PEERJS_PATH + '/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"name":"Parley signalling"}');
        return true;
      }
      // No /id (ids are chosen by clients, at random) and no /peers (no discovery).
      res.writeHead(404).end();
      return true;
    },

    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://host');
      if (url.pathname !== PEERJS_WS_PATH) return false;
      if (!originAllowed(req, opts.allowedOrigins)) {
        refuse(socket, 403, 'Forbidden');
        return true;
      }
      if (limiter.hit(addressBucket(clientIp(req))) > 0) {
        refuse(socket, 429, 'Too Many Requests');
        return true;
      }
      const id = url.searchParams.get('id') ?? '';
      const token = url.searchParams.get('token') ?? '';
      if (!PEER_ID.test(id) || !PEER_TOKEN.test(token) || url.searchParams.get('key') !== PEERJS_KEY) {
        refuse(socket, 400, 'Bad Request');
        return true;
      }
      socketServer.handleUpgrade(req, socket, head, (ws) => {
        guardSignallingSocket(ws, budget, clock);
        socketServer.emit('connection', ws, req);
      });
      return true;
    },

    peerCount: () => peers,

    close() {
      for (const c of socketServer.clients) c.terminate();
      socketServer.close();
      timers.stop();
    }
  };
}
