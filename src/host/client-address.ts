/**
 * Who the client is, for per-IP limits (P40 lockouts): the peer address of the connection, or,
 * when that peer is a configured trusted reverse proxy (TRUSTED_PROXY: addresses or CIDR ranges),
 * the address it reports in X-Forwarded-For. The header is read right to left: each trusted proxy
 * appends the address it received from, so the first untrusted hop from the right is the client;
 * anything further left was written by the client and is never believed. From any peer that is
 * not a trusted proxy the header is ignored, so nobody can pick their own rate-limit bucket.
 * Knows nothing of routes or limits.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export type ClientAddress = (req: IncomingMessage) => string;

/** "::ffff:1.2.3.4" -> "1.2.3.4"; "[::1]:443" and "1.2.3.4:80" lose their port; lowercase. */
function normalise(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a);
  if (v4WithPort) a = v4WithPort[1]!;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  return mapped ? mapped[1]! : a.toLowerCase();
}

/** A BlockList of the trusted proxies; throws on an entry that is not an address or a range. */
function trustedList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', bits, extra] = entry.trim().split('/');
    const family = isIP(addr);
    const prefix = Number(bits);
    const maxBits = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (bits !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= maxBits))) {
      throw new Error(`TRUSTED_PROXY: "${entry.slice(0, 64)}" is not an IP address or CIDR range`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, prefix, type);
  }
  return list;
}

export function clientAddress(trustedProxies: readonly string[] = []): ClientAddress {
  const list = trustedList(trustedProxies);
  const trusted = (a: string): boolean => {
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (req) => {
    let addr = normalise(req.socket.remoteAddress ?? 'unknown');
    if (trustedProxies.length === 0 || !trusted(addr)) return addr;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    while (trusted(addr) && hops.length > 0) {
      const next = normalise(hops.pop()!);
      // A hop that is not an address was not written by a proxy we trust: stop at the last one.
      if (!isIP(next)) break;
      addr = next;
    }
    return addr;
  };
}

/** The first `groups` 16-bit groups of an IPv6 address, as the prefix `…::/(16 × groups)`. */
function ipv6Prefix(ip: string, groups: number): string {
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${all
    .slice(0, groups)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/${16 * groups}`;
}

/** The rate-limit bucket of an address: itself, or its /64 for IPv6 (one subscriber's usual share). */
export function addressBucket(ip: string): string {
  return isIP(ip) === 6 ? ipv6Prefix(ip, 4) : ip;
}

/**
 * The IPv6 /48 an address is in (one site's usual assignment, 65,536 /64s), for limits whose
 * point is to stop one party from multiplying its budget by hopping /64s; undefined for IPv4.
 */
export function siteBucket(ip: string): string | undefined {
  return isIP(ip) === 6 ? ipv6Prefix(ip, 3) : undefined;
}
