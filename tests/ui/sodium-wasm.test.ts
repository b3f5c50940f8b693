/**
 * libsodium's wasm shipped as its own file (src/lib/client/pwa/sodium-wasm.ts, the
 * `parley:sodium-wasm` build plugin; README "Long conversations and first load"): taken out of
 * the published module exactly, the rewritten module instantiates from the fetched bytes, a failed
 * fetch fails libsodium's start instead of hanging it, and a module of any other shape stops the
 * build.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { extractSodiumWasm } from '../../src/lib/client/pwa/sodium-wasm';

const require = createRequire(import.meta.url);
const MODULE = join(require.resolve('libsodium-sumo'), '../../modules-sumo-esm/libsodium-sumo.mjs');
const published = readFileSync(MODULE, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'parley-sodium-wasm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Factory = (m: { getRandomValue(): number }) => Promise<{ _sodium_init(): number; _crypto_generichash_bytes(): number }>;
let n = 0;
async function load(code: string): Promise<Factory> {
  const file = join(dir, `sodium-${n++}.mjs`);
  writeFileSync(file, code);
  return ((await import(/* @vite-ignore */ pathToFileURL(file).href)) as { default: Factory }).default;
}
const random = { getRandomValue: () => crypto.getRandomValues(new Uint32Array(1))[0]! };

describe("libsodium's wasm as a file", () => {
  test('the bytes taken out are the published module’s wasm, and the module left holds no copy of them', () => {
    let given: Uint8Array | undefined;
    const out = extractSodiumWasm(published, (wasm) => ((given = wasm), '"x.wasm"'));
    expect(given).toBe(out.wasm);
    expect(WebAssembly.validate(out.wasm as Uint8Array<ArrayBuffer>)).toBe(true);
    const literal = /"([A-Za-z0-9+/]{100000,}={0,2})"/.exec(published)![1]!;
    expect(Buffer.from(out.wasm).equals(Buffer.from(literal, 'base64'))).toBe(true);
    expect(out.code.length).toBeLessThan(published.length - literal.length + 400);
    expect(out.code).not.toMatch(/[A-Za-z0-9+/]{10000,}/);
    expect(out.code).toContain('fetch("x.wasm")');
  });

  test('the rewritten module instantiates libsodium from the fetched file', async () => {
    const bytes = extractSodiumWasm(published, () => '""').wasm;
    const url = `data:application/wasm;base64,${Buffer.from(bytes).toString('base64')}`;
    const factory = await load(extractSodiumWasm(published, () => JSON.stringify(url)).code);
    const sodium = await factory(random);
    expect(sodium._sodium_init()).toBeGreaterThanOrEqual(0);
    expect(sodium._crypto_generichash_bytes()).toBe(32);
  });

  test('a wasm file the host answers 404 for fails the start with that reason, and a broken one fails it too: neither hangs', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/libsodium.wasm`;
      const missing = await load(extractSodiumWasm(published, () => JSON.stringify(url)).code);
      await expect(missing(random)).rejects.toThrow('libsodium wasm: HTTP 404');
    } finally {
      server.close();
    }
    // Four bytes of header and nothing else: instantiation fails, and so does the start.
    const broken = await load(extractSodiumWasm(published, () => JSON.stringify('data:application/wasm;base64,AGFzbQ==')).code);
    await expect(broken(random)).rejects.toThrow();
  });

  const shapes: [string, string][] = [
    ['no inline wasm', 'export default async function A(){return {}}'],
    ['two inline literals', published.replace(/("[A-Za-z0-9+/]{100000,}={0,2}")/, '$1,$1')],
    ['a literal that is not wasm', published.replace(/"AGFzbQ/, '"BGFzbQ')],
    ['a literal read some other way', published.replace('??=(A=>{for(', '=(A=>{for(')]
  ];

  test.each(shapes)('a module of another shape (%s) stops the build', (_name, code) => {
    expect(() => extractSodiumWasm(code, () => '""')).toThrow(/libsodium-sumo/);
  });
});
