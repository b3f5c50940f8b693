/**
 * Streamed attachments through the engine and the REAL host (workers/engine/blob-stream.ts;
 * README "Attachments"): a file given as a Blob is read, sealed and uploaded part by part with
 * only a few parts in hand; a part that fails is resumed from where the host is; a host that lost
 * the upload gets a clean new one; a retry of the same transfer after the vault gave up resumes
 * without sending again what the host has; a reordered download is Tampered (P45, P40).
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { PUT_PART_BYTES } from '../../workers/engine/blob-stream';
import { EngineError } from '../../workers/engine/errors';
import { forgetUnfinishedUploads } from '../../workers/engine/attachments';
import type { Engine } from '../../workers/engine/engine';
import type { HostHttpTransport } from '../../workers/engine/host-transport';
import { enginesOnRealHost, fileKeyIn, withholdFetch } from './real-host-support';
import { TEST_LOCK_KDF, TEST_LOCK_PASS } from '../support/app-lock-fixtures';

const { user } = enginesOnRealHost('parley-attach-stream-');
const MiB = 1024 * 1024;
/** One PUT's worth of sealed bytes (4 MiB). */
const P = PUT_PART_BYTES;

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 7 + (i >>> 11)) & 0xff;
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** A file whose reads are logged beside the host calls, to see what the vault holds at each PUT. */
class LoggedFile extends Blob {
  constructor(
    bytes: Uint8Array,
    private readonly log: string[]
  ) {
    super([bytes as Uint8Array<ArrayBuffer>]);
  }
  override slice(start?: number, end?: number): Blob {
    this.log.push(`read ${start}-${end}`);
    return super.slice(start, end);
  }
}

type Fault = (method: string, path: string, forward: (init?: RequestInit) => Promise<Response>, init: RequestInit) => Promise<Response>;

/**
 * Logs every blob call of the engine's transport and lets a test fault some. Uploads go as the
 * account and downloads as nobody (P41); a call the other way is logged as such, so every log
 * comparison below also checks which way each call went.
 */
function blobCalls(log: string[], fault: { f?: Fault }) {
  return (transport: HostHttpTransport) => {
    const authedFetch = transport.authedFetch.bind(transport);
    const anonymousFetch = transport.anonymousFetch.bind(transport);
    const logged = (anonymous: boolean, path: string, init: RequestInit, go: (i: RequestInit) => Promise<Response>): Promise<Response> => {
      const method = init.method ?? 'GET';
      const offset = /offset=(\d+)/.exec(path)?.[1];
      const what = method === 'PUT' ? `put ${offset}` : path.endsWith('/release') ? 'release' : method === 'POST' ? 'create' : path.endsWith('/upload') ? 'where' : `get ${(init.headers as Record<string, string> | undefined)?.Range ?? ''}`;
      // Downloads and releases go as nobody (P41), everything else as the account.
      const download = what.startsWith('get ') || what === 'release';
      log.push(download === anonymous ? what : `${what} (${anonymous ? 'anonymous' : 'as the account'})`);
      const forward = (i: RequestInit = init) => go(i);
      return fault.f ? fault.f(method, path, forward, init) : forward();
    };
    transport.authedFetch = (auth, path, init = {}) => (path.startsWith('/api/v1/blobs') ? logged(false, path, init, (i) => authedFetch(auth, path, i)) : authedFetch(auth, path, init));
    transport.anonymousFetch = (path, init = {}) => (path.startsWith('/api/v1/blobs') ? logged(true, path, init, (i) => anonymousFetch(path, i)) : anonymousFetch(path, init));
  };
}

async function pair(log: string[], fault: { f?: Fault } = {}, bobLog: string[] = [], bobFault: { f?: Fault } = {}): Promise<[Engine, Engine]> {
  const alice = await user('alice', { wrap: blobCalls(log, fault) });
  const bob = await user('bob', { wrap: blobCalls(bobLog, bobFault) });
  await alice.lookupUser('bob');
  return [alice, bob];
}

async function opened(bob: Engine, id: string): Promise<Uint8Array> {
  const f = await bob.openAttachment('alice', id, 'd');
  return f.bytes instanceof Blob ? new Uint8Array(await f.bytes.arrayBuffer()) : f.bytes;
}

/**
 * A 3-part upload the host held parts 0 and 1 of, finished by a retry: one blob, parts 0 and 1
 * not sent again, the last part at 3P; bob opens exactly the file and our copy is the blob.
 */
async function resumedAfterTwoParts(log: string[], alice: Engine, bob: Engine, id: string, name: string, file: Uint8Array): Promise<void> {
  expect(log.filter((l) => l === 'create')).toHaveLength(1);
  expect(puts(log).filter((o) => o < 2 * P)).toEqual([0, P]);
  expect(puts(log).at(-1)).toBe(3 * P);
  expect(same(await opened(bob, await fileKeyIn(bob, 'alice', name)), file)).toBe(true);
  await ownCopy(alice, id, file, log);
}

/**
 * The sender's own copy (storage/file-repo.ts), kept as it uploaded, opens as exactly the file
 * with no request at all: so whatever the upload went through, the copy is the blob the message
 * points at.
 */
async function ownCopy(alice: Engine, id: string, file: Uint8Array, log: string[]): Promise<void> {
  const before = log.length;
  const f = await alice.openAttachment('bob', id, 'own');
  expect(same(new Uint8Array(await (f.bytes as Blob).arrayBuffer()), file)).toBe(true);
  expect(log.slice(before)).toEqual([]);
}

const puts = (log: string[]) => log.filter((l) => l.startsWith('put ')).map((l) => Number(l.slice(4)));

/** A host that goes unreachable once two parts are up, until the test sets `down` back to false. */
function downAfterTwoParts(log: string[]): { f: Fault; down: boolean } {
  const host = {
    down: false,
    f: async (method: string, _path: string, forward: () => Promise<Response>) => {
      if (host.down) throw new EngineError('Unavailable', 'host unreachable');
      const res = await forward();
      if (method === 'PUT' && puts(log).length === 2) host.down = true;
      return res;
    }
  };
  return host;
}

describe('streamed attachments through the engine and the real host', () => {
  test('P45 a Blob of five parts goes up in 4 MiB parts while it is still being read (never more than two parts and a slice ahead of the host) and opens as exactly its bytes', async () => {
    const log: string[] = [];
    const [alice, bob] = await pair(log);
    const file = bytes(5 * P + 333, 1);
    const sent = await alice.sendAttachment('bob' as Username, { bytes: new LoggedFile(file, log), name: 'big.bin', mime: '', transfer: 't1' });
    const offsets = puts(log);
    expect(offsets.slice(0, 3)).toEqual([0, P, 2 * P]);
    // The first part left before the last slice was read: a stream, not read-all-then-send.
    expect(log.indexOf('put 0')).toBeLessThan(log.findLastIndex((l) => l.startsWith('read ')));
    // At every PUT, the file read so far is at most two parts and one 1 MiB slice past the part being sent.
    let readTo = 0;
    for (const l of log) {
      if (l.startsWith('read ')) readTo = Number(l.split('-')[1]);
      if (l.startsWith('put ')) expect(readTo - Number(l.slice(4))).toBeLessThanOrEqual(2 * P + MiB);
    }
    const got = await opened(bob, await fileKeyIn(bob, 'alice', 'big.bin'));
    expect(got.length).toBe(file.length);
    expect(same(got, file)).toBe(true);
    await ownCopy(alice, sent.id, file, log);
  });

  test('P45 a part that fails (answer lost after the host stored it, or never sent) is resumed from the host\'s offset without a new upload', async () => {
    const log: string[] = [];
    let n = 0;
    const fault = {
      f: async (method: string, _path: string, forward: () => Promise<Response>) => {
        if (method !== 'PUT') return forward();
        n++;
        if (n === 2) {
          await forward();
          throw new EngineError('Unavailable', 'answer lost');
        }
        if (n === 4) throw new EngineError('Unavailable', 'never sent');
        return forward();
      }
    };
    const [alice, bob] = await pair(log, fault);
    const file = bytes(4 * P + 5, 2);
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file, name: 'resumed.bin', mime: '', transfer: 't1' });
    expect(log.filter((l) => l === 'create')).toHaveLength(1);
    expect(log.filter((l) => l === 'where')).toHaveLength(2);
    // Part 1's answer was lost: the host had it, so the next PUT is part 2; part 3 never left, so it goes again.
    expect(puts(log)).toEqual([0, P, 2 * P, 3 * P, 3 * P, 4 * P]);
    expect(same(await opened(bob, await fileKeyIn(bob, 'alice', 'resumed.bin')), file)).toBe(true);
    // The part whose answer was lost is in the copy too.
    await ownCopy(alice, sent.id, file, log);
  });

  test('P45 a host that lost the upload gets a clean new one from the first byte, and the message points at it', async () => {
    const log: string[] = [];
    let n = 0;
    const fault = {
      f: async (method: string, _path: string, forward: () => Promise<Response>) => {
        if (method === 'PUT' && ++n === 3) return new Response(JSON.stringify({ error: { code: 'NotFound', message: 'no such upload' } }), { status: 404 });
        return forward();
      }
    };
    const [alice, bob] = await pair(log, fault);
    const file = bytes(3 * P, 3);
    const sent = await alice.sendAttachment('bob' as Username, { bytes: file, name: 'again.bin', mime: '', transfer: 't1' });
    expect(log.filter((l) => l === 'create')).toHaveLength(2);
    expect(puts(log)).toEqual([0, P, 2 * P, 0, P, 2 * P, 3 * P]);
    expect(same(await opened(bob, await fileKeyIn(bob, 'alice', 'again.bin')), file)).toBe(true);
    // The copy of the lost upload (another key) was dropped and the new one kept.
    await ownCopy(alice, sent.id, file, log);
  });

  test('P45 after the vault gives up (host unreachable), Retry of the same transfer resumes where the host is; nothing it has is sent again', async () => {
    const log: string[] = [];
    const host = downAfterTwoParts(log);
    const [alice, bob] = await pair(log, host);
    const file = bytes(3 * P + 77, 4);
    const send = () => alice.sendAttachment('bob' as Username, { bytes: new Blob([file as Uint8Array<ArrayBuffer>]), name: 'retry.bin', mime: '', transfer: 't9' });
    await expect(send()).rejects.toMatchObject({ code: 'Unavailable' });
    host.down = false;
    const sent = await send();
    // Parts 0 and 1 landed before the host went away; the retry goes on with part 2.
    await resumedAfterTwoParts(log, alice, bob, sent.id, 'retry.bin', file);
  });

  test('P46 P45 locking drops an upload kept for Retry (its key and stream state); after unlocking, Retry takes it over where the host is and sends nothing again', async () => {
    const log: string[] = [];
    const host = downAfterTwoParts(log);
    const alice = await user('alice', { wrap: blobCalls(log, host), appLockKdf: TEST_LOCK_KDF });
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.locks.enableLock(TEST_LOCK_PASS, 5);
    const file = bytes(3 * P + 77, 5);
    const send = () => alice.sendAttachment('bob' as Username, { bytes: new Blob([file as Uint8Array<ArrayBuffer>]), name: 'locked.bin', mime: '', transfer: 't-lock' });
    await expect(send()).rejects.toMatchObject({ code: 'Unavailable' });
    await alice.locks.lockNow();
    host.down = false;
    await alice.locks.unlock(TEST_LOCK_PASS);
    const sent = await send();
    // The retry found the blob through the upload's note (the kept upload was dropped), and only
    // part 2 on went up again after the host's offset check.
    expect(log).toContain('where');
    await resumedAfterTwoParts(log, alice, bob, sent.id, 'locked.bin', file);
  });

  test('P46 an upload the lock drops while it runs stops with Locked before its next part, and a Retry takes it over where the host is', async () => {
    const log: string[] = [];
    const engines: { alice?: Engine } = {};
    const fault = {
      f: async (method: string, _path: string, forward: () => Promise<Response>) => {
        const res = await forward();
        // The lock comes as part 1's answer arrives (memory-secrets.ts drops the kept uploads).
        if (method === 'PUT' && puts(log).length === 2) forgetUnfinishedUploads(engines.alice!.ctx.vault);
        return res;
      }
    };
    const [a, bob] = await pair(log, fault);
    engines.alice = a;
    const file = bytes(4 * P + 5, 6);
    const send = () => a.sendAttachment('bob' as Username, { bytes: new Blob([file as Uint8Array<ArrayBuffer>]), name: 'mid.bin', mime: '', transfer: 't-mid' });
    await expect(send()).rejects.toMatchObject({ code: 'Locked' });
    // No part went up after the lock, though the next one was already sealed (the run stops first).
    expect(puts(log)).toEqual([0, P]);
    fault.f = async (_m: string, _p: string, forward: () => Promise<Response>) => forward();
    const sent = await send();
    expect(log.filter((l) => l === 'create')).toHaveLength(1);
    expect(same(await opened(bob, await fileKeyIn(bob, 'alice', 'mid.bin')), file)).toBe(true);
    await ownCopy(a, sent.id, file, log);
  });

  test('P46 Lock now while a part is on its way: the disconnect cuts the part off, the upload stops with Locked and asks nothing once locked; a Retry after unlocking takes it over', async () => {
    const log: string[] = [];
    const held = { on: false };
    let seen = { held: 0 };
    const alice = await user('alice', {
      appLockKdf: TEST_LOCK_KDF,
      wrap: (t) => {
        blobCalls(log, {})(t);
        // The third part's PUT waits for an answer that never comes until the request is aborted.
        seen = withholdFetch(t, (url, init) => held.on && init.method === 'PUT' && url.includes(`offset=${2 * P}`));
      }
    });
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.locks.enableLock(TEST_LOCK_PASS, 5);
    const file = bytes(3 * P + 77, 8);
    const send = () => alice.sendAttachment('bob' as Username, { bytes: new Blob([file as Uint8Array<ArrayBuffer>]), name: 'cut.bin', mime: '', transfer: 't-cut' });
    held.on = true;
    const first = send();
    first.catch(() => undefined);
    while (seen.held === 0) await new Promise((r) => setTimeout(r, 10));
    await alice.locks.lockNow();
    const asked = log.length;
    await expect(first).rejects.toMatchObject({ code: 'Locked' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(log.slice(asked), 'blob requests after the lock').toEqual([]);
    held.on = false;
    await alice.locks.unlock(TEST_LOCK_PASS);
    const sent = await send();
    expect(log.filter((l) => l === 'create')).toHaveLength(1);
    expect(puts(log).filter((o) => o < 2 * P)).toEqual([0, P]);
    expect(same(await opened(bob, await fileKeyIn(bob, 'alice', 'cut.bin')), file)).toBe(true);
    await ownCopy(alice, sent.id, file, log);
  });

  test('P45 P40 a host that serves the parts of a blob out of order is refused as Tampered and no bytes come back', async () => {
    const bobLog: string[] = [];
    const bobFault: { f?: Fault } = {};
    const [alice, bob] = await pair([], {}, bobLog, bobFault);
    const file = bytes(3 * MiB, 5);
    await alice.sendAttachment('bob' as Username, { bytes: file, name: 'order.bin', mime: '', transfer: 't1' });
    const id = await fileKeyIn(bob, 'alice', 'order.bin');
    // The ranges of parts 1 and 2 are answered with each other's bytes.
    bobFault.f = (_method, _path, forward, init) => {
      const range = (init.headers as Record<string, string> | undefined)?.Range ?? '';
      const swapped = range === `bytes=${MiB}-${2 * MiB - 1}` ? `bytes=${2 * MiB}-${3 * MiB - 1}` : range === `bytes=${2 * MiB}-${3 * MiB - 1}` ? `bytes=${MiB}-${2 * MiB - 1}` : range;
      return forward({ ...init, headers: { ...(init.headers as Record<string, string>), Range: swapped } });
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Tampered' });
    // Three parts in flight plus the one started when part 0 was opened; none after the failure
    // (tests/engine/attachments-download.test.ts checks the window and the aborts).
    expect(bobLog.filter((l) => l.startsWith('get ')).length).toBeLessThanOrEqual(4);
    bobFault.f = undefined;
    expect(same(await opened(bob, id), file)).toBe(true);
  });

  test('P40 an upload answered with a blob id that is not one, or an offset that is not a count, puts nothing where the host points', async () => {
    const log: string[] = [];
    const fault: { f?: Fault } = {};
    const [alice] = await pair(log, fault);
    const send = (transfer: string) => alice.sendAttachment('bob' as Username, { bytes: bytes(2 * MiB, 9), name: 'pointed.bin', mime: '', transfer });
    // The creation answered with a path instead of an id.
    fault.f = (method, path, forward) => (method === 'POST' && path === '/api/v1/blobs' ? Promise.resolve(new Response(JSON.stringify({ id: '../prekeys' }), { status: 201 })) : forward());
    await expect(send('t1')).rejects.toMatchObject({ code: 'DecodeFailed' });
    expect(puts(log)).toEqual([]);
    // A part answered with an offset that is not a count: the part is not taken as sent.
    fault.f = (method, _path, forward) => (method === 'PUT' ? forward().then(() => new Response(JSON.stringify({ received: 'all of it' }), { status: 200 })) : forward());
    await expect(send('t2')).rejects.toBeDefined();
    expect(await alice.listMessages('bob')).toHaveLength(0);
  });
});
