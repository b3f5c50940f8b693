import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    sveltekit(),
    // Installable, offline-capable app shell (issue 3). The service worker precaches the SPA
    // fallback, every hashed /_app/immutable asset (incl. the vault worker and any wasm) and the
    // icons, so Parley opens with no network and shows history from IndexedDB. registerType
    // 'prompt': a new version waits until the user accepts the "Reload" toast.
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
        // The vault worker inlines libsodium's wasm; keep it well under this ceiling.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: 'index.html',
        // API, WebSocket and signalling paths are never answered with the app shell.
        navigateFallbackDenylist: [/^\/(api|ws|peerjs|healthz)(\/|$)/],
        cleanupOutdatedCaches: true
      }
    })
  ],
  worker: { format: 'es' },
  server: { fs: { allow: ['workers'] } },
  test: {
    include: ['tests/{arch,codec,crypto,engine,host,wire,pin}/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks'
  }
});
