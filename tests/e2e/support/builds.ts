/**
 * Builds and a host of their own for the code-update tests (SECURITY.md P30, P39): the real build
 * ("A") read from build/, a second build ("B") made from it the way a host shipping new code
 * would — a visible change in one page's code, a service worker that calls skipWaiting and claims
 * every page — sealed with the same function the build uses (src/lib/client/pwa/build-seal.ts),
 * and a real host (src/host/server.ts) on a loopback port serving whichever set of files the
 * test puts in its directory. The host reads files per request, so swapping them is a deploy.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sealBuild, type BuildFiles } from '../../../src/lib/client/pwa/build-seal';
import { createHost, type RunningHost } from '../../../src/host/server';

export const BUILD_DIR = fileURLToPath(new URL('../../../build/', import.meta.url));

/** What build B's page shows where build A's shows "About this version". */
export const B_MARK = 'About this version (B)';

export async function readTree(root: string): Promise<BuildFiles> {
  const files: BuildFiles = new Map();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(root, full).split(sep).join('/'), new Uint8Array(await readFile(full)));
  }
  return files;
}

export interface Build {
  files: BuildFiles;
  hash: string;
}

export async function buildA(): Promise<Build> {
  const files = await readTree(BUILD_DIR);
  const info = JSON.parse(new TextDecoder().decode(files.get('parley-build.json'))) as { build: string };
  return { files, hash: info.build };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

/** Replaces `from` by `to` in the one file that contains `from`. */
export function patchOne(files: BuildFiles, from: string, to: string): string {
  const hits = [...files].filter(([p, b]) => p.endsWith('.js') && text(b).includes(from));
  if (hits.length !== 1) throw new Error(`"${from}" is in ${hits.length} files, expected 1`);
  const [path, b] = hits[0]!;
  files.set(path, bytes(text(b).replace(from, to)));
  return path;
}

export function swPath(files: BuildFiles): string {
  const sw = [...files.keys()].find((p) => /^sw-[0-9a-f]{64}\.js$/.test(p));
  if (!sw) throw new Error('no sealed service worker in the build');
  return sw;
}

/**
 * Gives every changed file under _app/immutable a new name, as a real build's content-hashed names
 * would change, and rewrites every reference to it (which changes the referring files, and so
 * on up to index.html, whose inline bootstrap's CSP hash is then updated too).
 */
function renameChanged(files: BuildFiles, changed: string[]): void {
  const inlineBefore = inlineScript(text(files.get('index.html')!));
  let pending = changed;
  while (pending.length > 0) {
    const renames = pending.filter((p) => p.startsWith('_app/immutable/')).map((p) => [p, p.replace(/\.js$/, 'B.js')] as const);
    for (const [from, to] of renames) {
      files.set(to, files.get(from)!);
      files.delete(from);
    }
    const next: string[] = [];
    for (const [path, b] of files) {
      if (!/\.(js|html)$/.test(path)) continue;
      let t = text(b);
      for (const [from, to] of renames) t = t.replaceAll(from.split('/').pop()!, to.split('/').pop()!);
      if (t !== text(b)) {
        files.set(path, bytes(t));
        next.push(path);
      }
    }
    // The worker's precache list and index.html change too, but nothing refers to them by name.
    pending = next.filter((p) => p.startsWith('_app/immutable/'));
  }
  const html = text(files.get('index.html')!);
  const inlineAfter = inlineScript(html);
  files.set('index.html', bytes(html.replace(sha256(inlineBefore), sha256(inlineAfter))));
}

function inlineScript(html: string): string {
  const m = /<script>([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('index.html has no inline script');
  return m[1]!;
}

function sha256(s: string): string {
  return `sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}`;
}

/** Build B: A's code with a visible change, and a service worker that takes over at once. */
export async function buildB(a: Build): Promise<Build> {
  const files = new Map(a.files);
  renameChanged(files, [patchOne(files, 'About this version', B_MARK)]);
  const sw = swPath(files);
  const takeOver = "self.addEventListener('install',()=>self.skipWaiting());self.addEventListener('activate',e=>e.waitUntil(self.clients.claim()));\n";
  files.set(sw, bytes(takeOver + text(files.get(sw)!)));
  return sealBuild(files);
}

/** The marker a page gives its vault worker (as its name) to make that worker lack Web Locks. */
export const NO_LOCKS_WORKER = 'parley-test-no-web-locks';

/**
 * A's build whose vault worker, when started with the name NO_LOCKS_WORKER, runs without Web
 * Locks (Chromium cannot switch the API off, and intercepting the worker's script breaks its
 * WebSocket). Other pages' workers are untouched.
 */
export async function buildWithoutLocksOnRequest(a: Build): Promise<Build> {
  const files = new Map(a.files);
  const worker = [...files.keys()].find((p) => /^_app\/immutable\/workers\/vault\.worker-.*\.js$/.test(p));
  if (!worker) throw new Error('no vault worker in the build');
  const prefix = `if (self.name === ${JSON.stringify(NO_LOCKS_WORKER)}) delete WorkerNavigator.prototype.locks;\n`;
  files.set(worker, bytes(prefix + text(files.get(worker)!)));
  return sealBuild(files);
}

export interface OwnHost {
  url: string;
  /** Replaces every served file with `files` (a deploy). */
  serve(files: BuildFiles): Promise<void>;
  close(): Promise<void>;
}

export async function ownHost(): Promise<OwnHost> {
  const root = mkdtempSync(join(tmpdir(), 'parley-served-'));
  const www = join(root, 'www');
  await mkdir(www);
  const host: RunningHost = await createHost({ port: 0, dataDir: join(root, 'data'), staticDir: www });
  return {
    url: host.url,
    async serve(files) {
      await rm(www, { recursive: true, force: true });
      for (const [path, b] of files) {
        await mkdir(dirname(join(www, path)), { recursive: true });
        await writeFile(join(www, path), b);
      }
    },
    async close() {
      await host.close();
      await rm(root, { recursive: true, force: true });
    }
  };
}
