/**
 * This browser's own copy of each file (workers/storage/file-repo.ts; README "Attachments"),
 * through the engine and the REAL host: a release that fails is sent again at the next open, and
 * only then does the host drop the blob; a damaged copy is dropped and the file fetched again;
 * storage that is full costs the copy, never the file; "delete for me" takes the copy with the
 * message (P44); parts a closed tab left unfinished are gone at the next start, complete copies stay.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { messageOwner, putFilePart, sweepUnfinishedFiles } from '../../workers/storage/file-repo';
import type { FilePart } from '../../workers/storage/schema';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';
import { fileBytes } from './support';

const { real, user } = enginesOnRealHost('parley-copies-');

const file = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
const blobs = () => readdirSync(join(real.dataDir, BLOBS_DIR));
const rowsOf = (e: Engine, owner: string) => e.ctx.vault.db.count('files', IDBKeyRange.bound([owner, -1], [owner, Number.MAX_SAFE_INTEGER]));

/** Makes every write to `e`'s file store fail as a browser past its quota would; answers the undo. */
function fullDisk(e: Engine): () => void {
  const db = e.ctx.vault.db;
  const put = db.put.bind(db);
  db.put = ((store: string, ...rest: unknown[]) =>
    store === 'files' ? Promise.reject(new DOMException('quota', 'QuotaExceededError')) : (put as (...a: unknown[]) => Promise<IDBValidKey>)(store, ...rest)) as typeof db.put;
  return () => {
    db.put = put;
  };
}

/** Bob's anonymous blob calls as `get` / `release <status>`; releases fail while `failRelease` is set. */
function bobCalls(log: string[], state: { failRelease: boolean }) {
  return (transport: HostHttpTransport) => {
    const anonymousFetch = transport.anonymousFetch.bind(transport);
    transport.anonymousFetch = async (path, init = {}) => {
      if (!path.startsWith('/api/v1/blobs/')) return anonymousFetch(path, init);
      if (path.endsWith('/release')) {
        if (state.failRelease) {
          log.push('release 503');
          return new Response(JSON.stringify({ error: { code: 'Unavailable', message: 'down' } }), { status: 503 });
        }
        const res = await anonymousFetch(path, init);
        log.push(`release ${res.status}`);
        return res;
      }
      log.push('get');
      return anonymousFetch(path, init);
    };
  };
}

async function pair(log: string[], state: { failRelease: boolean }): Promise<[Engine, Engine]> {
  const alice = await user('alice');
  const bob = await user('bob', { wrap: bobCalls(log, state) });
  await alice.lookupUser('bob');
  return [alice, bob];
}

describe("a browser's own copy of its files", () => {
  test('P40 a release the host did not take is sent again at the next open; the blob goes only then', async () => {
    const log: string[] = [];
    const state = { failRelease: true };
    const [alice, bob] = await pair(log, state);
    const bytes = file(300_000, 1);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'a.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'a.bin');
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    await eventually(() => expect(log).toContain('release 503'));
    expect(blobs()).toHaveLength(1);
    expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toMatchObject({ released: false });

    state.failRelease = false;
    log.length = 0;
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    // Opened from the copy (no download), and released this time.
    await eventually(() => expect(log).toEqual(['release 204']));
    await eventually(() => expect(blobs()).toEqual([]));
    await eventually(async () => expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toMatchObject({ released: true }));
    // Once released, opening again asks the host nothing.
    log.length = 0;
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(log).toEqual([]);
  });

  test('a damaged copy is dropped and the file fetched and checked again from the host', async () => {
    const log: string[] = [];
    const state = { failRelease: true };
    const [alice, bob] = await pair(log, state);
    const bytes = file(2_500_000, 2);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'b.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'b.bin');
    await bob.openAttachment('alice', id, 'd');
    const owner = messageOwner(id);
    // A byte of the second part flips on disk.
    const part = (await bob.ctx.vault.db.get('files', [owner, 1024 * 1024])) as FilePart;
    part.bytes[10]! ^= 1;
    await bob.ctx.vault.db.put('files', part);
    log.length = 0;
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(log.filter((l) => l === 'get')).toHaveLength(3);
    // The copy is whole again: the next open reads it, not the host.
    log.length = 0;
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(log.filter((l) => l === 'get')).toEqual([]);
    // A copy missing a part is refetched the same way.
    await bob.ctx.vault.db.delete('files', [owner, 1024 * 1024]);
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(log.filter((l) => l === 'get')).toHaveLength(3);
  });

  test('a full disk costs the copy, never the file: it opens, nothing is released, and the host keeps the blob', async () => {
    const log: string[] = [];
    const [alice, bob] = await pair(log, { failRelease: false });
    const db = bob.ctx.vault.db;
    const room = fullDisk(bob);
    const bytes = file(1_500_000, 7);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'e.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'e.bin');
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(await db.count('files')).toBe(0);
    expect(log.filter((l) => l.startsWith('release'))).toEqual([]);
    expect(blobs()).toHaveLength(1);
    // Room again: the next open downloads, keeps and releases.
    room();
    log.length = 0;
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    expect(log.filter((l) => l === 'get')).toHaveLength(2);
    await eventually(() => expect(blobs()).toEqual([]));
  });

  test('P44 delete for me takes the copy with the message, on both sides', async () => {
    const log: string[] = [];
    const [alice, bob] = await pair(log, { failRelease: false });
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file(50_000, 3), name: 'c.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'c.bin');
    await bob.openAttachment('alice', id, 'd');
    expect(await rowsOf(bob, messageOwner(id))).toBe(2);
    expect(await rowsOf(alice, messageOwner(sent.id))).toBe(2);
    await bob.deleteForMe('alice', id);
    await alice.deleteForMe('bob', sent.id);
    expect(await rowsOf(bob, messageOwner(id))).toBe(0);
    expect(await rowsOf(alice, messageOwner(sent.id))).toBe(0);
    expect(await bob.ctx.vault.db.count('files')).toBe(0);
  });

  test('P44 delete for everyone takes both copies, and a copy whose message was deleted while it downloaded is never kept', async () => {
    const log: string[] = [];
    const gate: { hold?: Promise<void> } = {};
    const state = { failRelease: false };
    const alice = await user('alice');
    const bob = await user('bob', {
      wrap: (t) => {
        bobCalls(log, state)(t);
        const inner = t.anonymousFetch.bind(t);
        t.anonymousFetch = async (path, init) => {
          if (gate.hold && !path.endsWith('/release')) await gate.hold;
          return inner(path, init);
        };
      }
    });
    await alice.lookupUser('bob');
    const first = await alice.sendAttachment('bob' as Username, { bytes: file(30_000, 8), name: 'f.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'f.bin');
    await bob.openAttachment('alice', id, 'd');
    expect(await rowsOf(bob, messageOwner(id))).toBe(2);
    await alice.deleteForEveryone('bob', first.id);
    expect(await rowsOf(alice, messageOwner(first.id))).toBe(0);
    await eventually(async () => expect(await rowsOf(bob, messageOwner(id))).toBe(0));

    // The second file: bob's download waits at the host while alice deletes it for everyone.
    const second = await alice.sendAttachment('bob' as Username, { bytes: file(30_000, 9), name: 'g.bin', mime: '', transfer: 't' });
    const id2 = await fileKeyIn(bob, 'alice', 'g.bin');
    let go = () => undefined as void;
    gate.hold = new Promise<void>((r) => (go = r));
    const opening = bob.openAttachment('alice', id2, 'd');
    await alice.deleteForEveryone('bob', second.id);
    await eventually(async () => expect((await bob.listMessages('alice')).find((m) => m.id === id2)).toMatchObject({ deleted: true }));
    go();
    gate.hold = undefined;
    await opening.catch(() => undefined);
    expect(await bob.ctx.vault.db.count('files')).toBe(0);
    expect(log.filter((l) => l.startsWith('release'))).toHaveLength(1);
  });

  test('a sender whose storage is full still sends; its own file then opens from the host', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    const db = alice.ctx.vault.db;
    const room = fullDisk(alice);
    const bytes = file(200_000, 10);
    const sent = await alice.sendAttachment('bob' as Username, { bytes, name: 'h.bin', mime: '', transfer: 't' });
    expect(await db.count('files')).toBe(0);
    await fileKeyIn(bob, 'alice', 'h.bin');
    room();
    expect(bytesEqual(await fileBytes((await alice.openAttachment('bob', sent.id, 'd')).bytes), bytes)).toBe(true);
    // Opening it kept a copy now.
    expect(await rowsOf(alice, messageOwner(sent.id))).toBe(2);
  });

  /** Bob, whose ranged GETs after the first wait while `gate.hold` is set; alice sent him `k.bin`. */
  async function downloadHeld(seed: number) {
    const log: string[] = [];
    const gate: { hold?: Promise<void> } = {};
    const alice = await user('alice');
    const bob = await user('bob', {
      wrap: (t) => {
        bobCalls(log, { failRelease: false })(t);
        const inner = t.anonymousFetch.bind(t);
        t.anonymousFetch = async (path, init) => {
          const range = (init?.headers as Record<string, string> | undefined)?.Range;
          if (gate.hold && range && !range.startsWith('bytes=0-')) await gate.hold;
          return inner(path, init);
        };
      }
    });
    await alice.lookupUser('bob');
    const bytes = file(2_500_000, seed);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'k.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'k.bin');
    let go = () => undefined as void;
    gate.hold = new Promise<void>((r) => (go = r));
    const opening = bob.openAttachment('alice', id, 'd');
    await eventually(async () => expect(await rowsOf(bob, messageOwner(id))).toBe(1));
    const resume = () => {
      go();
      gate.hold = undefined;
    };
    return { bob, id, bytes, log, opening, resume };
  }

  test("P40 another tab starting while a download writes its copy leaves the parts alone (the copy lock): the copy is kept and the blob released", async () => {
    const { bob, id, bytes, log, opening, resume } = await downloadHeld(11);
    // A second tab starting now: the writer holds the copy lock shared, so the sweep does not run.
    expect(await sweepUnfinishedFiles(bob.ctx.vault)).toBe(0);
    expect(await rowsOf(bob, messageOwner(id))).toBe(1);
    resume();
    expect(bytesEqual(await fileBytes((await opening).bytes), bytes)).toBe(true);
    expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toBeDefined();
    await eventually(() => expect(log.filter((l) => l.startsWith('release'))).toHaveLength(1));
    await eventually(() => expect(blobs()).toEqual([]));
    // No writer now: a start sweeps again (nothing unmarked is left to take).
    await putFilePart(bob.ctx.vault, messageOwner('alice:00ee'), 0, file(1000, 7));
    expect(await sweepUnfinishedFiles(bob.ctx.vault)).toBe(1);
    expect(await rowsOf(bob, messageOwner(id))).toBe(4); // three 1 MiB parts and the mark
  });

  test("P40 without Web Locks another tab's start-up sweep still leaves a download's parts alone: its FileResume row marks them as a download's, not an upload cut off", async () => {
    const { bob, id, bytes, log, opening, resume } = await downloadHeld(12);
    // A browser without a lock manager: the second tab cannot know a copy is being written.
    expect(await sweepUnfinishedFiles({ ...bob.ctx.vault, locks: undefined })).toBe(0);
    expect(await rowsOf(bob, messageOwner(id))).toBe(1);
    resume();
    expect(bytesEqual(await fileBytes((await opening).bytes), bytes)).toBe(true);
    expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toBeDefined();
    await eventually(() => expect(log.filter((l) => l.startsWith('release'))).toHaveLength(1));
  });

  test("P40 a copy whose parts vanish while it is written (an upload's, swept by a tab without Web Locks) is never marked: nothing is released, the next open refetches", async () => {
    const { bob, id, bytes, log, opening, resume } = await downloadHeld(13);
    // What such a sweep does to a copy it takes for an upload cut off: every part goes.
    await bob.ctx.vault.db.delete('files', IDBKeyRange.bound([messageOwner(id), 0], [messageOwner(id), Number.MAX_SAFE_INTEGER]));
    resume();
    expect(bytesEqual(await fileBytes((await opening).bytes), bytes)).toBe(true);
    expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toBeUndefined();
    expect(log.filter((l) => l.startsWith('release'))).toEqual([]);
    expect(blobs()).toHaveLength(1);
    // The next open downloads again, keeps the whole copy and releases.
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    await eventually(() => expect(blobs()).toEqual([]));
    await eventually(async () => expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toMatchObject({ released: true }));
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
  });

  test('parts of a copy never marked complete and not a download are removed at the next start; complete copies stay', async () => {
    const log: string[] = [];
    const [alice, bob] = await pair(log, { failRelease: false });
    const bytes = file(40_000, 4);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'd.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'd.bin');
    await bob.openAttachment('alice', id, 'd');
    // An upload a closed tab cut off: parts, no mark and no FileResume row (a download has one).
    await putFilePart(bob.ctx.vault, messageOwner('alice:00ff'), 0, file(1000, 5));
    await putFilePart(bob.ctx.vault, messageOwner('alice:00ff'), 1000, file(1000, 6));
    const dbName = bob.ctx.vault.name;
    await bob.close();
    const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
    const again = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50 });
    try {
      expect(await rowsOf(again, messageOwner('alice:00ff'))).toBe(0);
      expect(await rowsOf(again, messageOwner(id))).toBe(2);
      expect(bytesEqual(await fileBytes((await again.openAttachment('alice', id, 'd')).bytes), bytes)).toBe(true);
    } finally {
      await again.close();
    }
  });
});
