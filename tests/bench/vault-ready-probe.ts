/**
 * First load of the vault (DESIGN.md §8; README "Long conversations and first load"): a fresh
 * browser context (no cache, no service worker) opens /self-test, and the probe takes the time
 * from navigation start to "Vault ready" (the worker started, libsodium's wasm fetched or decoded
 * and instantiated, sodium_init done), plus the bytes the browser received for the vault worker's
 * entry and wasm (compressed, as the host sent them). The service worker installs meanwhile, as
 * on any first visit. With `--base=<tree>` the build of another checkout
 * (its own build/, its own host) runs too, the two alternating round by round.
 *
 *   npx vite build && node --import tsx tests/bench/vault-ready-probe.ts [--rounds=10] [--base=/tmp/base]
 * Prints per build the median and min–max of the rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { ROOT, intArg, launchChromium, requireBuild, startHost } from './browser-rig';

interface Run {
  readyMs: number;
  workerBytes: number;
}

async function once(browser: Browser, url: string): Promise<Run> {
  const context = await browser.newContext();
  // The bytes on the wire: the host's Content-Length of the (compressed) worker entry and wasm,
  // once each (the service worker's precache fetches them again, and the worker's lazy chunks,
  // the PIN strength dictionaries, are not part of starting it).
  const sizes = new Map<string, number>();
  context.on('response', (res) => {
    const url = res.url();
    if (/\/_app\/immutable\/workers\/(vault\.worker-[^/]+\.js|assets\/[^/]+\.wasm)$/.test(url) && !sizes.has(url)) sizes.set(url, Number(res.headers()['content-length'] ?? 0));
  });
  const page = await context.newPage();
  // No named functions in here: tsx would wrap them in a helper the page does not have.
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (!document.body?.innerText.includes('Vault ready')) return;
      (globalThis as { __readyAt?: number }).__readyAt = performance.now();
      obs.disconnect();
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(url + '/self-test');
  await page.getByText('Vault ready').waitFor({ timeout: 30_000 });
  const readyMs = await page.evaluate(() => (globalThis as { __readyAt?: number }).__readyAt ?? NaN);
  await context.close();
  return { readyMs, workerBytes: [...sizes.values()].reduce((a, b) => a + b, 0) };
}

const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]!.toFixed(1)} (${s[0]!.toFixed(1)}–${s[s.length - 1]!.toFixed(1)})`;
};

requireBuild();
const rounds = intArg('rounds', 10);
const baseArg = process.argv.find((a) => a.startsWith('--base='))?.slice(7);
const trees: [string, string][] = [['this build', ROOT], ...(baseArg ? ([['base', baseArg]] as [string, string][]) : [])];
const dirs: string[] = [];
const hosts = [];
for (const [, root] of trees) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ready-'));
  dirs.push(dir);
  hosts.push(await startHost(dir, root));
}
const browser = await launchChromium();
const runs: Run[][] = trees.map(() => []);
try {
  for (let i = 0; i < hosts.length; i++) await once(browser, hosts[i]!.url); // warm the hosts' compression caches
  for (let r = 0; r < rounds; r++) for (let i = 0; i < hosts.length; i++) runs[i]!.push(await once(browser, hosts[i]!.url));
} finally {
  await browser.close();
  for (const h of hosts) await h.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
for (let i = 0; i < trees.length; i++) {
  const rs = runs[i]!;
  console.log(`${trees[i]![0]}: vault ready ${stats(rs.map((x) => x.readyMs))} ms after navigation; worker files ${stats(rs.map((x) => x.workerBytes / 1024))} KiB received (${rounds} rounds, alternating)`);
}
