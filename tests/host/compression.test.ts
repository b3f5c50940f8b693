/**
 * The real host compresses what it serves for a fast first load: brotli when accepted, gzip as
 * the fallback, the file as is otherwise (q=0 honoured); already-compressed types and tiny bodies
 * never; each variant with its own ETag and a Content-Length equal to the bytes sent, Vary:
 * Accept-Encoding, and 304 for a matching If-None-Match. Raw node:http requests, so nothing
 * decodes behind the test's back.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { negotiate } from '../../src/host/compress';
import { startHost, tempDir } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const script = Buffer.from(`export const words = ${JSON.stringify(Array.from({ length: 2000 }, (_, i) => `word${i % 50}`))};\n`);
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(8000, 7)]);
const wasm = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(8000, 1)]);

function buildDir(): string {
  const dir = tempDir('parley-build-');
  mkdirSync(join(dir, '_app/immutable'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script>boot()</script><p>Parley</p>${'<p>filler</p>'.repeat(200)}`);
  writeFileSync(join(dir, '_app/immutable/app.abc.js'), script);
  writeFileSync(join(dir, '_app/immutable/tiny.js'), 'export {}');
  writeFileSync(join(dir, '_app/immutable/sodium.wasm'), wasm);
  writeFileSync(join(dir, 'icon.png'), png);
  return dir;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string>, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${host!.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('compressed static responses', () => {
  test('brotli when accepted, gzip as fallback, identity otherwise; lengths and ETags per variant', async () => {
    host = await startHost({ staticDir: buildDir() });
    const path = '/_app/immutable/app.abc.js';
    const brR = await get(path, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(brR.headers['content-encoding']).toBe('br');
    expect(Number(brR.headers['content-length'])).toBe(brR.body.length);
    expect(brR.body.length).toBeLessThan(script.length / 4);
    expect(brotliDecompressSync(brR.body)).toEqual(script);
    expect(brR.headers.vary).toBe('Accept-Encoding');

    const gzR = await get(path, { 'Accept-Encoding': 'gzip' });
    expect(gzR.headers['content-encoding']).toBe('gzip');
    expect(Number(gzR.headers['content-length'])).toBe(gzR.body.length);
    expect(gunzipSync(gzR.body)).toEqual(script);

    const noBr = await get(path, { 'Accept-Encoding': 'br;q=0, gzip;q=0.5' });
    expect(noBr.headers['content-encoding']).toBe('gzip');

    const plainAsks: Record<string, string>[] = [{}, { 'Accept-Encoding': 'identity' }, { 'Accept-Encoding': 'gzip;q=0, br;q=0' }, { 'Accept-Encoding': '*;q=0' }];
    for (const h of plainAsks) {
      const plain = await get(path, h);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toEqual(script);
      expect(Number(plain.headers['content-length'])).toBe(script.length);
    }

    const etags = new Set([brR.headers.etag, gzR.headers.etag, (await get(path, {})).headers.etag]);
    expect(etags.size).toBe(3);
    // A HEAD names the same variant and length, without a body.
    const head = await get(path, { 'Accept-Encoding': 'br' }, 'HEAD');
    expect(head.headers['content-length']).toBe(brR.headers['content-length']);
    expect(head.headers.etag).toBe(brR.headers.etag);
    expect(head.body.length).toBe(0);
  });

  test('a matching If-None-Match is answered 304 for that variant only', async () => {
    host = await startHost({ staticDir: buildDir() });
    const path = '/_app/immutable/app.abc.js';
    const first = await get(path, { 'Accept-Encoding': 'br' });
    const again = await get(path, { 'Accept-Encoding': 'br', 'If-None-Match': first.headers.etag as string });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const otherVariant = await get(path, { 'Accept-Encoding': 'gzip', 'If-None-Match': first.headers.etag as string });
    expect(otherVariant.status).toBe(200);
    expect(otherVariant.headers['content-encoding']).toBe('gzip');
  });

  test('the app shell and wasm are compressed; images and tiny files never are', async () => {
    host = await startHost({ staticDir: buildDir() });
    const shell = await get('/chats', { 'Accept-Encoding': 'br' });
    expect(shell.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(shell.body).toString()).toContain('Parley');
    expect(shell.headers['content-security-policy']).toContain("script-src 'self'");
    const w = await get('/_app/immutable/sodium.wasm', { 'Accept-Encoding': 'br' });
    expect(w.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(w.body)).toEqual(wasm);
    const image = await get('/icon.png', { 'Accept-Encoding': 'br, gzip' });
    expect(image.headers['content-encoding']).toBeUndefined();
    expect(image.body).toEqual(png);
    expect(Number(image.headers['content-length'])).toBe(png.length);
    const tiny = await get('/_app/immutable/tiny.js', { 'Accept-Encoding': 'br, gzip' });
    expect(tiny.headers['content-encoding']).toBeUndefined();
    expect(tiny.body.toString()).toBe('export {}');
  });

  test('Accept-Encoding negotiation follows q-values', () => {
    expect(negotiate(undefined)).toBeUndefined();
    expect(negotiate('gzip, br')).toBe('br');
    expect(negotiate('br;q=0.5, gzip')).toBe('gzip');
    expect(negotiate('*')).toBe('br');
    expect(negotiate('*, br;q=0')).toBe('gzip');
    expect(negotiate('deflate')).toBeUndefined();
    expect(negotiate('x-gzip')).toBe('gzip');
    expect(negotiate('gzip;q=abc')).toBeUndefined();
  });
});
