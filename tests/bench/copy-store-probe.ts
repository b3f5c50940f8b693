/**
 * Where a file copy could live in Chromium (README "Attachments", At rest in the browser): a
 * dedicated worker writes 100 MiB as 1 MiB chunks to IndexedDB (one transaction per chunk, 4 in
 * flight, as storage/file-repo.ts CopyWriter) or to the Origin Private File System through a sync
 * access handle, each run in a fresh browser, arms alternated, in a persistent profile (as an
 * installed app) and in a context without one (as the tests and benchmarks run).
 * `node --import tsx tests/bench/copy-store-probe.ts [runs]` prints one JSON line per profile kind.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from '@playwright/test';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const executablePath = process.env.PLAYWRIGHT_CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const runs = Number(process.argv[2] ?? 3);

/** The worker: writes N chunks with the arm asked for, answers its milliseconds. */
const WORKER = `
self.onmessage = async ({ data: arm }) => {
  const N = 100, SZ = 1 << 20;
  const chunk = () => { const b = new Uint8Array(SZ); crypto.getRandomValues(b.subarray(0, 65536)); return b; };
  const t = performance.now();
  if (arm === 'idb') {
    const db = await new Promise((ok, no) => { const q = indexedDB.open('probe', 1); q.onupgradeneeded = () => q.result.createObjectStore('s'); q.onsuccess = () => ok(q.result); q.onerror = no; });
    const pending = [];
    for (let i = 0; i < N; i++) {
      const b = chunk();
      pending.push(new Promise((ok, no) => { const tx = db.transaction('s', 'readwrite'); tx.objectStore('s').put(b, i); tx.oncomplete = ok; tx.onerror = no; }));
      if (pending.length >= 4) await pending.shift();
    }
    await Promise.all(pending);
  } else {
    const root = await navigator.storage.getDirectory();
    const h = await (await root.getFileHandle('probe', { create: true })).createSyncAccessHandle();
    for (let i = 0; i < N; i++) h.write(chunk(), { at: i * SZ });
    h.flush();
    h.close();
  }
  postMessage(performance.now() - t);
};`;
const PAGE = `<!doctype html><script>window.probe = (arm) => new Promise((ok) => { const w = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(WORKER)}], { type: 'text/javascript' }))); w.onmessage = (e) => ok(e.data); w.postMessage(arm); });</script>`;

const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE)).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

async function once(persistent: boolean, arm: 'idb' | 'opfs'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-copy-probe-'));
  const browser = persistent ? undefined : await chromium.launch({ executablePath, args: ARGS });
  const context: BrowserContext = persistent ? await chromium.launchPersistentContext(dir, { executablePath, args: ARGS }) : await browser!.newContext();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url);
    return await page.evaluate((a) => (window as unknown as { probe: (a: string) => Promise<number> }).probe(a), arm);
  } finally {
    await context.close();
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const spread = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { medianMs: Math.round(s[Math.floor(s.length / 2)]!), minMs: Math.round(s[0]!), maxMs: Math.round(s.at(-1)!) };
};
for (const persistent of [true, false]) {
  const got: Record<'idb' | 'opfs', number[]> = { idb: [], opfs: [] };
  for (let i = 0; i < runs; i++) for (const arm of i % 2 ? (['opfs', 'idb'] as const) : (['idb', 'opfs'] as const)) got[arm].push(await once(persistent, arm));
  console.log(JSON.stringify({ profile: persistent ? 'persistent' : 'none', mib: 100, runs, indexedDb: spread(got.idb), opfs: spread(got.opfs) }));
}
server.close();
