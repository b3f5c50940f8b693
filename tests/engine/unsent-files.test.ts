/**
 * Files whose upload a closed tab cut off are shown as not sent, never silently lost
 * (workers/engine/unsent-files.ts; README "Attachments (as built)", unsent files), through the
 * engine and the REAL host. An upload is noted, sealed (P32), before its first byte; the message's
 * transaction takes the note out; an upload whose worker is gone (its Web Lock free) is listed in
 * its conversation until dismissed, sent again, or cancelled. One still running in another tab of
 * the same browser is never listed.
 */
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { MAX_UNSENT, UNSENT_META_KEY, noteUpload } from '../../workers/engine/unsent-files';
import { bytes } from './download-support';
import { enginesOnRealHost, eventually } from './real-host-support';

const { real, user } = enginesOnRealHost('parley-unsent-');
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

type Locks = NonNullable<Parameters<typeof Engine.open>[0]['locks']>;

/** Another tab on `e`'s vault: of the same browser (its lock manager), or, by default, after every tab closed (fresh locks). */
async function tab(e: Engine, locks: Locks = memoryLocks()): Promise<Engine> {
  return Engine.open({ transport: new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor), dbName: e.ctx.vault.name, locks, retryMs: 50 });
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
    await after.dismissUnsentFile(listed[0]!.id);
    expect(await after.unsentFiles(bob)).toEqual([]);
    expect(await storedNote(after)).toBeUndefined();
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
    await expect(alice.sendAttachment(bob.username, { bytes: small, name: 'b.txt', mime: 'text/plain', transfer: 's2' })).rejects.toMatchObject({ code: 'Unavailable' });
    await alice.discardUpload('s2');
    expect(await storedNote(alice)).toBeUndefined();

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

  test('at most the newest 50 notes are kept: the oldest goes first', async () => {
    const alice = await user('alice');
    for (let i = 0; i <= MAX_UNSENT; i++) await noteUpload(alice.ctx.vault, `bob:t${i}`, bob, { name: `f${i}.txt`, mime: 'text/plain', size: 10 + i }, 1000 + i);
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
