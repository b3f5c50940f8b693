/**
 * The host serves the built PWA (P30): MIME types incl. .wasm and .webmanifest, SPA fallback to
 * index.html, no-cache HTML and immutable hashed assets, a strict CSP header whose connect-src
 * names exact origins, a Permissions-Policy, and /healthz; API paths never fall back to the app shell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
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

  test('P30 connect-src names exact origins (no ws:/wss: wildcards), forms and framing are off, powerful features are self-only or denied', async () => {
    host = await startHost({ staticDir: buildDir() });
    for (const path of ['/', '/chats', '/_app/immutable/app.abc.js', '/missing.png']) {
      const r = await fetch(`${host.url}${path}`);
      const csp = directives(r.headers.get('content-security-policy')!);
      // fetch() sends Host: 127.0.0.1:<port>, so the app's own socket origin is ws://127.0.0.1:<port>.
      expect(csp.get('connect-src')).toEqual(["'self'", `ws://127.0.0.1:${host.port}`]);
      for (const d of ['form-action', 'frame-ancestors', 'base-uri', 'object-src']) expect(csp.get(d)).toEqual(["'none'"]);
      expect([...csp.values()].flat().filter((v) => /^(ws|wss|https?):?$|^\*$/.test(v))).toEqual([]);
      const pp = r.headers.get('permissions-policy')!;
      for (const f of ['camera', 'microphone', 'display-capture']) expect(pp).toContain(`${f}=(self)`);
      for (const f of ['geolocation', 'payment', 'usb', 'clipboard-read']) expect(pp).toContain(`${f}=()`);
    }
  });

  test('P30 behind a TLS proxy the socket origin is wss://; APP_ORIGIN fixes it; a hostile Host header adds nothing', async () => {
    host = await startHost({ staticDir: buildDir() });
    const viaProxy = await raw(host.port, { Host: 'parley.example', 'X-Forwarded-Proto': 'https' });
    expect(directives(viaProxy).get('connect-src')).toEqual(["'self'", 'wss://parley.example']);
    const hostile = await raw(host.port, { Host: "evil.example; script-src * 'unsafe-inline'" });
    expect(directives(hostile).get('connect-src')).toEqual(["'self'"]);
    expect(directives(hostile).get('script-src')).not.toContain('*');
    await host.close();

    process.env.APP_ORIGIN = 'https://chat.example, http://localhost:3000';
    try {
      host = await startHost({ staticDir: buildDir() });
    } finally {
      delete process.env.APP_ORIGIN;
    }
    const fixed = await raw(host.port, { Host: 'other.example' });
    expect(directives(fixed).get('connect-src')).toEqual(["'self'", 'wss://chat.example', 'ws://localhost:3000']);
  });
});

/** directive name -> its source list. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    })
  );
}

/** GET / with exactly these headers (fetch() will not send a chosen Host); resolves to the CSP. */
function raw(port: number, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      res.resume();
      resolve(String(res.headers['content-security-policy']));
    });
    req.on('error', reject);
    req.end();
  });
}
