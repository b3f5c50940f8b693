/**
 * Attachments end to end in real Chromium against the built app and the real host:
 *
 *   npm run bench:files [-- --json] [-- --runs=N] [-- --mb=N]
 *
 * Alice and Bob register through the UI and exchange one text. Each run, Alice attaches an
 * N MiB file (random bytes, so nothing compresses) and presses Send; Bob presses Save:
 *   upMBps    Send click -> the attach panel closes (seal in the vault worker + upload + queue)
 *   downMBps  Save click -> the download event (ranged download + digest + open + blob URL)
 * and, in Node on the same libsodium build, the raw secretstream push rate over the same bytes
 * (rawMBps) and sealAttachment's rate (sealMBps), alternating with the browser runs. Run 0 is a
 * warm-up. Memory: the resident set of the Chromium processes sampled every 100 ms during each
 * phase (process-rss.ts): the largest renderer (page + vault worker: JS heap, wasm memory, typed
 * arrays) and the sum over every Chromium process (Blob data lives in the browser process), as
 * peaks in MiB over the measured runs. Reports medians with min–max; --json prints one last line
 * {"mb":N,"upMBps":N,"downMBps":N,"rawMBps":N,"sealMBps":N,"mem":{...},"spread":{...}}.
 * Needs `vite build` first (build/ is served).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { initSodium } from '../../src/lib/crypto/sodium';
import { ATTACHMENT_CHUNK, sealAttachment } from '../../src/lib/crypto/attachment';
import { intArg, launchChromium, onboard as register, openChat, requireBuild, startHost } from './browser-rig';
import { median } from './harness';
import { sampleRss } from './process-rss';

const json = process.argv.includes('--json');
const RUNS = intArg('runs', 4);
const MB = intArg('mb', 20);
/** --sw=block: contexts without service workers, to measure the service worker's share. */
const SW_BLOCK = process.argv.includes('--sw=block');
const log = (s = '') => {
  if (!json) console.log(s);
};

const spread = (xs: number[]) => ({ median: +median(xs).toFixed(1), min: +Math.min(...xs).toFixed(1), max: +Math.max(...xs).toFixed(1) });

async function onboard(browser: Browser, base: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, serviceWorkers: SW_BLOCK ? 'block' : 'allow' });
  return register(await context.newPage(), base, name);
}

function randomFile(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Raw secretstream push over `file` in ATTACHMENT_CHUNK pieces, MB/s (Node, same libsodium). */
async function rawRate(file: Uint8Array): Promise<number> {
  const s = await initSodium();
  const key = s.crypto_secretstream_xchacha20poly1305_keygen();
  const t0 = performance.now();
  const { state } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
  for (let off = 0; off < file.length; off += ATTACHMENT_CHUNK) {
    const last = off + ATTACHMENT_CHUNK >= file.length;
    s.crypto_secretstream_xchacha20poly1305_push(state, file.subarray(off, off + ATTACHMENT_CHUNK), null, last ? 3 : 0);
  }
  return file.length / 2 ** 20 / ((performance.now() - t0) / 1000);
}

async function sealRate(file: Uint8Array): Promise<number> {
  await initSodium();
  const t0 = performance.now();
  sealAttachment(file);
  return file.length / 2 ** 20 / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  requireBuild();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-files-'));
  const work = mkdtempSync(join(tmpdir(), 'parley-bench-files-in-'));
  const host = await startHost(dataDir);
  const base = host.url.replace('127.0.0.1', 'localhost');
  const browser = await launchChromium();
  const up: number[] = [];
  const down: number[] = [];
  const raw: number[] = [];
  const seal: number[] = [];
  const mem = { upRendererMB: 0, upTotalMB: 0, downRendererMB: 0, downTotalMB: 0, idleRendererMB: 0 };
  try {
    const suffix = Date.now().toString(36).slice(-6);
    const [aliceName, bobName] = [`alice_${suffix}`, `bob_${suffix}`];
    const bob = await onboard(browser, base, bobName);
    const alice = await onboard(browser, base, aliceName);
    await openChat(alice, bobName);
    const box = alice.getByRole('textbox', { name: `Message ${bobName}` });
    await box.fill('files coming');
    await box.press('Enter');
    // P42: a stranger's first text is a message request (its own list); Bob accepts it.
    await bob.getByRole('link', { name: new RegExp(`^${aliceName}\\b`) }).click({ timeout: 30_000 });
    await bob.getByRole('region', { name: `Message request from ${aliceName}` }).getByRole('button', { name: 'Accept', exact: true }).click();
    log(`files of ${MB} MiB, ${RUNS} runs after a warm-up`);
    for (let run = 0; run <= RUNS; run++) {
      const bytes = MB * 2 ** 20;
      const file = randomFile(bytes, run + 1);
      const path = join(work, `file-${run}.bin`);
      writeFileSync(path, file);
      await alice.getByTestId('attach-input').setInputFiles(path);
      await alice.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).waitFor();
      const idle = sampleRss().stop();
      let rss = sampleRss();
      let t0 = performance.now();
      await alice.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).click();
      await alice.getByTestId('attach-panel').waitFor({ state: 'detached', timeout: 600_000 });
      const upMs = performance.now() - t0;
      const upMem = rss.stop();
      const bubble = bob.getByTestId('message').filter({ hasText: `file-${run}.bin` });
      await bubble.waitFor({ timeout: 60_000 });
      rss = sampleRss();
      t0 = performance.now();
      const [download] = await Promise.all([bob.waitForEvent('download', { timeout: 600_000 }), bubble.getByRole('button', { name: 'Save' }).click()]);
      const saved = (await download.path())!;
      const downMs = performance.now() - t0;
      const downMem = rss.stop();
      const got = readFileSync(saved);
      if (!got.equals(Buffer.from(file.buffer, file.byteOffset, file.length))) throw new Error(`run ${run}: the downloaded file differs`);
      const r = await rawRate(file);
      const s = await sealRate(file);
      const row = { up: bytes / 2 ** 20 / (upMs / 1000), down: bytes / 2 ** 20 / (downMs / 1000), raw: r, seal: s };
      log(`run ${run}${run === 0 ? ' (warm-up)' : ''}: up ${row.up.toFixed(1)} MB/s, down ${row.down.toFixed(1)} MB/s, raw secretstream ${r.toFixed(0)} MB/s, sealAttachment ${s.toFixed(0)} MB/s (Node); RSS peak MiB: idle renderer ${idle.rendererPeakMB}, up renderer ${upMem.rendererPeakMB} / all ${upMem.totalPeakMB}, down renderer ${downMem.rendererPeakMB} / all ${downMem.totalPeakMB}`);
      if (run > 0) {
        mem.idleRendererMB = Math.max(mem.idleRendererMB, idle.rendererPeakMB);
        mem.upRendererMB = Math.max(mem.upRendererMB, upMem.rendererPeakMB);
        mem.upTotalMB = Math.max(mem.upTotalMB, upMem.totalPeakMB);
        mem.downRendererMB = Math.max(mem.downRendererMB, downMem.rendererPeakMB);
        mem.downTotalMB = Math.max(mem.downTotalMB, downMem.totalPeakMB);
        up.push(row.up);
        down.push(row.down);
        raw.push(r);
        seal.push(s);
      }
      rmSync(path);
    }
  } finally {
    await browser.close();
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
  const result = { mb: MB, upMBps: +median(up).toFixed(1), downMBps: +median(down).toFixed(1), rawMBps: +median(raw).toFixed(1), sealMBps: +median(seal).toFixed(1), mem, spread: { up: spread(up), down: spread(down), raw: spread(raw), seal: spread(seal) } };
  log(`median: up ${result.upMBps} MB/s (${result.spread.up.min}–${result.spread.up.max}), down ${result.downMBps} MB/s (${result.spread.down.min}–${result.spread.down.max}), raw ${result.rawMBps} MB/s, seal ${result.sealMBps} MB/s`);
  if (json) console.log(JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
