/**
 * Attachments through the engine and the REAL host (src/host/blobs.ts) on loopback: alice sends
 * bob a file; bob's vault stores its key sealed (it opens after a reload), downloads, checks and
 * decrypts exactly alice's bytes; once he holds his copy the host drops the blob, and both open
 * their own copies after; a blob the host changed on disk is refused as Tampered (P40) and
 * leaves nothing kept; the key never appears in a view (P1).
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
import { messageOwner } from '../../workers/storage/file-repo';
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
  test('P45 P40 bob opens exactly the bytes alice sent; the host drops the blob once he holds his copy, both reopen their copies after a reload; a changed blob is Tampered and kept nowhere', async () => {
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
    const dir = join(real.dataDir, BLOBS_DIR);
    expect(readdirSync(dir)).toHaveLength(1);
    expect(await fileBytes((await bob.openAttachment('alice', id, 't2')).bytes)).toEqual(file);
    // Bob holds his copy and released the blob: the host drops it (wire/blob-api.ts release).
    await eventually(async () => expect(readdirSync(dir)).toEqual([]));
    await eventually(async () => expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toMatchObject({ released: true }));

    // After a reload bob opens his own copy; the host has none left.
    await bob.close();
    engines = engines.filter((e) => e !== bob);
    bob = await open('bob', bobDb);
    bob.connect();
    const opened = await bob.openAttachment('alice', id, 't3');
    expect({ ...opened, bytes: await fileBytes(opened.bytes) }).toEqual({ bytes: file, mime: 'application/pdf', name: 'report.pdf' });
    // So does the sender: its copy was kept as it uploaded.
    expect(await fileBytes((await alice.openAttachment('bob', sent.id, 't4')).bytes)).toEqual(file);

    // A second file: the host swaps one byte of the stored blob before bob opens it.
    const sent2 = await alice.sendAttachment('bob' as Username, { bytes: bytes(90_000), name: 'b.pdf', mime: 'application/pdf', transfer: 't5' });
    const [blobFile] = readdirSync(dir);
    const stored = readFileSync(join(dir, blobFile!));
    stored[5000]! ^= 0x01;
    writeFileSync(join(dir, blobFile!), stored);
    expect(sent2.id).not.toBe(sent.id);
    let id2 = '';
    await eventually(async () => {
      const files = (await bob.listMessages('alice')).filter((x) => x.kind === 'text' && x.attachment);
      expect(files).toHaveLength(2);
      id2 = files.find((x) => x.id !== id)!.id;
    });
    await expect(bob.openAttachment('alice', id2, 't6')).rejects.toMatchObject({ code: 'Tampered' });
    // Nothing of it is kept or released: the blob stays, and bob holds only his first copy.
    expect(readdirSync(dir)).toEqual([blobFile]);
    const marks = (await bob.ctx.vault.db.getAll('files')).filter((r) => r.at === -1);
    expect(marks.map((r) => r.owner)).toEqual([messageOwner(id)]);
    expect((await bob.ctx.vault.db.getAllKeys('files')).every(([owner]) => owner === messageOwner(id))).toBe(true);
  });
});
