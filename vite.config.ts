import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  worker: { format: 'es' },
  server: { fs: { allow: ['workers'] } },
  test: {
    include: ['tests/{crypto,engine,host,wire,pin}/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks'
  }
});
