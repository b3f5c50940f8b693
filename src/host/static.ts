/**
 * Minimal static host for the built SPA (placeholder until the full host lands): serves build/
 * with correct MIME types, SPA fallback to index.html, cache headers, and a strict CSP header
 * (P30). The header is a second policy next to SvelteKit's <meta> one, so it must allow the same
 * inline bootstrap script: its sha256 hash is computed from each HTML file at serve time.
 * Knows nothing of accounts, mailboxes or crypto.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { realmConfigFromEnv, type RealmConfig } from '../lib/config/realms';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2'
};

const BASE_CSP = [
  "default-src 'self'",
  "worker-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
];

/** sha256 source expressions for every inline <script> (no src attribute) in `html`. */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    if (/\ssrc\s*=/i.test(m[1] ?? '')) continue;
    out.push(`'sha256-${createHash('sha256').update(m[2] ?? '', 'utf8').digest('base64')}'`);
  }
  return out;
}

/**
 * connect-src sources for the pinned PIN-recovery realms (P30, P38): the origin of every realm on
 * another origin, from the VITE_PARLEY_REALMS the app was built with (the host must be started
 * with the same value; `npm start` does both). Same-origin realms need nothing beyond 'self'.
 */
export function realmConnectSources(config: RealmConfig = realmConfigFromEnv(process.env)): string[] {
  const out = new Set<string>();
  for (const r of config.realms) if (/^https?:\/\//.test(r.url)) out.add(new URL(r.url).origin);
  return [...out];
}

export function contentSecurityPolicy(scriptHashes: string[] = [], realmSources: readonly string[] = realmConnectSources()): string {
  const connect = ["connect-src 'self' ws: wss:", ...realmSources].join(' ');
  return [...BASE_CSP, connect, ["script-src 'self' 'wasm-unsafe-eval'", ...scriptHashes].join(' ')].join('; ');
}

function setCommonHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

async function fileAt(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const full = resolve(root, '.' + normalize('/' + decoded));
  if (full !== root && !full.startsWith(root + sep)) return undefined;
  try {
    const s = await stat(full);
    if (s.isFile()) return full;
    if (s.isDirectory()) {
      const index = join(full, 'index.html');
      if ((await stat(index).catch(() => undefined))?.isFile()) return index;
    }
  } catch {
    // not found: fall through to the SPA fallback
  }
  return undefined;
}

/** A request handler serving `buildDir`; unknown paths without an extension get index.html. */
export function staticHandler(buildDir: string) {
  const root = resolve(buildDir);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file = await fileAt(root, path);
    if (!file && extname(path) === '') file = join(root, 'index.html');
    if (!file) {
      setCommonHeaders(res, contentSecurityPolicy());
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const ext = extname(file);
    const isHtml = ext === '.html';
    setCommonHeaders(res, contentSecurityPolicy(isHtml ? inlineScriptHashes(body.toString('utf8')) : []));
    res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
    res.setHeader(
      'Cache-Control',
      isHtml ? 'no-cache' : path.startsWith('/_app/immutable/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    );
    res.setHeader('Content-Length', body.length);
    res.writeHead(200);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
