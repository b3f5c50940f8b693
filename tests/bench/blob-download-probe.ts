/**
 * Host memory while clients hold whole-blob downloads without reading them (README "Attachments
 * (as built)", downloads in steps; P40):
 *
 *   node --expose-gc --import tsx tests/bench/blob-download-probe.ts [--clients=N] [--mb=N] [--root=DIR]
 *
 * Starts a host in this process from DIR's sources (default this tree; give another checkout to
 * compare builds), uploads one blob of N MiB, then opens `clients` unranged GETs of it and reads
 * nothing. After two seconds it prints, as JSON, how much the process's ArrayBuffer and resident
 * memory grew over the idle host (after a GC), and how many response bytes the clients had by then.
 */
import { request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BLOB_API } from '../../src/lib/wire/blob-api';
import { initSodium } from '../../src/lib/crypto/sodium';
import { intArg, ROOT } from './browser-rig';
import { registerOverHttp } from './http-account';

const CLIENTS = intArg('clients', 10);
const MB = intArg('mb', 50);
const root = resolve(process.argv.find((a) => a.startsWith('--root='))?.slice(7) ?? ROOT);
const MiB = 1024 * 1024;

const mem = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, rss: m.rss };
};

async function main(): Promise<void> {
  await initSodium();
  const { createHost } = (await import(join(root, 'src/host/server.ts'))) as typeof import('../../src/host/server');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-dl-probe-'));
  const host = await createHost({ port: 0, dataDir, log: () => undefined });
  try {
    const bearer = await registerOverHttp(host.url, `probe_${Date.now().toString(36).slice(-6)}`);
    const auth = { authorization: `Bearer ${bearer}` };
    const size = MB * MiB;
    const created = await fetch(host.url + BLOB_API.blobs, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ size }) });
    const { id } = (await created.json()) as { id: string };
    const part = new Uint8Array(4 * MiB).fill(7);
    for (let at = 0; at < size; at += part.length) {
      const body = part.subarray(0, Math.min(part.length, size - at));
      const res = await fetch(`${host.url}${BLOB_API.prefix}${id}?offset=${at}`, { method: 'PUT', headers: auth, body: body as BodyInit });
      if (!res.ok) throw new Error(`upload: ${res.status}`);
    }
    const idle = mem();
    const responses: IncomingMessage[] = [];
    let received = 0;
    const reqs = Array.from({ length: CLIENTS }, () => {
      const req = request(host.url + BLOB_API.prefix + id);
      req.on('error', () => undefined);
      req.on('response', (res) => {
        responses.push(res);
        res.on('data', (c: Buffer) => (received += c.length));
        res.pause();
      });
      req.end();
      return req;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const held = mem();
    for (const r of reqs) r.destroy();
    console.log(
      JSON.stringify({
        clients: CLIENTS,
        blobMiB: MB,
        responses: responses.length,
        receivedMiB: +(received / MiB).toFixed(1),
        arrayBuffersMiB: +((held.arrayBuffers - idle.arrayBuffers) / MiB).toFixed(1),
        rssMiB: +((held.rss - idle.rss) / MiB).toFixed(1)
      })
    );
  } finally {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
