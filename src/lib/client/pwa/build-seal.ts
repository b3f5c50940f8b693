/**
 * The build's identity and its integrity pins (SECURITY.md P30, P39). Runs at BUILD time (the
 * `parley:seal-build` plugin in vite.config.ts, after the adapter has written build/), never in
 * the browser; pure over a map of file bytes so the browser tests can seal a second build the
 * same way. The page reads only the names exported for it (BUILD_META, BUILD_FILE, swUrl).
 *
 * The BUILD HASH is SHA-256 over the lines `<sha256 base64> <path>\n`, sorted by path, of every
 * file of the build except three that are derived from the others: index.html (it carries the
 * hash), parley-build.json (it names the hash) and the service worker, which enters as the line
 * for `sw.js` over its text with the precache list emptied (its logic, not its pins). Anyone can
 * recompute it from the served files (README "Code updates and what stays trust-on-first-use").
 *
 * Sealing then:
 * - puts the hash into index.html (`<meta name="parley-build">`), where the running page reads it;
 * - adds `integrity` (SRI) to index.html's modulepreload and stylesheet links, so the entry
 *   scripts and everything they statically import run only if they match;
 * - adds `integrity` to every entry of the service worker's precache list, so Workbox installs a
 *   version only if every file it caches matches (index.html included, with its new bytes);
 * - names the service worker by the hash, `sw-<hash>.js`: a host that deploys another build
 *   replaces no file the browser checks for updates, so the installed version keeps running
 *   until the user accepts the new one (sw-updates.ts registers it then);
 * - writes parley-build.json: `{ build, sw }`, what the page polls to learn a new version exists;
 * - leaves a copy of the worker at the old fixed name `sw.js`, for installs made before workers
 *   were named by hash: they update once through it (with their own prompt) and then register
 *   the hash-named one. Pages of sealed builds never register it.
 * Resealing a sealed build gives the same result as sealing it fresh.
 */

export const BUILD_META = 'parley-build';
export const BUILD_FILE = 'parley-build.json';
const HASH = /^[0-9a-f]{64}$/;
const SW_FILE = /^sw-[0-9a-f]{64}\.js$/;
/** The worker's fixed name before builds were sealed; kept as a copy (see the module header). */
const LEGACY_SW = 'sw.js';
/** One precache entry as Workbox writes it, with or without the integrity a previous seal added. */
const ENTRY = /\{url:"([^"]+)",revision:(null|"[0-9a-f]*")(?:,integrity:"[^"]*")?\}/g;
const PRECACHE_LIST = /precacheAndRoute\(\[([^\]]*)\]/;
const LINK = /<link href="([^"]+)" rel="(modulepreload|stylesheet)"(?: integrity="[^"]*")?>/g;
const META = /\n?[ \t]*<meta name="parley-build" content="[^"]*" \/>/g;

export type BuildFiles = Map<string, Uint8Array>;

export function isBuildHash(v: unknown): v is string {
  return typeof v === 'string' && HASH.test(v);
}

/** Where the service worker of build `hash` lives. */
export function swUrl(hash: string): string {
  return `/sw-${hash}.js`;
}

export class BuildSealError extends Error {
  override name = 'BuildSealError';
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sri(bytes: Uint8Array): Promise<string> {
  return `sha256-${base64(await sha256(bytes))}`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function need(files: BuildFiles, path: string, why: string): Uint8Array {
  const b = files.get(path);
  if (!b) throw new BuildSealError(`${why} names ${path}, which is not in the build`);
  return b;
}

/** The build hash over `files` (see the module header); `swLogic` is the SW text, list emptied. */
export async function buildHash(files: BuildFiles, swLogic: string, swPath: string): Promise<string> {
  const lines: [string, string][] = [['sw.js', `${base64(await sha256(utf8(swLogic)))} sw.js\n`]];
  for (const [path, bytes] of files) {
    if (path === 'index.html' || path === BUILD_FILE || path === swPath || path === LEGACY_SW) continue;
    lines.push([path, `${base64(await sha256(bytes))} ${path}\n`]);
  }
  lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hex(await sha256(utf8(lines.map(([, l]) => l).join(''))));
}

/** Seals a build (paths relative to its root, '/'-separated); returns the new file set and hash. */
export async function sealBuild(input: BuildFiles): Promise<{ files: BuildFiles; hash: string }> {
  const files = new Map(input);
  // Fresh from Workbox: sw.js. Sealed before: sw-<hash>.js, and sw.js is only its copy.
  const sealed = [...files.keys()].filter((p) => SW_FILE.test(p));
  if (sealed.length > 1) throw new BuildSealError(`expected one service worker at the build root, found ${sealed.length}`);
  if (sealed.length === 1) files.delete(LEGACY_SW);
  const swPath = sealed[0] ?? LEGACY_SW;
  if (!files.has(swPath)) throw new BuildSealError('the build has no service worker');
  const sw = text(files.get(swPath)!);
  const list = PRECACHE_LIST.exec(sw);
  if (!list) throw new BuildSealError(`${swPath} has no precacheAndRoute([...]) list`);
  const swLogic = sw.slice(0, list.index) + 'precacheAndRoute([]' + sw.slice(list.index + list[0].length);
  const hash = await buildHash(files, swLogic, swPath);

  // index.html: the hash, and SRI on what it loads.
  let html = text(need(files, 'index.html', 'the build')).replace(META, '');
  const charset = '<meta charset="utf-8" />';
  if (!html.includes(charset)) throw new BuildSealError(`index.html has no ${charset}`);
  html = html.replace(charset, `${charset}\n    <meta name="${BUILD_META}" content="${hash}" />`);
  const links: [string, string][] = [];
  for (const m of html.matchAll(LINK)) links.push([m[0], `<link href="${m[1]}" rel="${m[2]}" integrity="${await sri(need(files, m[1]!.replace(/^\//, ''), 'index.html'))}">`]);
  if (!links.some(([l]) => l.includes('modulepreload'))) throw new BuildSealError('index.html preloads no module');
  for (const [from, to] of links) html = html.replace(from, to);
  const index = utf8(html);
  files.set('index.html', index);

  // The service worker: every precached file pinned by its SHA-256.
  let entries = 0;
  const pins = new Map<string, string>();
  for (const m of list[1]!.matchAll(ENTRY)) {
    const url = m[1]!;
    const bytes = url === 'index.html' ? index : need(files, url, swPath);
    const revision = url === 'index.html' ? `"${hex(await sha256(index)).slice(0, 32)}"` : m[2]!;
    pins.set(m[0], `{url:"${url}",revision:${revision},integrity:"${await sri(bytes)}"}`);
    entries++;
  }
  if (entries === 0 || list[1]!.replace(ENTRY, '').replace(/,/g, '') !== '') {
    throw new BuildSealError(`${swPath}: the precache list is not in the form this seal understands`);
  }
  const pinned = list[1]!.replace(ENTRY, (e) => pins.get(e)!);
  const worker = utf8(sw.slice(0, list.index) + `precacheAndRoute([${pinned}]` + sw.slice(list.index + list[0].length));
  files.delete(swPath);
  files.set(swUrl(hash).slice(1), worker);
  files.set(LEGACY_SW, worker);
  files.set(BUILD_FILE, utf8(JSON.stringify({ build: hash, sw: swUrl(hash) })));
  return { files, hash };
}
