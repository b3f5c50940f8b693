/**
 * VAPID (RFC 8292) for the host's Web Push: the deployment's one P-256 key pair, made on first
 * start and kept in the push store (push-port.ts), and one empty push (RFC 8030 §5) to an
 * endpoint: POST, no body, no encryption headers, `TTL`, `Urgency: normal` and
 * `Authorization: vapid t=<ES256 JWT>, k=<public key>` with aud = the endpoint's origin and
 * exp 12 h ahead (web-push signs it; RFC 8292 §2 allows at most 24 h).
 *
 * The request is sent here, not by web-push's sendNotification, so that it has a timeout, never
 * follows a redirect (the endpoint was checked by endpoint.ts; a redirect would escape that), and
 * can reach the loopback http push service of the tests when endpoint.ts allowed it.
 * Knows nothing of accounts or envelopes.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import type { PushStore, VapidKeyPair } from '../storage/push-port';

/** The stored pair, or a new one stored first (of instances racing, all use the first writer's). */
export async function loadVapidKeys(store: PushStore): Promise<VapidKeyPair> {
  const have = await store.getVapidKeys();
  if (have) return have;
  await store.putVapidKeysIfAbsent(webpush.generateVAPIDKeys());
  const stored = await store.getVapidKeys();
  if (!stored) throw new Error('push: the VAPID key pair was not stored');
  return stored;
}

export interface VapidSenderOptions {
  keys: VapidKeyPair;
  /** RFC 8292 §2.1 `sub`: a mailto: or https: contact for the push service's operator. */
  subject: string;
  /** How long the push service keeps an undelivered push (RFC 8030 §5.2), in seconds. */
  ttlSeconds: number;
  timeoutMs: number;
}

/** Sends one empty push; resolves with the push service's status code, or 0 if none came. */
export type PushSend = (endpoint: string) => Promise<number>;

export function vapidSender(o: VapidSenderOptions): PushSend {
  return (endpoint) => {
    const details = webpush.generateRequestDetails({ endpoint }, null, {
      vapidDetails: { subject: o.subject, publicKey: o.keys.publicKey, privateKey: o.keys.privateKey },
      TTL: o.ttlSeconds,
      urgency: 'normal'
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k] = String(v);
    headers['Content-Length'] = '0';
    const url = new URL(endpoint);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<number>((resolve) => {
      const req = send(url, { method: 'POST', headers, timeout: o.timeoutMs }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('push timeout')));
      req.on('error', () => resolve(0));
      req.end();
    });
  };
}
