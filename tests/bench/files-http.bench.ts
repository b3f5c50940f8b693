/**
 * The HTTP share of attachment throughput, apart from the crypto (README "Attachments (as
 * built)", *Measured*):
 *
 *   node --import tsx tests/bench/files-http.bench.ts [--mb=N] [--runs=N] [--build=DIR]
 *
 * The real host in this process (its real SQLite + blob files, every part written and fsynced)
 * serving build DIR (default build/); one account registered over HTTP. Then the same N MiB of
 * random bytes go up as 1 MiB Blob parts (PUT …?offset=N, as blob-stream.ts sends them) and
 * come down as 1 MiB ranged GETs, timed per arm, arms alternated within each run:
 *   node         Node's fetch, no browser: the host + loopback ceiling
 *   sw           a Chromium page controlled by the build's service worker (with the build's routes)
 *   nosw         a Chromium page with service workers blocked
 * each with 1 part at a time (seq) and, for downloads, PARALLEL at once (par; uploads stay one at
 * a time in both, as the host appends a blob's parts only at the offset it has reached).
 * No sealing, hashing or Blob assembly: what is left to the crypto is the difference to bench:files.
 * Prints medians (min–max) in MB/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { initSodium } from '../../src/lib/crypto/sodium';
import { createHost } from '../../src/host/server';
import { intArg, launchChromium, ROOT } from './browser-rig';
import { registerOverHttp } from './http-account';
import { median } from './harness';

const MB = intArg('mb', 50);
const RUNS = intArg('runs', 3);
const BUILD = process.argv.find((a) => a.startsWith('--build='))?.slice(8) ?? join(ROOT, 'build');

/** Up then down N MiB in 1 MiB parts with `inFlight` at once; [upMBps, downMBps]. Runs in Node or in the page. */
async function transfer(a: { base: string; bearer: string; mb: number; inFlight: number }): Promise<[number, number]> {
  const part = 1024 * 1024;
  const size = a.mb * part;
  const auth = { Authorization: `Bearer ${a.bearer}` };
  const bytes = new Uint8Array(part);
  for (let i = 0; i < part; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const created = await fetch(a.base + '/api/v1/blobs', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ size }) });
  const { id } = (await created.json()) as { id: string };
  const pump = async (n: number, one: (i: number) => Promise<void>, width = a.inFlight) => {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < n) await one(next++);
    }));
  };
  let t0 = performance.now();
  await pump(a.mb, async (i) => {
    const res = await fetch(`${a.base}/api/v1/blobs/${id}?offset=${i * part}`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/octet-stream' }, body: new Blob([bytes]) });
    if (!res.ok) throw new Error(`PUT ${i}: ${res.status}`);
    await res.arrayBuffer();
  }, 1);
  const up = a.mb / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  await pump(a.mb, async (i) => {
    const res = await fetch(`${a.base}/api/v1/blobs/${id}`, { headers: { ...auth, Range: `bytes=${i * part}-${(i + 1) * part - 1}` }, cache: 'no-store' });
    if (res.status !== 206 || (await res.arrayBuffer()).byteLength !== part) throw new Error(`GET ${i}: ${res.status}`);
  });
  return [up, a.mb / ((performance.now() - t0) / 1000)];
}

/** Ranged GETs in flight at once in the `par` arms. */
const PARALLEL = 3;

async function main(): Promise<void> {
  await initSodium();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-http-'));
  const host = await createHost({ port: 0, dataDir, staticDir: BUILD });
  const base = host.url.replace('127.0.0.1', 'localhost');
  const bearer = await registerOverHttp(host.url, `probe_${Date.now().toString(36).slice(-6)}`);
  const browser = await launchChromium();
  const rows = new Map<string, [number, number][]>();
  try {
    const pages: Record<string, Page> = {};
    for (const arm of ['sw', 'nosw'] as const) {
      const context = await browser.newContext({ serviceWorkers: arm === 'sw' ? 'allow' : 'block' });
      // tsx names inner functions through a `__name` helper the page does not have.
      await context.addInitScript('globalThis.__name = (f) => f');
      const page = await context.newPage();
      await page.goto(base + '/');
      if (arm === 'sw') {
        await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state);
        await page.reload();
        await page.waitForFunction(() => !!navigator.serviceWorker.controller);
      }
      pages[arm] = page;
    }
    for (let run = 0; run <= RUNS; run++) {
      for (const inFlight of [1, PARALLEL]) {
        for (const arm of ['node', 'sw', 'nosw'] as const) {
          const args = { base, bearer, mb: MB, inFlight };
          const r = arm === 'node' ? await transfer(args) : await pages[arm]!.evaluate(transfer, args);
          const key = `${arm} ${inFlight === 1 ? 'seq' : 'par'}`;
          console.log(`run ${run}${run === 0 ? ' (warm-up)' : ''} ${key}: up ${r[0].toFixed(1)} down ${r[1].toFixed(1)} MB/s`);
          if (run > 0) rows.set(key, [...(rows.get(key) ?? []), r]);
        }
      }
    }
  } finally {
    await browser.close();
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  console.log(`\n${MB} MiB, ${RUNS} runs, medians (min–max) MB/s`);
  for (const [key, r] of rows) console.log(`${key.padEnd(9)} up ${fmt(r.map((x) => x[0]))}  down ${fmt(r.map((x) => x[1]))}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
