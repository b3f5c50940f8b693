/**
 * The WebSocket endpoint (DESIGN.md §5): the first frame must be Auth with the bearer token
 * (never in the URL, so tokens stay out of access logs); then the host replays unacked
 * envelopes and pushes new ones, and the client may Send (answered by Stored only after the
 * durable commit) and Ack. Frames are binary and strictly decoded (host-frames.ts); a malformed
 * frame gets an Error frame and changes nothing.
 *
 * Hostile clients (P40): a socket that keeps sending malformed frames is closed with 1008 after
 * `wsMaxMalformedFrames`; an account holds at most `wsPerAccount` sockets (more are closed with
 * 1013, try again later); a socket whose queue passes `wsMaxBufferedBytes` (replies to a flood it
 * never reads) is dropped at once. Pushes stay under the high-water mark (hub.ts). Once a socket
 * has `wsMaxPendingSendBytes` of sends waiting for their commit, the host stops reading it until
 * half of that is answered (TCP backpressure on the sender instead of host memory).
 * Knows nothing of SQL.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeClientFrame, encodeHostFrame, type HostFrame } from '../lib/wire/host-frames';
import type { StoredEnvelope } from './storage/types';
import type { Auth } from './auth';
import type { Hub, Connection } from './hub';
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { Mailbox } from './mailbox';

export interface WsEndpoint {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Graceful drain: closes every socket with 1012 (service restart: reconnect, to another instance). */
  closeAll(): void;
  /** Closes `username`'s sockets with `code` (device takeover: the old browser is signed out). */
  closeUser(username: string, code: number, reason: string): void;
  /** Per authenticated socket: bytes queued to it, and send bodies from it awaiting their commit. */
  stats(): SocketStats[];
}

export interface SocketStats {
  queuedBytes: number;
  pendingSendBytes: number;
}

/** RFC 6455 / IANA close codes used here. */
const POLICY_VIOLATION = 1008;
const SERVICE_RESTART = 1012;
const TRY_AGAIN_LATER = 1013;

function socketOf(ws: WebSocket): Duplex | undefined {
  return (ws as unknown as { _socket?: Duplex })._socket;
}

function toBytes(data: RawData): Uint8Array {
  const b = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function createWsEndpoint(auth: Auth, mailbox: Mailbox, hub: Hub, limits: Limits): WsEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxEnvelopeBytes + 64, perMessageDeflate: false });

  // Frames for one socket within one tick (several 'stored' replies, pushed envelopes) leave in
  // one write: the socket is corked on the first frame and uncorked on the next tick. This uses
  // ws's underlying net.Socket (`_socket`, stable across ws 8.x); cork/uncork nest safely.
  // (Uncorking in a microtask right after each batch instead measured no better at 21k/s.)
  const corked = new Set<Duplex>();
  function send(ws: WebSocket, f: HostFrame): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.wsMaxBufferedBytes) return void ws.terminate();
    const socket = socketOf(ws);
    if (socket && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
      if (corked.size === 1) setImmediate(uncorkAll);
    }
    // Frames come from Node's pooled slabs (no malloc per frame); every byte is written.
    ws.send(encodeHostFrame(f, Buffer.allocUnsafe), { binary: true });
  }
  function uncorkAll(): void {
    for (const s of corked) s.uncork();
    corked.clear();
  }

  function errorFrame(ws: WebSocket, reqId: number, e: unknown): void {
    const he = e instanceof HostError ? e : new HostError(500, 'Internal', 'internal error');
    send(ws, { type: 'error', reqId, code: he.code, message: he.message });
  }

  const socketsOf = new Map<string, Set<WebSocket>>();
  const pendingOf = new Map<WebSocket, { bytes: number; paused: boolean }>();

  function onAuthenticated(ws: WebSocket, username: string): void {
    let mine = socketsOf.get(username);
    if (!mine) socketsOf.set(username, (mine = new Set()));
    if (mine.size >= limits.wsPerAccount) {
      ws.close(TRY_AGAIN_LATER, `at most ${limits.wsPerAccount} sockets per account`);
      return;
    }
    mine.add(ws);
    const pending = { bytes: 0, paused: false };
    pendingOf.set(ws, pending);
    const conn: Connection = {
      username,
      push: (e) => send(ws, { type: 'envelope', serverId: e.id, receivedAt: e.receivedAt, sender: e.sender, body: e.body }),
      buffered: () => ws.bufferedAmount,
      isOpen: () => ws.readyState === ws.OPEN,
      onDrain: (f) => void socketOf(ws)?.once('drain', f),
      drop: () => ws.terminate()
    };
    const acked = (e: unknown) => {
      if (e !== undefined) errorFrame(ws, 0, e);
    };
    let malformed = 0;
    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        if (!isBinary) throw new Error('text frame');
        // The message buffer is ws's own, per message, never reused: the body may alias it.
        frame = decodeClientFrame(toBytes(data), true);
      } catch {
        if (++malformed > limits.wsMaxMalformedFrames) return void ws.close(POLICY_VIOLATION, 'too many malformed frames');
        errorFrame(ws, 0, new HostError(400, 'BadRequest', 'malformed frame'));
        return;
      }
      if (frame.type === 'send') {
        const { reqId } = frame;
        const size = frame.body.length;
        pending.bytes += size;
        if (pending.bytes > limits.wsMaxPendingSendBytes && !pending.paused) {
          pending.paused = true;
          ws.pause();
        }
        mailbox.submitCb(username, frame.to, frame.body, (err: unknown, e?: StoredEnvelope) => {
          pending.bytes -= size;
          if (pending.paused && pending.bytes <= limits.wsMaxPendingSendBytes / 2) {
            pending.paused = false;
            ws.resume();
          }
          if (err !== undefined) errorFrame(ws, reqId, err);
          else send(ws, { type: 'stored', reqId, serverId: e!.id, receivedAt: e!.receivedAt });
        });
      } else if (frame.type === 'ack') {
        mailbox.ackCb(username, frame.ids, acked);
      } else {
        if (++malformed > limits.wsMaxMalformedFrames) return void ws.close(POLICY_VIOLATION, 'too many malformed frames');
        errorFrame(ws, 0, new HostError(400, 'BadRequest', 'already authenticated'));
      }
    });
    ws.on('close', () => {
      pendingOf.delete(ws);
      mine.delete(ws);
      if (mine.size === 0) socketsOf.delete(username);
      hub.detach(conn);
    });
    send(ws, { type: 'ready' });
    hub.attach(conn);
  }

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => ws.terminate());
    const timer = setTimeout(() => ws.close(4401, 'auth timeout'), limits.wsAuthTimeoutMs);
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      // The token lookup is asynchronous: frames that arrive meanwhile wait (bounded by the
      // pending-send budget: past it the socket stops being read) and are handled in order.
      const early: [RawData, boolean][] = [];
      let earlyBytes = 0;
      const hold = (d: RawData, bin: boolean) => {
        early.push([d, bin]);
        earlyBytes += toBytes(d).length;
        if (earlyBytes > limits.wsMaxPendingSendBytes) ws.pause();
      };
      ws.on('message', hold);
      let lookup: Promise<string | undefined>;
      try {
        const f = isBinary ? decodeClientFrame(toBytes(data)) : undefined;
        lookup = f?.type === 'auth' ? auth.userForToken(f.token) : Promise.resolve(undefined);
      } catch {
        lookup = Promise.resolve(undefined);
      }
      void lookup
        .catch(() => undefined)
        .then((username) => {
          ws.off('message', hold);
          ws.resume();
          if (ws.readyState !== ws.OPEN) return;
          if (!username) {
            errorFrame(ws, 0, new HostError(401, 'Unauthorized', 'first frame must be Auth with a live token'));
            ws.close(4401, 'unauthorized');
            return;
          }
          onAuthenticated(ws, username);
          for (const [d, bin] of early) ws.emit('message', d, bin);
        });
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    closeUser(username, code, reason) {
      for (const ws of socketsOf.get(username) ?? []) ws.close(code, reason);
    },
    stats() {
      const out: SocketStats[] = [];
      for (const [ws, p] of pendingOf) out.push({ queuedBytes: ws.bufferedAmount, pendingSendBytes: p.bytes });
      return out;
    },
    closeAll() {
      for (const ws of wss.clients) ws.close(SERVICE_RESTART, 'host restarting; reconnect');
      wss.close();
    }
  };
}
