/**
 * Small HTTP helpers for the API: typed HostError -> `{error:{code,message}}` answers, bounded
 * body reading, JSON replies. Error messages carry numbers and field names, never bodies or tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostErrorCode } from '../lib/wire/host-api';

export class HostError extends Error {
  constructor(
    readonly status: number,
    readonly code: HostErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    /** Further response headers (a work challenge beside a 429). */
    readonly headers: Record<string, string> = {}
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HostError): void {
  const headers: Record<string, string> = { ...e.headers };
  if (e.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.ceil(e.retryAfterMs / 1000));
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, headers);
}

/** Reads at most `max` bytes; 413 beyond, without buffering the excess. */
export async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HostError(413, 'TooLarge', `body of ${declared} bytes exceeds ${max}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HostError(413, 'TooLarge', `body exceeds ${max} bytes`);
    chunks.push(chunk);
  }
  const all = Buffer.concat(chunks, size);
  return new Uint8Array(all.buffer, all.byteOffset, all.length);
}

export async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HostError(415, 'BadRequest', 'expected application/json');
  const body = await readBody(req, max);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch {
    throw new HostError(400, 'BadRequest', 'body is not valid JSON');
  }
}

/** The bearer token from `Authorization: Bearer <base64url>`, or undefined. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(h) : null;
  return m?.[1];
}

/**
 * The path of a request target, or a 400 (P40). Origin form ("/a/b?q") and absolute form
 * ("http://h/a", RFC 9112 §3.2.2) are read; anything else a client can put on the request line
 * ("//", "//[", "/\", "*") is refused here, once, before any handler parses it.
 */
export function requestPath(req: IncomingMessage): string {
  const target = req.url ?? '';
  // In origin form, "//x" and "/\x" would parse as a network path naming host "x".
  const origin = target.startsWith('/') && target[1] !== '/' && target[1] !== '\\';
  if (!origin && !/^https?:\/\//i.test(target)) throw new HostError(400, 'BadRequest', 'malformed request target');
  try {
    return new URL(target, 'http://host').pathname;
  } catch {
    throw new HostError(400, 'BadRequest', 'malformed request target');
  }
}

// The client address of each request, resolved once by the server (client-address.ts).
const clientAddresses = new WeakMap<IncomingMessage, string>();

export function setClientIp(req: IncomingMessage, ip: string): void {
  clientAddresses.set(req, ip);
}

/** The client address for per-IP limits: the peer, or what a trusted proxy says (client-address.ts). */
export function clientIp(req: IncomingMessage): string {
  return clientAddresses.get(req) ?? req.socket.remoteAddress ?? 'unknown';
}
