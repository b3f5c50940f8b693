/**
 * A file deleted for everyone leaves the host as well as every browser (SECURITY.md P44, P45;
 * wire/blob-api.ts DELETE), through engines on the REAL host and its blob files on disk: the
 * sender's delete takes its blob out at once, 1:1 and in a group, even when no recipient ever
 * fetched it (and so never released it). A delete for me keeps the blob: the others may still
 * fetch it. A host out of reach when the delete is made delays only the blob's removal: the
 * delete still stands and goes out, and the blob's DELETE waits in the vault (blob-withdrawals.ts),
 * across a closed worker, tried on a doubling delay and at each connection until the host confirms
 * it or the host's own retention has passed.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import WebSocket from 'ws';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import { BLOB_RETENTION_MS } from '../../src/lib/wire/blob-api';
import { sendWithdrawals, WITHDRAWALS_META_KEY } from '../../workers/engine/blob-withdrawals';
import { openJson } from '../../workers/storage/record-seal';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';
import { fileBytes } from './support';

const { real, user } = enginesOnRealHost('parley-withdraw-');
const reopened: Engine[] = [];
afterEach(async () => {
  for (const e of reopened.splice(0)) await e.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drops alice's socket and brings it back: what a network change or a host restart does. */
async function reconnect(e: Engine): Promise<void> {
  await e.disconnect();
  await e.connect();
}

/** The vault `dbName` opened again by a new engine (a new tab, a restarted worker), connected. */
async function reopen(dbName: string, wrap: (t: HostHttpTransport) => void): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  wrap(transport);
  const e = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50 });
  reopened.push(e);
  await e.connect();
  return e;
}
const hostBlobs = () => readdirSync(join(real.dataDir, BLOBS_DIR));
const file = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 17 + seed) & 0xff);

/** Alice's blob DELETEs, logged by status; refused as if the host were unreachable while `down` is set. */
function deletes(log: string[], state: { down: boolean }) {
  return (t: HostHttpTransport) => {
    const authed = t.authedFetch.bind(t);
    t.authedFetch = async (auth, path, init = {}) => {
      if (init.method !== 'DELETE') return authed(auth, path, init);
      if (state.down) {
        log.push('delete failed');
        throw new TypeError('fetch failed');
      }
      const res = await authed(auth, path, init);
      log.push(`delete ${res.status}`);
      return res;
    };
  };
}

/**
 * Alice's blob DELETEs, each logged with its answer: `canned(n)` for the n-th (from 0), or the real
 * host's when it gives none.
 */
function answering(canned: (n: number) => number | undefined, log: { path: string; status: number }[]) {
  return (t: HostHttpTransport) => {
    const authed = t.authedFetch.bind(t);
    let n = 0;
    t.authedFetch = async (auth, path, init = {}) => {
      if (init.method !== 'DELETE') return authed(auth, path, init);
      const status = canned(n++);
      const res = status === undefined ? await authed(auth, path, init) : new Response('{}', { status });
      log.push({ path, status: res.status });
      return res;
    };
  };
}

describe('a file deleted for everyone leaves the host', () => {
  test('P44 P45 the sender\'s delete for everyone takes its blob off the host though bob never fetched it; a delete for me keeps the other file\'s blob, which bob still opens', async () => {
    const log: string[] = [];
    const alice = await user('alice', { wrap: deletes(log, { down: false }) });
    const bob = await user('bob');
    await alice.lookupUser('bob');
    const [a, b] = [file(40_000, 1), file(50_000, 2)];
    const first = await alice.sendAttachment('bob' as Username, { bytes: a, name: 'a.bin', mime: '', transfer: 't1' });
    const second = await alice.sendAttachment('bob' as Username, { bytes: b, name: 'b.bin', mime: '', transfer: 't2' });
    await fileKeyIn(bob, 'alice', 'a.bin');
    const secondAtBob = await fileKeyIn(bob, 'alice', 'b.bin');
    expect(hostBlobs()).toHaveLength(2);

    // Deleted for alice only: bob may still fetch it, so its blob stays and nothing is asked of the host.
    await alice.deleteForMe('bob', second.id);
    expect(log).toEqual([]);
    expect(hostBlobs()).toHaveLength(2);

    await alice.deleteForEveryone('bob', first.id);
    await eventually(() => expect(log).toEqual(['delete 204']));
    expect(hostBlobs()).toHaveLength(1);
    await eventually(async () => expect((await bob.listMessages('alice')).find((m) => m.kind === 'text' && m.attachment === undefined && m.deleted)).toBeDefined());
    // The blob left is the second file's: bob opens exactly its bytes.
    expect(bytesEqual(await fileBytes((await bob.openAttachment('alice', secondAtBob, 'd')).bytes), b)).toBe(true);
  });

  test('P44 a host out of reach when the file is deleted: the delete stands and reaches bob; the vault tries the blob again on a doubling delay, and it goes with one DELETE once the host answers', async () => {
    const log: string[] = [];
    const state = { down: false };
    const alice = await user('alice', { wrap: deletes(log, state) });
    const bob = await user('bob');
    await alice.lookupUser('bob');
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file(30_000, 3), name: 'c.bin', mime: '', transfer: 't' });
    const atBob = await fileKeyIn(bob, 'alice', 'c.bin');
    state.down = true;
    const view = await alice.deleteForEveryone('bob', sent.id);
    expect(view).toMatchObject({ deleted: true });
    await eventually(() => expect(log[0]).toBe('delete failed'));
    await eventually(async () => expect((await bob.listMessages('alice')).find((m) => m.id === atBob)).toMatchObject({ deleted: true }));
    expect(hostBlobs()).toHaveLength(1);
    // Tried again after 50, 100, 200, 400… ms (the engine's retry delay, doubling): a few tries
    // in a second, not a loop.
    await sleep(1000);
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(log.length).toBeLessThanOrEqual(6);
    expect(new Set(log)).toEqual(new Set(['delete failed']));
    state.down = false;
    await eventually(() => expect(log.at(-1)).toBe('delete 204'));
    expect(hostBlobs()).toEqual([]);
    // Confirmed, so forgotten: no timer and no new connection sends it again.
    const tries = log.length;
    await reconnect(alice);
    await sleep(500);
    expect(log).toHaveLength(tries);
  });

  test('P44 a vault closed before the host confirmed the delete sends it when it opens and connects again; a host that answers 500 keeps it waiting, a 404 (already gone) ends it', async () => {
    const log: string[] = [];
    const alice = await user('alice', { wrap: deletes(log, { down: true }) });
    await user('bob');
    await alice.lookupUser('bob');
    const one = await alice.sendAttachment('bob' as Username, { bytes: file(20_000, 5), name: 'd.bin', mime: '', transfer: 't1' });
    const two = await alice.sendAttachment('bob' as Username, { bytes: file(20_000, 6), name: 'e.bin', mime: '', transfer: 't2' });
    await alice.deleteForEveryone('bob', one.id);
    await alice.deleteForEveryone('bob', two.id);
    await eventually(() => expect(log.length).toBeGreaterThanOrEqual(2));
    expect(hostBlobs()).toHaveLength(2);
    const dbName = alice.ctx.vault.name;
    await alice.close();

    // Reopened (a new tab, a restarted worker) on a host that refuses every DELETE with 500.
    const asked: { path: string; status: number }[] = [];
    const refusing = await reopen(dbName, answering(() => 500, asked));
    // Each pass stops at the first refusal: the first id is asked again and again, the second never.
    await eventually(() => expect(asked.length).toBeGreaterThanOrEqual(3));
    expect(new Set(asked.map((a) => a.path)).size).toBe(1);
    expect(hostBlobs()).toHaveLength(2);
    await refusing.close();

    // The first id is answered 404 (gone already), the second reaches the real host.
    const answered: { path: string; status: number }[] = [];
    const statuses = () => answered.map((a) => a.status);
    const healed = await reopen(dbName, answering((n) => (n === 0 ? 404 : undefined), answered));
    await eventually(() => expect(statuses()).toEqual([404, 204]));
    expect(hostBlobs()).toHaveLength(1);
    await reconnect(healed);
    await sleep(500);
    expect(statuses()).toEqual([404, 204]);
    await healed.close();
  });

  test('P44 the blob\'s DELETE is noted in the delete for everyone\'s own transaction: a worker that writes nothing more after that commit still leaves it waiting, and the vault opened again sends it', async () => {
    const alice = await user('alice', { wrap: deletes([], { down: true }) });
    await user('bob');
    await alice.lookupUser('bob');
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file(10_000, 9), name: 'h.bin', mime: '', transfer: 't' });
    // The delete's events are emitted right after its commit: from then on this worker's vault
    // takes no write, as if the worker had been killed there (a later note of its own would fail).
    const off = alice.subscribe((e) => {
      if (e.type === 'message' && e.message?.kind === 'text' && e.message.deleted) alice.ctx.vault.lost = 'killed after the delete committed';
    });
    await alice.deleteForEveryone('bob', sent.id);
    off();
    const sealed = await alice.ctx.vault.db.get('meta', WITHDRAWALS_META_KEY);
    expect(sealed).toBeDefined();
    expect(openJson<unknown[]>(alice.ctx.vault.db, 'meta', WITHDRAWALS_META_KEY, sealed as never)).toHaveLength(1);
    const dbName = alice.ctx.vault.name;
    await alice.close();

    const answered: { path: string; status: number }[] = [];
    await reopen(dbName, answering(() => undefined, answered));
    await eventually(() => expect(answered.map((a) => a.status)).toEqual([204]));
    expect(hostBlobs()).toEqual([]);
  });

  test('P44 a withdrawal older than the host\'s retention is dropped unsent: the host deleted that blob by itself', async () => {
    const log: string[] = [];
    const state = { down: true };
    const alice = await user('alice', { wrap: deletes(log, state) });
    await user('bob');
    await alice.lookupUser('bob');
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file(10_000, 7), name: 'f.bin', mime: '', transfer: 't' });
    await alice.deleteForEveryone('bob', sent.id);
    await eventually(() => expect(log[0]).toBe('delete failed'));
    const now = alice.ctx.deps.now;
    alice.ctx.deps = { ...alice.ctx.deps, now: () => now() + BLOB_RETENTION_MS };
    state.down = false;
    // A pass now (the socket back), and the timers after it: none sends it.
    await reconnect(alice);
    await sleep(1500);
    expect(new Set(log)).toEqual(new Set(['delete failed']));
    // Its clock back, nothing is left to send: the id was forgotten, not kept.
    alice.ctx.deps = { ...alice.ctx.deps, now };
    const tries = log.length;
    await reconnect(alice);
    await sleep(500);
    expect(log).toHaveLength(tries);
  });

  test('a pass asked for while the vault holds no account (locked) ends at once and leaves nothing behind: the next withdrawal goes', async () => {
    const log: string[] = [];
    const alice = await user('alice', { wrap: deletes(log, { down: false }) });
    await user('bob');
    await alice.lookupUser('bob');
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file(10_000, 8), name: 'g.bin', mime: '', transfer: 't' });
    const me = alice.ctx.me;
    alice.ctx.me = undefined;
    expect(await sendWithdrawals(alice.ctx)).toBe(false);
    alice.ctx.me = me;
    await alice.deleteForEveryone('bob', sent.id);
    await eventually(() => expect(log).toEqual(['delete 204']));
    expect(hostBlobs()).toEqual([]);
  });

  test('P44 P45 in a group: the sender\'s delete for everyone takes the one blob every member shared off the host, though no member fetched it', async () => {
    const log: string[] = [];
    const ann = await user('ann', { wrap: deletes(log, { down: false }) });
    const ben = await user('ben');
    const id = await ann.createGroup('Trip', '', ['ben']);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    const sent = await ann.sendGroupAttachment(id, { bytes: file(60_000, 4), name: 'map.pdf', mime: 'application/pdf', transfer: 't' });
    await eventually(async () => expect((await ben.listGroupMessages(id)).some((m) => m.kind === 'text' && m.attachment?.name === 'map.pdf')).toBe(true));
    expect(hostBlobs()).toHaveLength(1);
    await ann.deleteGroupMessageForEveryone(id, sent.id);
    await eventually(() => expect(log).toEqual(['delete 204']));
    expect(hostBlobs()).toEqual([]);
    await eventually(async () => expect((await ben.listGroupMessages(id)).some((m) => m.kind === 'text' && m.attachment?.name === 'map.pdf')).toBe(false));
  });
});
