/**
 * Browser tests against the real host serving the real build (run `vite build` first;
 * `npm run test:browser` does). Chromium: PLAYWRIGHT_CHROMIUM_PATH, then /usr/bin/chromium,
 * then Playwright's own download.
 */
import { defineConfig, devices } from '@playwright/test';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PORT = Number(process.env.E2E_PORT ?? 4173);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const executablePath =
  process.env.PLAYWRIGHT_CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  outputDir: join(ROOT, 'test-results'),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: 'retain-on-failure'
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--use-fake-device-for-media-stream',
            '--use-fake-ui-for-media-stream'
          ]
        }
      }
    }
  ],
  webServer: {
    command: 'node --import tsx src/host/main.ts',
    cwd: ROOT,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PORT: String(PORT),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-e2e-')),
      // Request logs would drown the test report; errors still reach stderr.
      PARLEY_QUIET: '1',
      // Every browser here signs up, publishes its profile, looks people up and reads and writes
      // group blobs and files from 127.0.0.1: lift those per-address budgets (120 profile writes
      // an hour ran out three quarters into a full run, and later specs' profiles silently never
      // reached the host; 30 lookups a minute would refuse "New chat" in specs running side by
      // side, and over ::1 all of them are one IPv6 site too; group blob writes are best effort, so
      // a spent budget would fail only later syncs).
      PARLEY_LIMITS: JSON.stringify(
        Object.fromEntries(
          ['registerPerIp', 'profileWritePerIp', 'discoveryPerIp', 'discoveryPerSite', 'groupBlobWritePerIp', 'groupBlobReadPerIp', 'blobReadPerIp'].map((k) => [k, { max: 1_000_000, windowMs: 3_600_000 }])
        )
      )
    }
  }
});
