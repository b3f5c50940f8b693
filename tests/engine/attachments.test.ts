/**
 * Attachments through the engine and the REAL host (src/host/blobs.ts) on loopback: alice sends
 * bob a file; bob's vault stores its key sealed (it opens after a reload), downloads, checks and
 * decrypts exactly alice's bytes; a blob the host changed on disk is refused as Tampered (P40);
 * the key never appears in a view (P1).
 */
import 'fake-indexeddb/auto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import type { Username } from '../../src/lib/codec/username';
import { eventually, realHostPerTest } from './real-host-support';
import { fileBytes } from './support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-attach-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function open(name: string, dbName = `attach-${name}-${process.pid}-${n++}`): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  return e;
}

/** An opened file's bytes (the vault answers a streamed file as a Blob). */
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

describe('attachments through the engine and the real host', () => {
  test('P45 P40 bob opens exactly the bytes alice sent, after a reload too; a blob changed on the host is Tampered', async () => {
    const alice = await open('alice');
    const bobDb = `attach-bob-${process.pid}-${n++}`;
    let bob = await open('bob', bobDb);
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    alice.connect();
    bob.connect();
    await alice.lookupUser('bob');
    const file = bytes(200_000);
    const progress: number[] = [];
    alice.subscribe((e) => e.type === 'transfer' && e.transfer === 't1' && progress.push(e.done));
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file, name: 'report.pdf', mime: 'application/pdf', transfer: 't1', caption: 'the report' });
    expect(sent.kind === 'text' && sent.attachment).toEqual({ name: 'report.pdf', mime: 'application/pdf', size: 200_000 });
    expect(progress.at(-1)).toBeGreaterThan(200_000);
    let id = '';
    await eventually(async () => {
      const m = (await bob.listMessages('alice')).find((x) => x.kind === 'text' && x.attachment);
      expect(m && m.kind === 'text' && m.text).toBe('the report');
      id = m!.id;
    });
    const view = JSON.stringify((await bob.listMessages('alice')).find((x) => x.id === id), (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    expect(view).not.toMatch(/key|digest|blobId/);
    expect(await fileBytes((await bob.openAttachment('alice', id, 't2')).bytes)).toEqual(file);

    await bob.close();
    engines = engines.filter((e) => e !== bob);
    bob = await open('bob', bobDb);
    const opened = await bob.openAttachment('alice', id, 't3');
    expect({ ...opened, bytes: await fileBytes(opened.bytes) }).toEqual({ bytes: file, mime: 'application/pdf', name: 'report.pdf' });

    // The host swaps one byte of the stored blob.
    const dir = join(real.dataDir, BLOBS_DIR);
    const [blobFile] = readdirSync(dir);
    const stored = readFileSync(join(dir, blobFile!));
    stored[5000]! ^= 0x01;
    writeFileSync(join(dir, blobFile!), stored);
    await expect(bob.openAttachment('alice', id, 't4')).rejects.toMatchObject({ code: 'Tampered' });
    // The sender's own copy is checked the same way.
    await expect(alice.openAttachment('bob', sent.id, 't5')).rejects.toMatchObject({ code: 'Tampered' });
  });
});
