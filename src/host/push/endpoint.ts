/**
 * Which push endpoint URLs the host will POST to (README "Web Push with the tab closed"). A
 * client chooses the URL, so this is the host's guard against being used to reach other
 * machines (SSRF): https only, on the default port, a DNS name (no IP literal, no `localhost`, no
 * credentials), at most MAX_PUSH_ENDPOINT_CHARS. Plain http to a loopback address is accepted
 * only when the host was started with the explicit test/development option (`allowLoopbackHttp`,
 * PUSH_DEV_LOOPBACK=1), so the tests can run a push service on 127.0.0.1.
 * Errors name the rule broken, never the URL.
 */
import { isIP } from 'node:net';
import { MAX_PUSH_ENDPOINT_CHARS } from '../../lib/wire/push-api';
import { HostError } from '../http-util';

export interface EndpointPolicy {
  allowLoopbackHttp: boolean;
}

const bad = (why: string): never => {
  throw new HostError(400, 'BadRequest', `push endpoint ${why}`);
};

const LOOPBACK = new Set(['127.0.0.1', '[::1]']);

/** The endpoint as the canonical URL string the host stores, or a 400. */
export function checkPushEndpoint(raw: unknown, policy: EndpointPolicy): string {
  if (typeof raw !== 'string') return bad('must be a string');
  if (raw.length > MAX_PUSH_ENDPOINT_CHARS) return bad(`of ${raw.length} characters exceeds ${MAX_PUSH_ENDPOINT_CHARS}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad('is not a URL');
  }
  if (url.username !== '' || url.password !== '') bad('must not carry credentials');
  if (url.hash !== '') bad('must not carry a fragment');
  const href = url.href;
  if (href.length > MAX_PUSH_ENDPOINT_CHARS) bad(`of ${href.length} characters exceeds ${MAX_PUSH_ENDPOINT_CHARS}`);
  if (url.protocol === 'http:' && policy.allowLoopbackHttp && LOOPBACK.has(url.hostname)) return href;
  if (url.protocol !== 'https:') bad('must be https');
  if (url.port !== '') bad('must use the default https port');
  const host = url.hostname;
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) bad('must name a host, not an address');
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) bad('must name a public host');
  return href;
}
