/**
 * The host's Web Push routes (wire/push-api.ts; README "Web Push with the tab closed"): the
 * VAPID public key for anyone (it is public: browsers bind subscriptions to it), and for the
 * signed-in account registering or deleting one of its push endpoints. Endpoints pass
 * endpoint.ts before anything is stored; an account keeps at most MAX_PUSH_SUBSCRIPTIONS (the
 * oldest goes). Nothing here is logged beyond the server's route label.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_PUSH_ENDPOINT_CHARS, MAX_PUSH_SUBSCRIPTIONS, PUSH_API } from '../../lib/wire/push-api';
import type { Auth } from '../auth';
import { HostError, bearer, readJson, sendJson } from '../http-util';
import type { PushStore } from '../storage/push-port';
import { checkPushEndpoint, type EndpointPolicy } from './endpoint';

export interface PushRoutesDeps {
  auth: Auth;
  store: PushStore;
  publicKey: string;
  policy: EndpointPolicy;
  clock: () => number;
}

export function pushRoutes(d: PushRoutesDeps): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  return async (req, res, path) => {
    if (path === PUSH_API.key) {
      if (req.method !== 'GET') throw new HostError(405, 'BadRequest', 'method not allowed here');
      sendJson(res, 200, { publicKey: d.publicKey });
      return true;
    }
    if (path !== PUSH_API.subscription) return false;
    if (req.method !== 'PUT' && req.method !== 'DELETE') throw new HostError(405, 'BadRequest', 'method not allowed here');
    const user = await d.auth.requireUser(bearer(req));
    const body = (await readJson(req, MAX_PUSH_ENDPOINT_CHARS + 256)) as { endpoint?: unknown } | null;
    const endpoint = checkPushEndpoint(body?.endpoint, d.policy);
    if (req.method === 'PUT') await d.store.putSubscription(user, endpoint, d.clock(), MAX_PUSH_SUBSCRIPTIONS);
    else if (!(await d.store.deleteSubscription(user, endpoint))) throw new HostError(404, 'NotFound', 'no such push subscription');
    res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
    return true;
  };
}
