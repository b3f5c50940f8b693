/**
 * Calls on the host (DESIGN.md §6, SECURITY.md P27, P29): the PeerJS signalling server at /peerjs and
 * GET /api/v1/calls/ice, which gives an authenticated account the ICE servers with freshly minted
 * short-lived TURN credentials (P29). server.ts calls `http` before its API router and `upgrade`
 * from its single upgrade listener. Knows nothing of mailboxes or directories.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Auth } from '../auth';
import { HostError, bearer, sendJson } from '../http-util';
import { createSignalling, type SignallingOptions } from './signalling';
import { iceConfigFromEnv, iceServersFor, type IceConfig } from './turn';

export const ICE_PATH = '/api/v1/calls/ice';

export interface CallsOptions extends SignallingOptions {
  auth: Auth;
  /** Default: from process.env (ICE_SERVERS, TURN_URLS, TURN_SECRET, TURN_TTL). */
  ice?: IceConfig;
}

export interface Calls {
  http(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

export function attachCalls(server: Server, opts: CallsOptions): Calls {
  const clock = opts.clock ?? Date.now;
  const ice = opts.ice ?? iceConfigFromEnv(process.env);
  const allowedOrigins = opts.allowedOrigins ?? (process.env.APP_ORIGIN ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const signalling = createSignalling(server, { ...opts, allowedOrigins });
  return {
    http(req, res) {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (path === ICE_PATH) {
        if (req.method !== 'GET') throw new HostError(405, 'BadRequest', 'method not allowed here');
        return opts.auth.requireUser(bearer(req)).then(() => {
          sendJson(res, 200, iceServersFor(ice, clock()));
          return true;
        });
      }
      return signalling.http(req, res);
    },
    upgrade: (req, socket, head) => signalling.upgrade(req, socket, head),
    close: () => signalling.close()
  };
}
