/**
 * Compressed static responses (first load on a phone): brotli when the client accepts it, else
 * gzip, else the file as is. Only types that are not compressed already (text, scripts, JSON,
 * SVG, wasm) and bodies worth it (>= MIN_BYTES); images, fonts and archives go out unchanged.
 *
 * Each body is compressed once and cached by content hash (LRU, bounded in bytes), so a request
 * after the first costs a lookup. Every variant carries its own strong ETag (the identity hash
 * plus the coding) and its own Content-Length, with `Vary: Accept-Encoding`; If-None-Match is
 * answered 304. Knows nothing of paths, CSP or the app.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Coding = 'br' | 'gzip';

/** Smaller bodies fit in a packet either way. */
export const MIN_BYTES = 1024;
/** Compressed bodies kept in memory (the whole build is a few MB compressed). */
const CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Brotli 5: on this build's largest chunk (1.2 MB) 0.3 s and 7% larger than quality 11, which
 * takes 6 s — too slow for a first request to wait on, even once. gzip 6 is as small as 9 here.
 */
const BROTLI_QUALITY = 5;

const COMPRESSIBLE = /^(text\/|application\/(javascript|json|manifest\+json|wasm|xml)|image\/svg\+xml)/;

const br = promisify(brotliCompress);
const gz = promisify(gzip);

/** True for a Content-Type whose bodies are not compressed already. */
export function compressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType.toLowerCase());
}

/**
 * The coding to use for an Accept-Encoding header (RFC 9110 §12.5.3): br over gzip, each only
 * if acceptable (q > 0, named or by `*`); undefined means the identity body.
 */
export function negotiate(header: string | undefined): Coding | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const weight = (c: string) => q.get(c) ?? (c === 'gzip' ? q.get('x-gzip') : undefined) ?? q.get('*') ?? 0;
  const brQ = weight('br');
  const gzQ = weight('gzip');
  if (brQ > 0 && brQ >= gzQ) return 'br';
  if (gzQ > 0) return 'gzip';
  return undefined;
}

const cache = new Map<string, Promise<Buffer>>();
const sizes = new Map<string, number>();
let cached = 0;

function remember(key: string, body: Promise<Buffer>): Promise<Buffer> {
  cache.set(key, body);
  body.then(
    (b) => {
      if (!cache.has(key)) return;
      sizes.set(key, b.length);
      cached += b.length;
      for (const [old] of cache) {
        if (cached <= CACHE_BYTES) break;
        if (!sizes.has(old)) continue;
        cached -= sizes.get(old)!;
        sizes.delete(old);
        cache.delete(old);
      }
    },
    () => cache.delete(key)
  );
  return body;
}

/** The body in `coding`, compressed once per content. */
export function encoded(body: Buffer, hash: string, coding: Coding): Promise<Buffer> {
  const key = `${coding}:${hash}`;
  const hit = cache.get(key);
  if (hit) {
    // Most recently used last.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const made =
    coding === 'br'
      ? br(body, { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
      : gz(body, { level: 6 });
  return remember(key, made);
}

/** A strong validator for the identity body. */
export function contentHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 27);
}

/**
 * Sends `body` (Content-Type already set) compressed when allowed, with ETag, Content-Length and
 * Vary right for the variant chosen; 304 when If-None-Match names it.
 */
export async function sendBody(req: IncomingMessage, res: ServerResponse, body: Buffer, contentType: string): Promise<void> {
  const hash = contentHash(body);
  const worth = compressible(contentType) && body.length >= MIN_BYTES;
  const coding = worth ? negotiate(req.headers['accept-encoding']?.toString()) : undefined;
  if (worth) res.setHeader('Vary', 'Accept-Encoding');
  const etag = `"${hash}${coding ? `-${coding}` : ''}"`;
  res.setHeader('ETag', etag);
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    res.writeHead(304).end();
    return;
  }
  const out = coding ? await encoded(body, hash, coding) : body;
  if (coding) res.setHeader('Content-Encoding', coding);
  res.setHeader('Content-Length', out.length);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : out);
}
