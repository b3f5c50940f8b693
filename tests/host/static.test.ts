/**
 * The host serves the built PWA (P30): MIME types incl. .wasm and .webmanifest, SPA fallback to
 * index.html, no-cache HTML and immutable hashed assets, a strict CSP header, and /healthz;
 * API paths never fall back to the app shell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startHost, tempDir } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

function buildDir(): string {
  const dir = tempDir('parley-build-');
  mkdirSync(join(dir, '_app/immutable'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script>boot()</script><p>Parley</p>');
  writeFileSync(join(dir, '_app/immutable/app.abc.js'), 'export {}');
  writeFileSync(join(dir, '_app/immutable/sodium.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d]));
  writeFileSync(join(dir, 'manifest.webmanifest'), '{}');
  return dir;
}

describe('static app shell', () => {
  test('P30 files, SPA fallback, cache headers and a strict CSP', async () => {
    host = await startHost({ staticDir: buildDir() });
    const page = await fetch(`${host.url}/chats/alice`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Parley');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy')!;
    for (const d of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", 'connect-src'])
      expect(csp).toContain(d);
    expect(csp).not.toContain("'unsafe-eval'");
    const js = await fetch(`${host.url}/_app/immutable/app.abc.js`);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${host.url}/_app/immutable/sodium.wasm`)).headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${host.url}/manifest.webmanifest`)).headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect((await fetch(`${host.url}/missing.png`)).status).toBe(404);
    expect(await (await fetch(`${host.url}/healthz`)).json()).toEqual({ ok: true });
    const api = await fetch(`${host.url}/api/v1/nothing`);
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe('NotFound');
  });
});
