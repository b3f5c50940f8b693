/**
 * Web Push with the tab closed (README "Web Push with the tab closed"), assembled for server.ts:
 * the push store (open-push.ts), the deployment's VAPID keys, the routes, and the notifier that
 * the mailbox's commit path calls for every stored envelope.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from '../auth';
import { openPushStore } from '../storage/open-push';
import type { StoreLocation } from '../storage/open';
import { createPushNotifier } from './notifier';
import { pushRoutes } from './routes';
import { loadVapidKeys, vapidSender } from './vapid';

export interface PushOptions {
  /** Accept http://127.0.0.1 / http://[::1] endpoints (tests, development: PUSH_DEV_LOOPBACK=1). */
  allowLoopbackHttp?: boolean;
  /** At most one push per account per this many ms, plus one at its end if more came (default 60 s). */
  minIntervalMs?: number;
  /** VAPID `sub` (PUSH_SUBJECT): mailto: or https: contact of the operator. */
  subject?: string;
  /** Push TTL in seconds (default 24 h). */
  ttlSeconds?: number;
}

export interface PushService {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  stored(username: string): void;
  close(): Promise<void>;
}

export async function createPush(d: { at: StoreLocation; auth: Auth; online(username: string): boolean; clock: () => number; log(line: string): void; options?: PushOptions }): Promise<PushService> {
  const o = d.options ?? {};
  const store = await openPushStore(d.at);
  try {
    const keys = await loadVapidKeys(store);
    const send = vapidSender({ keys, subject: o.subject ?? 'mailto:operator@parley.invalid', ttlSeconds: o.ttlSeconds ?? 24 * 3600, timeoutMs: 10_000 });
    const notifier = createPushNotifier({ store, send, online: d.online, minIntervalMs: o.minIntervalMs ?? 60_000, log: d.log });
    const handle = pushRoutes({ auth: d.auth, store, publicKey: keys.publicKey, policy: { allowLoopbackHttp: o.allowLoopbackHttp === true }, clock: d.clock });
    return {
      handle,
      stored: (u) => notifier.stored(u),
      async close() {
        await notifier.close();
        await store.close();
      }
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
