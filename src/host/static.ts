/**
 * Static host for the built SPA: serves build/ with correct MIME types, SPA fallback to
 * index.html, cache headers, and the browser-facing security headers (P30):
 * - a strict CSP header, a second policy next to SvelteKit's <meta> one, so it allows the same
 *   inline bootstrap script (its sha256 is computed from each HTML file at serve time);
 *   connect-src names exact origins: this app's own, and its own WebSocket origin (no ws:/wss:
 *   wildcards), from APP_ORIGIN or else from the request's Host;
 * - form-action, frame-ancestors and base-uri 'none', and a Permissions-Policy that lets only
 *   this origin use camera, microphone and screen capture and denies the other powerful features.
 * Bodies go out compressed when the client accepts it (compress.ts). Knows nothing of accounts,
 * mailboxes or crypto.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { realmConfigFromEnv, type RealmConfig } from '../lib/config/realms';
import { sendBody } from './compress';

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
  // Voice notes play from a blob: URL of the decrypted file (README "Voice notes").
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
];

/**
 * Calls need camera, microphone and (screen sharing) display capture, for this origin only, and
 * the app lock's passkeys WebAuthn (P46); the rest of the powerful features are off for the page and anything it could embed. Only features
 * Chromium knows are listed: an unknown one is a console warning on every page load.
 */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=(self)',
  'display-capture=(self)',
  'autoplay=(self)',
  'fullscreen=(self)',
  'picture-in-picture=(self)',
  'clipboard-write=(self)',
  'accelerometer=()',
  'browsing-topics=()',
  'clipboard-read=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'idle-detection=()',
  'magnetometer=()',
  'midi=()',
  'payment=()',
  // Passkeys unlock the app lock (SECURITY.md P46), on this origin only.
  'publickey-credentials-get=(self)',
  'screen-wake-lock=()',
  'serial=()',
  'usb=()',
  'xr-spatial-tracking=()'
].join(', ');

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

/** The policy; `connectSources` are the exact origins beyond 'self' the app may connect to. */
export function contentSecurityPolicy(scriptHashes: string[] = [], connectSources: string[] = []): string {
  return [
    ...BASE_CSP,
    ["connect-src 'self'", ...connectSources].join(' '),
    ["script-src 'self' 'wasm-unsafe-eval'", ...scriptHashes].join(' ')
  ].join('; ');
}

const HOST_HEADER = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** `http(s)://host` -> `ws(s)://host`, or undefined for anything that is not a bare http(s) origin. */
export function socketOrigin(origin: string): string | undefined {
  const m = /^(https?):\/\/(.+)$/.exec(origin.trim());
  if (!m || !HOST_HEADER.test(m[2]!)) return undefined;
  return `${m[1] === 'https' ? 'wss' : 'ws'}://${m[2]!.toLowerCase()}`;
}

/**
 * The app's own WebSocket origins (host API socket and call signalling), exactly. With
 * APP_ORIGIN set they are derived from it; otherwise from this request's Host header (validated:
 * it lands in a header) and scheme (TLS, or X-Forwarded-Proto from a TLS-terminating proxy).
 */
export function socketSources(req: IncomingMessage, appOrigins: readonly string[]): string[] {
  if (appOrigins.length > 0) return [...new Set(appOrigins.flatMap((o) => socketOrigin(o) ?? []))];
  const host = req.headers.host;
  if (!host || !HOST_HEADER.test(host)) return [];
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase();
  const tls = forwarded ? forwarded === 'https' : (req.socket as { encrypted?: boolean }).encrypted === true;
  return [`${tls ? 'wss' : 'ws'}://${host.toLowerCase()}`];
}

/** APP_ORIGIN: comma-separated origins the app is served from (README "Calls and TURN"). */
function envAppOrigins(): string[] {
  return (process.env.APP_ORIGIN ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function setCommonHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
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

/**
 * A request handler serving `buildDir`; unknown paths without an extension get index.html.
 * `appOrigins` (default: APP_ORIGIN) fix the socket origins named in connect-src; `realmSources`
 * (default: from VITE_PARLEY_REALMS) add the PIN realms on other origins (P38).
 */
export function staticHandler(
  buildDir: string,
  appOrigins: readonly string[] = envAppOrigins(),
  realmSources: readonly string[] = realmConnectSources()
) {
  const root = resolve(buildDir);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file = await fileAt(root, path);
    if (!file && extname(path) === '') file = join(root, 'index.html');
    const sockets = [...socketSources(req, appOrigins), ...realmSources];
    if (!file) {
      setCommonHeaders(res, contentSecurityPolicy([], sockets));
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
    setCommonHeaders(res, contentSecurityPolicy(isHtml ? inlineScriptHashes(body.toString('utf8')) : [], sockets));
    const type = MIME[ext] ?? 'application/octet-stream';
    res.setHeader('Content-Type', type);
    res.setHeader(
      'Cache-Control',
      isHtml ? 'no-cache' : path.startsWith('/_app/immutable/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    );
    // brotli or gzip when accepted and worth it, with ETag and Content-Length per variant (compress.ts).
    await sendBody(req, res, body, type);
  };
}
