/**
 * Downloads in bounded steps (src/host/blob-download.ts; P40): a real HTTP server on loopback
 * sends a range read from a real blob file on disk, and the test watches every read the sender
 * makes. A whole download never reads more than one step at a time, a reader that stops taking
 * bytes stops the reads (and is cut off after the stall limit), a client that leaves ends them, and
 * a read failing half way cuts the connection instead of ending a short body.
 */
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { sendBlobRange } from '../../src/host/blob-download';
import { tempDir } from './support';

const STEP = 256 * 1024;
// 24 MiB and a tail that is not a whole step: far more than loopback's socket buffers hold, so a
// client that stops reading is seen to stop the reads.
const SIZE = 96 * STEP + 123;

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  servers = [];
});

const content = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) content[i] = (i * 7 + 1) & 0xff;
/** Byte equality without a deep walk (24 MiB element by element is slow in expect). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

interface Served {
  url: string;
  reads: [number, number][];
  /** Settles with what sendBlobRange returned or threw for the last request. */
  outcome: () => Promise<number | Error>;
}

/** A server whose one route sends [start, end) of a real file, with reads recorded. */
async function serve(start: number, end: number, failAt = Infinity, stallMs = 10_000): Promise<Served> {
  const path = join(tempDir(), 'blob');
  await writeFile(path, content);
  const reads: [number, number][] = [];
  let last: Promise<number | Error> = Promise.resolve(new Error('no request'));
  const read = async (a: number, b: number): Promise<Uint8Array> => {
    reads.push([a, b]);
    if (a >= failAt) throw new Error('blob gone');
    const out = new Uint8Array(b - a);
    const file = await open(path, 'r');
    try {
      await file.read(out, 0, out.length, a);
    } finally {
      await file.close();
    }
    return out;
  };
  const server = createServer((_req, res: ServerResponse) => {
    const head = () => res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': end - start });
    last = sendBlobRange(res, read, start, end, head, { step: STEP, stallMs }).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end();
      return e as Error;
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, reads, outcome: () => last };
}

describe('blob downloads in bounded steps (P40)', () => {
  test('a whole blob arrives byte for byte, read one step at a time in order', async () => {
    const s = await serve(0, SIZE);
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(same(new Uint8Array(await res.arrayBuffer()), content)).toBe(true);
    expect(await s.outcome()).toBe(SIZE);
    expect(s.reads.length).toBe(Math.ceil(SIZE / STEP));
    expect(s.reads.every(([a, b]) => b - a <= STEP)).toBe(true);
    expect(s.reads.map(([a]) => a)).toEqual(s.reads.map((_, i) => i * STEP));
  });

  test('a range that is not step-aligned is exact', async () => {
    const start = STEP / 2 + 5;
    const end = 7 * STEP + 11;
    const s = await serve(start, end);
    const res = await fetch(s.url);
    expect(same(new Uint8Array(await res.arrayBuffer()), content.subarray(start, end))).toBe(true);
    expect(s.reads[0]).toEqual([start, start + STEP]);
    expect(s.reads.at(-1)![1]).toBe(end);
  });

  test('a client that stops reading stops the reads (memory stays bounded)', async () => {
    const s = await serve(0, SIZE);
    const req = request(s.url);
    const started = new Promise<import('node:http').IncomingMessage>((r) => req.on('response', r));
    req.end();
    const res = await started;
    res.pause(); // takes nothing: the socket's buffers fill
    await new Promise((r) => setTimeout(r, 300));
    const held = s.reads.length;
    
    // Kernel and stream buffers hold a few MiB; the rest of the 97 steps is not read.
    expect(held).toBeLessThan(Math.ceil(SIZE / STEP) / 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.reads.length).toBe(held);
    // Reading again drains it to the end.
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.resume();
    await new Promise((r) => res.on('end', r));
    expect(same(Buffer.concat(chunks), content)).toBe(true);
  });

  test('a client that leaves ends the reads', async () => {
    const s = await serve(0, SIZE);
    const req = request(s.url);
    const res = await new Promise<import('node:http').IncomingMessage>((r) => {
      req.on('response', r);
      req.end();
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 200));
    req.on('error', () => {});
    req.destroy();
    const sent = await s.outcome();
    expect(typeof sent).toBe('number');
    expect(sent as number).toBeLessThan(SIZE);
    const after = s.reads.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(s.reads.length).toBe(after);
  });

  test('a client that stops reading for longer than the stall limit is cut off, and its step let go', async () => {
    const s = await serve(0, SIZE, Infinity, 400);
    const req = request(s.url);
    const res = await new Promise<import('node:http').IncomingMessage>((r) => {
      req.on('response', r);
      req.end();
    });
    res.pause();
    const cut = new Promise<string>((r) => {
      res.on('error', () => r('error'));
      res.on('aborted', () => r('aborted'));
      res.on('close', () => r('close'));
    });
    const sent = await s.outcome();
    expect(sent as number).toBeLessThan(SIZE);
    res.resume();
    expect(['error', 'aborted', 'close']).toContain(await cut);
    expect(res.complete).toBe(false);
  });

  test('a read failing half way cuts the connection: never a short body that looks whole', async () => {
    const s = await serve(0, SIZE, 10 * STEP);
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect(await s.outcome()).toBeInstanceOf(Error);
  });

  test('a read failing at once still gets a status', async () => {
    const s = await serve(0, SIZE, 0);
    const res = await fetch(s.url);
    expect(res.status).toBe(500);
  });
});
