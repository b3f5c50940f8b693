import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { sealBuild, type BuildFiles } from './src/lib/client/pwa/build-seal.js';
import { extractSodiumWasm } from './src/lib/client/pwa/sodium-wasm.js';
import { withPushHandlers } from './src/lib/client/pwa/sw-push.js';
import { withNetworkRoutes } from './src/lib/client/pwa/sw-routes.js';

/** adapter-static's output (svelte.config.js `pages`). */
const BUILD_DIR = 'build';

async function readTree(root: string): Promise<BuildFiles> {
  const files: BuildFiles = new Map();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(root, full).split(sep).join('/'), new Uint8Array(await readFile(full)));
  }
  return files;
}

/**
 * P30, P39: once the adapter has written build/ (closeBundle of the server build, after Kit's own),
 * pin every file by its SHA-256 and name the service worker by the build hash
 * (src/lib/client/pwa/build-seal.ts).
 */
function sealBuildPlugin(): Plugin {
  let root = '';
  let ssr = false;
  return {
    name: 'parley:seal-build',
    apply: 'build',
    configResolved(config) {
      root = config.root;
      ssr = !!config.build.ssr;
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      async handler() {
        if (!ssr) return;
        const dir = join(root, BUILD_DIR);
        const before = await readTree(dir);
        // Web Push handlers and the static /api routes go into the worker before sealing, so the
        // build hash covers them.
        const fresh = before.get('sw.js');
        if (fresh) before.set('sw.js', new TextEncoder().encode(withNetworkRoutes(withPushHandlers(new TextDecoder().decode(fresh)))));
        const { files, hash } = await sealBuild(before);
        for (const path of before.keys()) if (!files.has(path)) await rm(join(dir, path));
        for (const [path, bytes] of files) {
          if (before.get(path) === bytes) continue;
          await mkdir(dirname(join(dir, path)), { recursive: true });
          await writeFile(join(dir, path), bytes);
        }
        console.log(`\nParley build ${hash} (sealed: service worker /sw-${hash.slice(0, 8)}….js)`);
      }
    }
  };
}

/** libsodium-sumo's ES module, whose wasm is a base64 string in its code (sodium-wasm.ts). */
const SODIUM_MODULE = /[\\/]libsodium-sumo[\\/]dist[\\/]modules-sumo-esm[\\/]libsodium-sumo\.mjs$/;

/**
 * First load (DESIGN.md §8): ships libsodium's wasm as a `.wasm` file instead of base64 inside the
 * vault worker's JavaScript (src/lib/client/pwa/sodium-wasm.ts). Builds only: the dev server and
 * the Node tests keep the module as published.
 */
function sodiumWasmPlugin(): Plugin {
  return {
    name: 'parley:sodium-wasm',
    apply: 'build',
    transform(code, id, options) {
      if (options?.ssr || !SODIUM_MODULE.test(id)) return null;
      const out = extractSodiumWasm(code, (wasm) => `import.meta.ROLLUP_FILE_URL_${this.emitFile({ type: 'asset', name: 'libsodium-sumo.wasm', source: wasm })}`);
      return { code: out.code, map: null };
    }
  };
}

export default defineConfig({
  plugins: [
    sveltekit(),
    // Installable, offline-capable app shell (issue 3). The service worker precaches the SPA
    // fallback, every hashed /_app/immutable asset (incl. the vault worker and any wasm) and the
    // icons, so Parley opens with no network and shows history from IndexedDB. registerType
    // 'prompt': the worker never skips waiting by itself. The page registers it (under its sealed
    // name, see sealBuildPlugin) and a new version runs only once the user accepts it (P39).
    SvelteKitPWA({
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        id: '/',
        name: 'Parley',
        short_name: 'Parley',
        description: 'Private messages, addressed by username. End-to-end encrypted, in your browser.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: '#1f6feb',
        background_color: '#f4f6fa',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' }
        ]
      },
      kit: { adapterFallback: 'index.html', spa: true },
      workbox: {
        globPatterns: ['client/**/*.{js,css,ico,png,svg,webp,wasm,webmanifest}'],
        // The largest precached file is the vault worker's chunk; keep it well under this ceiling.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: 'index.html',
        // API, WebSocket and signalling paths are never answered with the app shell.
        navigateFallbackDenylist: [/^\/(api|ws|peerjs|healthz)(\/|$)/],
        cleanupOutdatedCaches: true
      }
    }),
    sodiumWasmPlugin(),
    sealBuildPlugin()
  ],
  worker: { format: 'es', plugins: () => [sodiumWasmPlugin()] },
  server: { fs: { allow: ['workers'] } },
  test: {
    include: ['tests/{arch,codec,crypto,engine,host,wire,pin,ui}/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks'
  }
});
