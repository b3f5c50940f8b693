/**
 * A download that stops part-way is resumed by the next open, through the engine and the REAL host
 * (workers/engine/attachments.ts openPointer, ranged-download.ts, storage/file-repo.ts FileResume;
 * README "Attachments (as built)"): the parts it opened stay in this browser's copy, the next open
 * (in this tab or after a reload) reads them back, checks them again and asks the host only for the
 * rest. Nothing is kept for a blob the host no longer has, one that fails a check (P45), or a
 * message deleted meanwhile (P44); a damaged kept part costs one fetch from the first byte, never a
 * wrong file.
 */
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { blobSize } from '../../src/lib/crypto/attachment';
import type { FilePlaceView } from '../../src/lib/vault/views';
import { Engine } from '../../workers/engine/engine';
import { EngineError } from '../../workers/engine/errors';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { messageOwner } from '../../workers/storage/file-repo';
import type { FilePart } from '../../workers/storage/schema';
import { MiB, bytes, countGets, opened, same, sentTo, type Gets, type PartFault } from './download-support';
import { enginesOnRealHost, eventually } from './real-host-support';
import { TEST_LOCK_KDF, TEST_LOCK_PASS } from '../support/app-lock-fixtures';

const { real, user } = enginesOnRealHost('parley-attach-resume-');

const starts = (g: Gets): number[] => g.log.filter((l) => l.startsWith('get ')).map((l) => Number(l.slice(4)) / MiB);
const every = (e: Engine, owner: string) => e.ctx.vault.db.getAllKeys('files', IDBKeyRange.bound([owner, -2], [owner, Number.MAX_SAFE_INTEGER])) as Promise<[string, number][]>;
const offsets = async (e: Engine, owner: string): Promise<number[]> => (await every(e, owner)).map(([, at]) => (at < 0 ? at : at / MiB));
const refusal = (status: number, code: string) => new Response(JSON.stringify({ error: { code, message: 'no' } }), { status });

/** Part `at` (in MiB) fails every try as `how`; the parts after it wait until the failure meets them. */
function failsAt(at: number, how: () => Response | never): PartFault {
  return async (start, forward) => (start === at * MiB ? how() : forward());
}

/** Alice sends Bob a 6 MiB + 5 file; Bob's first open stops at part 3 (503 on every try). */
async function stoppedAtPart3(seed: number, how: () => Response | never = () => refusal(503, 'Unavailable')) {
  const file = bytes(6 * MiB + 5, seed);
  const { bob, id, gets } = await sentTo(user, file, 'big.bin');
  gets.fault = failsAt(3, how);
  await expect(bob.openAttachment('alice', id, 'd')).rejects.toBeInstanceOf(EngineError);
  gets.fault = undefined;
  gets.log.length = 0;
  return { bob, id, file, gets, owner: messageOwner(id) };
}

describe('a download that stopped part-way is resumed (real host)', () => {
  const stops: [string, () => Response | never, string][] = [
    ['answered 503 on every try', () => refusal(503, 'Unavailable'), 'Unavailable'],
    ['unreachable on every try', () => { throw new EngineError('Unavailable', 'host unreachable'); }, 'Unavailable'],
    ["past this address's download limit (429)", () => refusal(429, 'RateLimited'), 'RateLimited']
  ];

  test.each(stops)('a part %s stops the open but keeps the parts before it; the next open asks the host only for the rest and opens exactly the file', async (_name, how, code) => {
    const file = bytes(6 * MiB + 5, 1);
    const { bob, id, gets } = await sentTo(user, file, 'big.bin');
    gets.fault = failsAt(3, how);
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code });
    // The FileResume row and parts 0–2, the ones opened before the stop; no mark.
    expect(await offsets(bob, messageOwner(id))).toEqual([-2, 0, 1, 2]);
    // The bubble's "…% downloaded": the kept parts' share of the blob.
    expect(await bob.attachmentHeld('alice' as Username, id)).toBeCloseTo((3 * MiB) / blobSize(file.length), 9);
    gets.fault = undefined;
    gets.log.length = 0;
    const progress: number[] = [];
    const off = bob.subscribe((e) => e.type === 'transfer' && e.transfer === 'r' && progress.push(e.done));
    const f = await bob.openAttachment('alice', id, 'r');
    off();
    expect(same(new Uint8Array(await (f.bytes as Blob).arrayBuffer()), file)).toBe(true);
    expect(starts(gets)).toEqual([3, 4, 5, 6]);
    // Progress runs from the start: the kept parts count as they are opened again.
    expect(progress[0]).toBe(MiB);
    // Whole now: marked, the resume row gone, and the next open asks the host nothing.
    expect(await offsets(bob, messageOwner(id))).toEqual([-1, 0, 1, 2, 3, 4, 5, 6]);
    expect(await bob.attachmentHeld('alice' as Username, id)).toBe(1);
    gets.log.length = 0;
    expect(same(await opened(bob, id), file)).toBe(true);
    expect(starts(gets)).toEqual([]);
  });

  test('P46 a download the vault locks under stops with Locked and asks the host nothing once locked; the open after unlocking opens exactly the file', async () => {
    const file = bytes(6 * MiB + 5, 9);
    const { bob, id, gets } = await sentTo((name, o) => user(name, { ...o, appLockKdf: TEST_LOCK_KDF }), file, 'big.bin');
    await bob.locks.enableLock(TEST_LOCK_PASS, 5);
    const lockedAtStart: boolean[] = [];
    // The fourth request (made once part 0 arrived) waits for the lock, then goes.
    gets.fault = async (start, forward) => {
      lockedAtStart.push(bob.ctx.vault.locked === true);
      if (start === 3 * MiB) await bob.locks.lockNow();
      return forward();
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Locked' });
    expect(bob.ctx.vault.locked).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    // Requests were made until the lock (the fourth waited for it), none once it was locked, and
    // not all seven parts were asked for.
    expect(lockedAtStart.length).toBeGreaterThanOrEqual(4);
    expect(lockedAtStart.length).toBeLessThan(7);
    expect(lockedAtStart).not.toContain(true);
    gets.fault = undefined;
    gets.log.length = 0;
    await bob.locks.unlock(TEST_LOCK_PASS);
    const f = await bob.openAttachment('alice', id, 'r');
    expect(same(new Uint8Array(await (f.bytes as Blob).arrayBuffer()), file)).toBe(true);
  });

  test('the kept parts survive a reload (the start-up sweep leaves a download alone), and the reopened vault resumes after them', async () => {
    const { bob, id, file, owner } = await stoppedAtPart3(2);
    const dbName = bob.ctx.vault.name;
    await bob.close();
    const gets: Gets = { active: 0, max: 0, log: [], aborted: [] };
    const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
    countGets(gets)(transport);
    const again = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50 });
    try {
      expect(await offsets(again, owner)).toEqual([-2, 0, 1, 2]);
      expect(same(await opened(again, id), file)).toBe(true);
      expect(starts(gets)).toEqual([3, 4, 5, 6]);
    } finally {
      await again.close();
    }
  });

  test('a tab killed in the middle of a download leaves a resumable copy: a new tab on the same vault asks only for what was not opened', async () => {
    const file = bytes(6 * MiB + 5, 10);
    const { bob, id, gets } = await sentTo(user, file, 'big.bin');
    const owner = messageOwner(id);
    // From part 3 on nothing comes back: the tab is frozen there, as one being killed.
    let thaw = () => undefined as void;
    const thawed = new Promise<void>((r) => (thaw = r));
    gets.fault = async (start, forward) => {
      if (start >= 3 * MiB) {
        await thawed;
        return refusal(503, 'Unavailable');
      }
      return forward();
    };
    const opening = bob.openAttachment('alice', id, 'd').catch((e: unknown) => e);
    await eventually(async () => expect(await offsets(bob, owner)).toEqual([-2, 0, 1, 2]));
    // A new tab: its own engine on the same vault; its start-up sweep runs (no lock is shared).
    const again: Gets = { active: 0, max: 0, log: [], aborted: [] };
    const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
    countGets(again)(transport);
    const tab = await Engine.open({ transport, dbName: bob.ctx.vault.name, locks: memoryLocks(), retryMs: 50 });
    try {
      expect(same(await opened(tab, id), file)).toBe(true);
      expect(starts(again)).toEqual([3, 4, 5, 6]);
    } finally {
      await tab.close();
      thaw();
      await opening;
    }
  });

  test('P45 a kept part damaged on disk fails its check again: everything is dropped and the file fetched once from the first byte, never handed out wrong', async () => {
    const { bob, id, file, gets, owner } = await stoppedAtPart3(3);
    const row = (await bob.ctx.vault.db.get('files', [owner, MiB])) as FilePart;
    row.bytes[1234] = row.bytes[1234]! ^ 1;
    await bob.ctx.vault.db.put('files', row);
    expect(same(await opened(bob, id), file)).toBe(true);
    // The damaged part failed before the host was asked anything; then one clean download.
    expect(starts(gets)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await offsets(bob, owner)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6]);
  });

  test('a kept part missing (a gap) is noticed: the parts after the gap are dropped and the download resumes at the gap', async () => {
    const { bob, id, file, gets, owner } = await stoppedAtPart3(4);
    await bob.ctx.vault.db.delete('files', [owner, MiB]);
    expect(same(await opened(bob, id), file)).toBe(true);
    expect(starts(gets)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('P45 P40 a host that changes a part after the resume point is refused as Tampered after one clean try, and nothing is kept', async () => {
    const { bob, id, gets, owner } = await stoppedAtPart3(5);
    gets.fault = async (start, forward) => {
      if (start !== 4 * MiB) return forward();
      const b = new Uint8Array(await (await forward()).arrayBuffer());
      b[99] = b[99]! ^ 1;
      return new Response(b, { status: 206 });
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Tampered' });
    // The resumed try from part 3, then one from the first byte; each stopped at the changed part 4.
    const s = starts(gets);
    expect(s.slice(0, 2)).toEqual([3, 4]);
    expect(s.filter((x) => x === 0)).toHaveLength(1);
    expect(s.filter((x) => x === 4)).toHaveLength(2);
    expect(await offsets(bob, owner)).toEqual([]);
  });

  test('a blob the host no longer has (404 at the resume point) drops the kept parts: FileGone, nothing left', async () => {
    const { bob, id, gets, owner } = await stoppedAtPart3(6);
    gets.fault = async () => refusal(404, 'NotFound');
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'FileGone' });
    // Asked from the resume point on (the parts in flight with it), never from the first byte.
    expect(starts(gets)[0]).toBe(3);
    expect(Math.min(...starts(gets))).toBe(3);
    expect(await offsets(bob, owner)).toEqual([]);
  });

  test('P44 deleting the message takes the kept parts with it', async () => {
    const { bob, id, owner } = await stoppedAtPart3(7);
    await bob.deleteForMe('alice' as Username, id);
    expect(await offsets(bob, owner)).toEqual([]);
  });

  test('kept parts count in Settings → Storage, and removing them frees exactly them; the next open then starts from the first byte', async () => {
    const { bob, id, file, gets } = await stoppedAtPart3(8);
    const chat: FilePlaceView = { kind: 'chat', username: 'alice' as Username };
    expect(await bob.fileStorage()).toEqual([{ place: chat, files: 1, bytes: 3 * MiB }]);
    expect(await bob.removeFiles(chat)).toEqual({ files: 1, bytes: 3 * MiB });
    expect(await bob.fileStorage()).toEqual([]);
    expect(same(await opened(bob, id), file)).toBe(true);
    expect(starts(gets)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test('an open stopped while the message was being deleted keeps nothing', async () => {
    const file = bytes(5 * MiB, 9);
    const { bob, id, gets } = await sentTo(user, file, 'gone.bin');
    // Part 3's request deletes the message; parts 1 and 2 arrive (and are written) only after that.
    let deleted = () => undefined as void;
    let tried = 0;
    const gone = new Promise<void>((r) => (deleted = r));
    gets.fault = async (start, forward) => {
      if (start === MiB || start === 2 * MiB) await gone;
      if (start !== 3 * MiB) return forward();
      if (!tried++) await bob.deleteForMe('alice' as Username, id);
      deleted();
      return refusal(503, 'Unavailable');
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(tried).toBe(3);
    await eventually(async () => expect(await offsets(bob, messageOwner(id))).toEqual([]));
  });
});
