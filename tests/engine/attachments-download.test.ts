/**
 * Downloads with several ranged parts in flight, through the engine and the REAL host
 * (workers/engine/blob-stream.ts; README "Attachments (as built)"): up to three part requests at
 * once, opened strictly in order, never more than three parts ahead of what was opened; a host
 * that changes, truncates, lengthens, duplicates or reorders one part while others are in flight
 * is refused as Tampered (P45, P40); a part that fails on the way (5xx, cut off, unreachable) is
 * asked for again, a refusal that cannot change is not; a failure part-way aborts the requests
 * still in flight, none outlives the call and none rejects unhandled.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { EngineError } from '../../workers/engine/errors';
import { DOWNLOAD_PART_TRIES } from '../../workers/engine/ranged-download';
import { MiB, bytes, opened, same, sentTo, type Gets, type PartFault } from './download-support';
import { enginesOnRealHost } from './real-host-support';

const { user } = enginesOnRealHost('parley-attach-down-');
const sent = (file: Uint8Array, name: string) => sentTo(user, file, name);

/** Answers `res` with its body changed by `edit`. */
async function edited(res: Response, edit: (b: Uint8Array) => Uint8Array): Promise<Response> {
  return new Response(edit(new Uint8Array(await res.arrayBuffer())) as Uint8Array<ArrayBuffer>, { status: res.status, headers: res.headers });
}

const rangeOf = (init: RequestInit, start: number, end: number): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), Range: `bytes=${start}-${end - 1}` } });

/** Resolves after `ms`, or rejects as fetch does when `signal` aborts first. */
function held(signal: AbortSignal | null | undefined, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DOMException('aborted', 'AbortError'));
    });
  });
}

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** After the call settled: nothing still in flight, nothing started later, nothing rejected unhandled. */
async function nothingLeft(gets: Gets): Promise<void> {
  expect(gets.active).toBe(0);
  const n = gets.log.length;
  await new Promise((r) => setTimeout(r, 150));
  expect(gets.log.length).toBe(n);
  expect(unhandled).toEqual([]);
}

describe('attachment downloads with parts in flight (real host)', () => {
  test('P45 a 6 MiB file is fetched with three ranged parts in flight, never more, never over 3 MiB ahead of what was opened, and opens as exactly its bytes', async () => {
    const file = bytes(6 * MiB + 999, 1);
    const { bob, id, gets } = await sent(file, 'many.bin');
    const got = await opened(bob, id);
    expect(same(got, file)).toBe(true);
    expect(gets.max).toBe(3);
    const starts = gets.log.filter((l) => l.startsWith('get ')).map((l) => Number(l.slice(4)));
    // Every part once, in order of the blob.
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 6].map((k) => k * MiB));
    // Memory stays bounded: a request starts at most three parts past the bytes already opened.
    let openedTo = 0;
    for (const l of gets.log) {
      if (l.startsWith('opened ')) openedTo = Number(l.slice(7));
      if (l.startsWith('get ')) expect(Number(l.slice(4)) - openedTo).toBeLessThanOrEqual(3 * MiB);
    }
    await nothingLeft(gets);
  });

  const faults: [string, PartFault][] = [
    ['one byte of part 2 changed', async (start, forward) => (start === 2 * MiB ? edited(await forward(), (b) => ((b[77] = b[77]! ^ 1), b)) : forward())],
    ['part 1 cut one byte short', async (start, forward) => (start === MiB ? edited(await forward(), (b) => b.subarray(0, b.length - 1)) : forward())],
    ['part 1 one byte longer (the next byte of the blob)', (start, forward, init) => forward(start === MiB ? rangeOf(init, MiB, 2 * MiB + 1) : init)],
    ['part 2 answered with part 1 again (duplicated)', (start, forward, init) => forward(start === 2 * MiB ? rangeOf(init, MiB, 2 * MiB) : init)],
    ['parts 1 and 2 swapped (reordered)', (start, forward, init) => forward(start === MiB ? rangeOf(init, 2 * MiB, 3 * MiB) : start === 2 * MiB ? rangeOf(init, MiB, 2 * MiB) : init)],
    ['part 1 answered with the range ignored (the whole blob)', (start, forward, init) => forward(start === MiB ? { ...init, headers: { ...(init.headers as Record<string, string>), Range: 'bytes=0-' } } : init)],
    ['the blob cut after part 2 (416 for part 3)', async (start, forward) => (start >= 3 * MiB ? new Response(JSON.stringify({ error: { code: 'BadRequest', message: 'range' } }), { status: 416 }) : forward())]
  ];

  test.each(faults)('P45 P40 a host whose answers are changed while other parts are in flight (%s) is refused as Tampered; nothing is handed out and no request outlives the call', async (_name, fault) => {
    const file = bytes(5 * MiB, 2);
    const { bob, id, gets } = await sent(file, 'bad.bin');
    gets.fault = fault;
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Tampered' });
    await nothingLeft(gets);
    // The blob itself is intact: without the fault it opens.
    gets.fault = undefined;
    expect(same(await opened(bob, id), file)).toBe(true);
  });

  const failures: [string, number | 'network', string][] = [
    ['answers 500', 500, 'Unavailable'],
    ['answers 404 (the blob was swept)', 404, 'FileGone'],
    ['answers 429 (this address downloaded too much)', 429, 'RateLimited'],
    ['cannot be reached', 'network', 'Unavailable']
  ];

  test.each(failures)('a part whose request fails (%s) while later parts are in flight aborts those requests, and the call fails only after they settled', async (_name, how, code) => {
    const file = bytes(5 * MiB, 3);
    const { bob, id, gets } = await sent(file, 'cut.bin');
    gets.fault = async (start, forward, init) => {
      if (start === MiB) {
        if (how === 'network') throw new EngineError('Unavailable', 'host unreachable');
        return new Response(JSON.stringify({ error: { code: how === 404 ? 'NotFound' : how === 429 ? 'RateLimited' : 'Internal', message: 'no' } }), { status: how });
      }
      // Later parts wait (up to 5 s) unless aborted, so the failure meets them in flight.
      if (start > MiB) await held(init.signal, 5000);
      return forward();
    };
    const t0 = Date.now();
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code });
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(gets.aborted).toContain(2 * MiB);
    // A host that cannot be reached or fails is asked again (DOWNLOAD_PART_TRIES in all); a refusal
    // that cannot change is not.
    expect(gets.log.filter((l) => l === `get ${MiB}`).length).toBe(code === 'Unavailable' ? DOWNLOAD_PART_TRIES : 1);
    await nothingLeft(gets);
  });

  /** A 206 whose body stops after `n` bytes, as a connection cut half way reads in fetch. */
  const cutAfter = (n: number) =>
    new Response(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(n)), c.error(new TypeError('terminated'))) }), { status: 206 });
  const transient: [string, () => Response | never][] = [
    ['answered 503', () => new Response(JSON.stringify({ error: { code: 'Unavailable', message: 'draining' } }), { status: 503 })],
    ['cut off half way', () => cutAfter(300_000)],
    ['unreachable', () => { throw new EngineError('Unavailable', 'host unreachable'); }]
  ];

  test.each(transient)('a part whose first request fails on the way (%s) is asked for again after a pause and the file opens whole', async (_name, failure) => {
    const file = bytes(4 * MiB + 5, 5);
    const { bob, id, gets } = await sent(file, 'again.bin');
    const tries: number[] = [];
    gets.fault = async (start, forward) => {
      if (start !== MiB) return forward();
      tries.push(Date.now());
      return tries.length === 1 ? failure() : forward();
    };
    expect(same(await opened(bob, id), file)).toBe(true);
    expect(tries.length).toBe(2);
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(300);
    // Every other part once.
    expect(gets.log.filter((l) => l.startsWith('get ')).length).toBe(6);
    await nothingLeft(gets);
  });

  test('a download given up while a part waits to be asked again asks nothing more', async () => {
    const file = bytes(5 * MiB, 6);
    const { bob, id, gets } = await sent(file, 'gone.bin');
    gets.fault = async (start, forward, init) => {
      // Part 2 fails on the way and waits for its retry; part 1 then turns out gone for good.
      if (start === 2 * MiB) throw new EngineError('Unavailable', 'host unreachable');
      if (start === MiB) {
        await held(init.signal, 100);
        return new Response(JSON.stringify({ error: { code: 'NotFound', message: 'no such blob' } }), { status: 404 });
      }
      return forward();
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'FileGone' });
    await nothingLeft(gets);
    await new Promise((r) => setTimeout(r, 600)); // past part 2's pause
    expect(gets.log.filter((l) => l === `get ${2 * MiB}`).length).toBe(1);
  });

  test('a later part that fails while an earlier one is still on its way is reported once that earlier part is opened, and its rejection is never unhandled', async () => {
    const file = bytes(5 * MiB, 4);
    const { bob, id, gets } = await sent(file, 'late.bin');
    gets.fault = async (start, forward, init) => {
      if (start === 2 * MiB) throw new EngineError('Unavailable', 'host unreachable');
      // Part 1 arrives well after part 2 failed.
      if (start === MiB) await held(init.signal, 300);
      return forward();
    };
    await expect(bob.openAttachment('alice', id, 'd')).rejects.toMatchObject({ code: 'Unavailable' });
    // Parts 0 and 1 were opened before the failure surfaced: strictly in order.
    expect(gets.log.filter((l) => l.startsWith('opened '))).toEqual([`opened ${MiB}`, `opened ${2 * MiB}`]);
    await nothingLeft(gets);
  });
});
