/**
 * Files whose upload a closed tab cut off are shown as not sent, never silently lost
 * (workers/engine/unsent-files.ts; README "Attachments (as built)", unsent files), through the
 * engine and the REAL host. An upload is noted, sealed (P32), before its first byte; the message's
 * transaction takes the note out; an upload whose worker is gone (its Web Lock free) is listed in
 * its conversation until dismissed, sent again, or cancelled. One still running in another tab of
 * the same browser is never listed.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { Engine } from '../../workers/engine/engine';
import { EngineError } from '../../workers/engine/errors';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { MAX_UNSENT, UNSENT_META_KEY, noteUpload } from '../../workers/engine/unsent-files';
import { openJson } from '../../workers/storage/record-seal';
import { commit } from '../../workers/storage/vault';
import { blobSize } from '../../src/lib/crypto/attachment';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import { PUT_PART_BYTES } from '../../workers/engine/blob-stream';
import { bytes, opened, same } from './download-support';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';

const { real, user } = enginesOnRealHost('parley-unsent-');
const hostBlobs = () => readdirSync(join(real.dataDir, BLOBS_DIR));
const bob = { kind: 'chat', username: 'bob' as Username } as const;
const MiB = 1024 * 1024;

/**
 * Every PUT of a blob part waits until `cut` (a tab frozen in the middle of its upload, then gone:
 * its request fails), or fails with 503 at once while `refuse` is set.
 */
function partGate() {
  let cut = (): void => undefined;
  const g = { puts: 0, refuse: false, cut: () => cut() };
  const frozen = new Promise<never>((_r, reject) => (cut = () => reject(new Error('the tab is gone'))));
  frozen.catch(() => undefined);
  const wrap = (t: HostHttpTransport) => {
    const authed = t.authedFetch.bind(t);
    t.authedFetch = async (auth, path, init = {}) => {
      if (init.method !== 'PUT' || !path.startsWith('/api/v1/blobs/')) return authed(auth, path, init);
      g.puts++;
      if (g.refuse) return new Response(JSON.stringify({ error: { code: 'Unavailable', message: 'down' } }), { status: 503 });
      return frozen;
    };
  };
  return { g, wrap };
}

/**
 * What a tab's transport did with blobs: new blobs made, part PUTs and their bytes. The first
 * `pass` PUTs go through; later ones wait until `cut` (the tab frozen mid-upload, then gone).
 */
function blobGate(pass = Infinity, before?: (path: string) => Promise<void>) {
  let cut = (): void => undefined;
  const g = { creates: 0, puts: 0, bytes: 0, cut: () => cut() };
  const frozen = new Promise<never>((_r, reject) => (cut = () => reject(new Error('the tab is gone'))));
  frozen.catch(() => undefined);
  const wrap = (t: HostHttpTransport) => {
    const authed = t.authedFetch.bind(t);
    t.authedFetch = async (auth, path, init = {}) => {
      if (init.method === 'POST' && path === '/api/v1/blobs') g.creates++;
      if (init.method !== 'PUT' || !path.startsWith('/api/v1/blobs/')) return authed(auth, path, init);
      await before?.(path);
      if (g.puts++ >= pass) return frozen;
      g.bytes += (init.body as Blob).size;
      return authed(auth, path, init);
    };
  };
  return { g, wrap };
}

type Locks = NonNullable<Parameters<typeof Engine.open>[0]['locks']>;

/** Another tab on `e`'s vault: of the same browser (its lock manager), or, by default, after every tab closed (fresh locks). */
async function tab(e: Engine, locks: Locks = memoryLocks(), wrap?: (t: HostHttpTransport) => void): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  wrap?.(transport);
  return Engine.open({ transport, dbName: e.ctx.vault.name, locks, retryMs: 50 });
}

/** The owners of every file copy (whole or parts) in `e`'s vault. */
async function copyOwners(e: Engine): Promise<string[]> {
  const keys = (await e.ctx.vault.db.getAllKeys('files')) as [string, number][];
  return [...new Set(keys.map(([owner]) => owner))];
}

/** Alice's 9 MiB upload to bob, cut off by a closed tab after its first 4 MiB part reached the host. */
/** The offsets of the parts noted in `e`'s unsent notes (opened as the vault does). */
async function notedParts(e: Engine): Promise<number[]> {
  return commit(e.ctx.vault, async (tx) => {
    const sealed = await tx.objectStore('meta').get(UNSENT_META_KEY);
    if (!sealed) return [];
    const entries = await openJson<{ parts?: { at: number }[] }[]>(tx, 'meta', UNSENT_META_KEY, sealed as never);
    return entries.flatMap((x) => (x.parts ?? []).map((p) => p.at));
  });
}

/** Alice's 9 MiB upload to bob, cut off by a closed tab after its first 4 MiB part reached the host. */
async function cutOff(file: Uint8Array, name: string) {
  // Every part's hash is noted, in IndexedDB's order, before its PUT leaves (blob-stream.ts): what
  // a resume compares against. (Its commit is not waited for: a later note only makes a resume start clean.)
  const ahead: boolean[] = [];
  let me: Engine | undefined;
  const first = blobGate(1, async (path) => {
    const at = Number(new URL(path, 'http://x').searchParams.get('offset'));
    ahead.push((await notedParts(me!)).includes(at));
  });
  const alice = (me = await user('alice', { wrap: first.wrap }));
  const bobs = await user('bob');
  await alice.lookupUser('bob');
  alice.sendAttachment(bob.username, { bytes: file, name, mime: 'application/octet-stream', transfer: 'r1' }).catch(() => undefined);
  await eventually(() => expect(first.g.puts).toBe(2));
  expect(ahead).toEqual([true, true]);
  first.g.cut();
  return { alice, bobs };
}

const sameBrowser = (e: Engine): Locks => e.ctx.vault.locks as unknown as Locks;

/** The stored note, as text (its bytes as latin1): what a dump of IndexedDB would show. */
async function storedNote(e: Engine): Promise<string | undefined> {
  const v = await e.ctx.vault.db.get('meta', UNSENT_META_KEY);
  return v === undefined ? undefined : JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('latin1') : x));
}

describe('files a closed tab left unsent', () => {
  test('P32 an upload cut off by a closed tab is listed in its chat after a reload (sealed at rest, never while a tab still runs it) until dismissed', async () => {
    const { g, wrap } = partGate();
    const alice = await user('alice', { wrap });
    await user('bob');
    await alice.lookupUser('bob');
    const file = bytes(5 * MiB + 3, 4);
    alice.sendAttachment(bob.username, { bytes: file, name: 'trip-plan.pdf', mime: 'application/pdf', transfer: 'x1' }).catch(() => undefined);
    await eventually(() => expect(g.puts).toBe(1));
    // Alice's own tab: the upload is running, nothing is "not sent".
    expect(await alice.unsentFiles(bob)).toEqual([]);
    // The note is sealed: the file's name is nowhere in the stored value (P32).
    const note = await storedNote(alice);
    expect(note).toBeDefined();
    expect(note!.includes('trip-plan')).toBe(false);
    // A second tab of the same browser sees the upload running in the first: not listed, and not dismissable.
    const second = await tab(alice, sameBrowser(alice));
    expect(await second.unsentFiles(bob)).toEqual([]);
    await second.close();

    // The tab is closed (the browser releases its locks): a new tab lists the file as not sent.
    g.cut();
    const after = await tab(alice);
    const listed = await after.unsentFiles(bob);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: 'trip-plan.pdf', size: file.length, voice: false });
    // Only in its own conversation.
    expect(await after.unsentFiles({ kind: 'chat', username: 'carol' as Username })).toEqual([]);
    // The cut upload's unfinished blob is on the host until the person dismisses it; then it goes
    // there too (wire/blob-api.ts DELETE), freeing one of the account's unfinished uploads.
    expect(hostBlobs()).toHaveLength(1);
    after.connect();
    await after.dismissUnsentFile(listed[0]!.id);
    expect(await after.unsentFiles(bob)).toEqual([]);
    expect(await storedNote(after)).toBeUndefined();
    await eventually(() => expect(hostBlobs()).toEqual([]));
    await after.close();
  });

  test('a file sent leaves no note; a failed upload the person cancels is not listed; sending the same file again replaces its stopped entry', async () => {
    const { g, wrap } = partGate();
    const alice = await user('alice', { wrap });
    await user('bob');
    await alice.lookupUser('bob');
    const small = bytes(3000, 5);
    // Sent (from a second tab, whose transport has no gate): the message's transaction took the note out.
    const plain = await tab(alice, sameBrowser(alice));
    await plain.sendAttachment(bob.username, { bytes: small, name: 'a.txt', mime: 'text/plain', transfer: 's1' });
    expect(await storedNote(plain)).toBeUndefined();

    // A failed upload (503 on every try), then Cancel: dropped, not listed after a reload either.
    g.refuse = true;
    expect(hostBlobs()).toHaveLength(1);
    await expect(alice.sendAttachment(bob.username, { bytes: small, name: 'b.txt', mime: 'text/plain', transfer: 's2' })).rejects.toMatchObject({ code: 'Unavailable' });
    expect(hostBlobs()).toHaveLength(2);
    await alice.discardUpload('s2');
    expect(await storedNote(alice)).toBeUndefined();
    // Its unfinished blob went from the host; the sent file's stays for bob.
    await eventually(() => expect(hostBlobs()).toHaveLength(1));

    // A failed upload left as it is, then the tab closes: listed; sending the same file (name and
    // size) to the same chat again takes the stopped entry out with it.
    await expect(alice.sendAttachment(bob.username, { bytes: small, name: 'c.txt', mime: 'text/plain', transfer: 's3' })).rejects.toMatchObject({ code: 'Unavailable' });
    await plain.close();
    const after = await tab(alice);
    expect((await after.unsentFiles(bob)).map((f) => f.name)).toEqual(['c.txt']);
    after.connect();
    await after.sendAttachment(bob.username, { bytes: small, name: 'c.txt', mime: 'text/plain', transfer: 's4' });
    expect(await after.unsentFiles(bob)).toEqual([]);
    expect(await storedNote(after)).toBeUndefined();
    await after.close();
  });

  test('P45 an upload cut off by a closed tab resumes when the same file is attached again: the parts the host has are checked against the hashes noted before they went, only the rest goes up, and bob opens exactly the file', async () => {
    const file = bytes(9 * MiB + 5, 8);
    const { alice, bobs } = await cutOff(file, 'film.bin');
    const again = blobGate();
    const after = await tab(alice, memoryLocks(), again.wrap);
    expect(await after.unsentFiles(bob)).toEqual([expect.objectContaining({ name: 'film.bin', resumes: true })]);
    after.connect();
    await after.sendAttachment(bob.username, { bytes: file, name: 'film.bin', mime: 'application/octet-stream', transfer: 'r2' });
    // No new blob; the first part, which the host had, was not sent again.
    expect(again.g.creates).toBe(0);
    expect(again.g.bytes).toBe(blobSize(file.length) - PUT_PART_BYTES);
    expect(await after.unsentFiles(bob)).toEqual([]);
    expect(same(await opened(bobs, await fileKeyIn(bobs, 'alice', 'film.bin')), file)).toBe(true);
    // Alice's own copy (the checked part written again, and the rest) is whole: it opens without the host.
    expect(await after.attachmentHeld('bob', await fileKeyIn(after, 'bob', 'film.bin'))).toBe(1);
    await after.close();
  });

  test('P45 another file of the same name and size attached after a cut-off is not spliced onto the old blob: it goes whole as a new one, and alice keeps its copy', async () => {
    const file = bytes(9 * MiB + 5, 8);
    const { alice, bobs } = await cutOff(file, 'film.bin');
    // One byte in the middle of the first part: the noted hash covers only that part's last chunk,
    // which the change reaches through secretstream's chaining (blob-stream.ts partPrint).
    const other = file.slice();
    other[2 * MiB]! ^= 1;
    const again = blobGate();
    const after = await tab(alice, memoryLocks(), again.wrap);
    after.connect();
    await after.sendAttachment(bob.username, { bytes: other, name: 'film.bin', mime: 'application/octet-stream', transfer: 'r2' });
    expect(again.g.creates).toBe(1);
    expect(again.g.bytes).toBe(blobSize(other.length));
    expect(same(await opened(bobs, await fileKeyIn(bobs, 'alice', 'film.bin')), other)).toBe(true);
    // One copy, and it is the new file's: Alice opens it with no request to the host (a copy that
    // failed its checks would be fetched).
    expect(await copyOwners(after)).toHaveLength(1);
    let asked = 0;
    const anonymous = after.ctx.transport.anonymousFetch!.bind(after.ctx.transport);
    after.ctx.transport.anonymousFetch = (path, init) => (asked++, anonymous(path, init));
    const mine = await after.openAttachment('bob', await fileKeyIn(after, 'bob', 'film.bin'), 'o');
    expect(same(new Uint8Array(await (mine.bytes as Blob).arrayBuffer()), other)).toBe(true);
    expect(asked).toBe(0);
    await after.close();
  });

  test('P45 a host out of reach when a cut-off upload is attached again fails the send and keeps it resumable; a host that lost the blob gets the file whole as a new one', async () => {
    const file = bytes(9 * MiB + 5, 10);
    const { alice, bobs } = await cutOff(file, 'film.bin');
    const again = blobGate();
    let state: 'down' | 'up' | 'lost' = 'down';
    const after = await tab(alice, memoryLocks(), (t) => {
      again.wrap(t);
      const authed = t.authedFetch.bind(t);
      t.authedFetch = async (auth, path, init = {}) => {
        if (!path.endsWith('/upload') || state === 'up') return authed(auth, path, init);
        if (state === 'down') throw new EngineError('Unavailable', 'the host cannot be reached');
        return new Response(JSON.stringify({ error: { code: 'NotFound', message: 'no such blob' } }), { status: 404 });
      };
    });
    after.connect();
    const send = (transfer: string, bytes = file) => after.sendAttachment(bob.username, { bytes, name: 'film.bin', mime: 'application/octet-stream', transfer });
    await expect(send('r2')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(again.g.creates).toBe(0);
    // Retry (the same transfer) once the host answers: still taken over, only the rest goes.
    state = 'up';
    await send('r2');
    expect(again.g.creates).toBe(0);
    expect(again.g.bytes).toBe(blobSize(file.length) - PUT_PART_BYTES);
    expect(same(await opened(bobs, await fileKeyIn(bobs, 'alice', 'film.bin')), file)).toBe(true);
    await after.close();

    // Another cut-off, whose blob the host then says it does not have: a clean new upload.
    const second = bytes(9 * MiB + 7, 11);
    const gate = blobGate(1);
    const tab2 = await tab(alice, memoryLocks(), gate.wrap);
    tab2.connect();
    tab2.sendAttachment(bob.username, { bytes: second, name: 'cut.bin', mime: 'application/octet-stream', transfer: 'r3' }).catch(() => undefined);
    await eventually(() => expect(gate.g.puts).toBe(2));
    gate.g.cut();
    state = 'lost';
    again.g.bytes = 0;
    const tab3 = await tab(alice, memoryLocks(), (t) => {
      again.wrap(t);
      const authed = t.authedFetch.bind(t);
      t.authedFetch = async (auth, path, init = {}) => (path.endsWith('/upload') ? new Response(JSON.stringify({ error: { code: 'NotFound', message: 'no such blob' } }), { status: 404 }) : authed(auth, path, init));
    });
    tab3.connect();
    await tab3.sendAttachment(bob.username, { bytes: second, name: 'cut.bin', mime: 'application/octet-stream', transfer: 'r4' });
    expect(again.g.creates).toBe(1);
    expect(again.g.bytes).toBe(blobSize(second.length));
    expect(same(await opened(bobs, await fileKeyIn(bobs, 'alice', 'cut.bin')), second)).toBe(true);
    await tab2.close();
    await tab3.close();
  });

  test('a dismissed cut-off upload is forgotten: the same file attached again goes as a new blob', async () => {
    const file = bytes(9 * MiB + 5, 9);
    const { alice } = await cutOff(file, 'film.bin');
    const again = blobGate();
    const after = await tab(alice, memoryLocks(), again.wrap);
    const [listed] = await after.unsentFiles(bob);
    await after.dismissUnsentFile(listed!.id);
    after.connect();
    await after.sendAttachment(bob.username, { bytes: file, name: 'film.bin', mime: 'application/octet-stream', transfer: 'r2' });
    expect(again.g.creates).toBe(1);
    expect(again.g.bytes).toBe(blobSize(file.length));
    await after.close();
  });

  test('at most the newest 50 notes are kept: the oldest goes first', async () => {
    const alice = await user('alice');
    for (let i = 0; i <= MAX_UNSENT; i++) await noteUpload(alice.ctx.vault, `bob:t${i}`, bob, { name: `f${i}.txt`, mime: 'text/plain', size: 10 + i }, 1000 + i, { messageId: `m${i}`, owner: `m:m${i}` });
    const after = await tab(alice);
    const names = (await after.unsentFiles(bob)).map((f) => f.name);
    expect(names).toHaveLength(MAX_UNSENT);
    expect(names[0]).toBe('f1.txt');
    expect(names.at(-1)).toBe(`f${MAX_UNSENT}.txt`);
    await after.close();
  });

  test('a voice note cut off in a group is listed in that group, as a voice message, and nowhere else', async () => {
    const { g, wrap } = partGate();
    const alice = await user('alice', { wrap });
    await user('bob');
    await alice.lookupUser('bob');
    const id = await alice.createGroup('Trip', '', ['bob']);
    g.refuse = true;
    await expect(alice.sendGroupAttachment(id, { bytes: bytes(4000, 6), name: 'voice-note.webm', mime: 'audio/webm', transfer: 'v1' })).rejects.toMatchObject({ code: 'Unavailable' });
    const after = await tab(alice);
    expect(await after.unsentFiles({ kind: 'group', id })).toEqual([expect.objectContaining({ name: 'voice-note.webm', size: 4000, voice: true })]);
    expect(await after.unsentFiles(bob)).toEqual([]);
    // A place that is neither a username nor a group id is refused, not searched.
    await expect(after.unsentFiles({ kind: 'group', id: '../x' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await after.close();
  });
});
