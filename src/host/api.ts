/**
 * The JSON/binary HTTP API under /api/v1 (routes in src/lib/wire/host-api.ts). Each handler
 * decodes strictly, calls one service, and answers; any failure is a 4xx/5xx with
 * `{error:{code,message}}` and no state change (services validate fully before writing).
 * Knows nothing of SQL or sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { toBase64Url } from '../lib/codec/base64url';
import {
  API,
  HostLimits,
  decodeAckRequest,
  decodeLoginRequest,
  decodePreKeyUpload,
  decodeRegisterRequest,
  encodeChallengeResponse,
  encodeTokenResponse
} from '../lib/wire/host-api';
import { isUsername } from '../lib/codec/username';
import type { Auth } from './auth';
import { addressBucket } from './client-address';
import type { Directory } from './directory';
import { HostError, bearer, clientIp, readBody, readJson, requestPath, sendJson } from './http-util';
import type { Limits } from './limits';
import type { Mailbox } from './mailbox';
import type { SharedLimiter } from './store-limiter';

export interface ApiDeps {
  auth: Auth;
  directory: Directory;
  mailbox: Mailbox;
  limits: Limits;
  perIp: SharedLimiter;
  /** Registrations per client address bucket (P40: the cost of each extra account). */
  registerPerIp: SharedLimiter;
}

type Handler = (req: IncomingMessage, res: ServerResponse, rest: string) => Promise<void>;

/** Decoder failures are the client's fault: 400 with the decoder's reason. */
function decode<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isProtocolError(e)) throw new HostError(400, 'BadRequest', e.message);
    throw new HostError(400, 'BadRequest', 'malformed request');
  }
}

function pathName(rest: string): string {
  let name: string;
  try {
    name = decodeURIComponent(rest);
  } catch {
    throw new HostError(400, 'BadRequest', 'malformed path');
  }
  return name;
}

function canonicalTarget(rest: string): string {
  const name = pathName(rest);
  if (!isUsername(name)) throw new HostError(400, 'BadRequest', 'not a canonical username');
  return name;
}

export function createApi(d: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const limitIp = async (req: IncomingMessage, limiter = d.perIp, what = 'requests'): Promise<void> => {
    const wait = await limiter.hit(addressBucket(clientIp(req)));
    if (wait) throw new HostError(429, 'RateLimited', `too many ${what} from this address`, wait);
  };

  const routes: { method: string; prefix: string; exact: boolean; handle: Handler }[] = [
    {
      method: 'GET', prefix: API.usernames, exact: false,
      handle: async (req, res, rest) => {
        await limitIp(req);
        sendJson(res, 200, await d.directory.availability(pathName(rest)));
      }
    },
    {
      method: 'GET', prefix: API.challenge, exact: true,
      handle: async (req, res) => {
        await limitIp(req);
        sendJson(res, 200, encodeChallengeResponse(await d.auth.challenge()));
      }
    },
    {
      method: 'POST', prefix: API.login, exact: true,
      handle: async (req, res) => {
        const json = await readJson(req, 4096);
        const r = decode(() => decodeLoginRequest(json));
        sendJson(res, 200, encodeTokenResponse(await d.directory.login(r)));
      }
    },
    {
      method: 'POST', prefix: API.accounts, exact: true,
      handle: async (req, res) => {
        await limitIp(req, d.registerPerIp, 'registrations');
        const json = await readJson(req, HostLimits.maxJsonBytes);
        const r = decode(() => decodeRegisterRequest(json));
        sendJson(res, 201, encodeTokenResponse(await d.directory.register(r)));
      }
    },
    {
      method: 'GET', prefix: API.bundles, exact: false,
      handle: async (req, res, rest) => {
        const user = await d.auth.requireUser(bearer(req));
        const bundle = await d.directory.fetchBundle(user, canonicalTarget(rest));
        sendJson(res, 200, { bundle: toBase64Url(bundle) });
      }
    },
    {
      method: 'GET', prefix: API.prekeys, exact: true,
      handle: async (req, res) => sendJson(res, 200, await d.directory.counts(await d.auth.requireUser(bearer(req))))
    },
    {
      method: 'POST', prefix: API.prekeys, exact: true,
      handle: async (req, res) => {
        const user = await d.auth.requireUser(bearer(req));
        const json = await readJson(req, HostLimits.maxJsonBytes);
        const upload = decode(() => decodePreKeyUpload(json));
        sendJson(res, 200, await d.directory.upload(user, upload));
      }
    },
    {
      method: 'POST', prefix: API.messages, exact: false,
      handle: async (req, res, rest) => {
        const user = await d.auth.requireUser(bearer(req));
        const to = canonicalTarget(rest);
        const body = await readBody(req, d.limits.maxEnvelopeBytes);
        const e = await d.mailbox.submit(user, to, body);
        sendJson(res, 201, { serverId: e.id, receivedAt: e.receivedAt });
      }
    },
    {
      method: 'POST', prefix: API.acks, exact: true,
      handle: async (req, res) => {
        const user = await d.auth.requireUser(bearer(req));
        const json = await readJson(req, 64 * 1024);
        const { ids } = decode(() => decodeAckRequest(json));
        sendJson(res, 200, { acked: await d.mailbox.ack(user, ids) });
      }
    }
  ];

  return async (req, res) => {
    const path = requestPath(req);
    if (!path.startsWith('/api/')) return false;
    const onPath = routes.filter((r) => (r.exact ? path === r.prefix : path.startsWith(r.prefix) && path.length > r.prefix.length));
    if (onPath.length === 0) throw new HostError(404, 'NotFound', 'no such endpoint');
    const match = onPath.find((r) => r.method === req.method);
    if (!match) throw new HostError(405, 'BadRequest', 'method not allowed here');
    await match.handle(req, res, path.slice(match.prefix.length));
    return true;
  };
}
