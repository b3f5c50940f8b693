/**
 * Bob's ranged downloads as a test sees them, through the engine and the REAL host: every GET
 * counted while in flight, single parts faulted on demand (tests/engine/attachments-download,
 * attachments-resume).
 */
import { expect } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import type { Engine } from '../../workers/engine/engine';
import type { HostHttpTransport } from '../../workers/engine/host-transport';
import { eventually, type EngineOnHostOptions } from './real-host-support';

export const MiB = 1024 * 1024;

export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 7 + (i >>> 11)) & 0xff;
  return out;
}

export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** How the test host answers one part: `forward` asks the real host (with other init, e.g. another range). */
export type PartFault = (start: number, forward: (init?: RequestInit) => Promise<Response>, init: RequestInit) => Promise<Response>;

/** Bob's ranged GETs as the transport sees them. */
export interface Gets {
  active: number;
  max: number;
  /** `get <start>`, `done <start>` and `opened <bytes>` (the engine's progress) in the order they happened. */
  log: string[];
  /** Starts of requests whose signal was aborted while they were in flight. */
  aborted: number[];
  fault?: PartFault;
}

/**
 * Wraps the transport so every ranged GET counts as in flight until its whole body is in (the
 * wrapper reads it), and a test can fault single parts.
 */
export function countGets(g: Gets) {
  return (transport: HostHttpTransport) => {
    // Downloads go as nobody (P41): anonymousFetch, never authedFetch.
    const anonymousFetch = transport.anonymousFetch.bind(transport);
    transport.anonymousFetch = async (path, init = {}) => {
      const range = (init.headers as Record<string, string> | undefined)?.Range;
      if (!path.startsWith('/api/v1/blobs/') || !range) return anonymousFetch(path, init);
      const start = Number(/^bytes=(\d+)-/.exec(range)![1]);
      g.active++;
      g.max = Math.max(g.max, g.active);
      g.log.push(`get ${start}`);
      const onAbort = () => g.aborted.push(start);
      init.signal?.addEventListener('abort', onAbort);
      try {
        const forward = (i: RequestInit = init) => anonymousFetch(path, i);
        const res = await (g.fault ? g.fault(start, forward, init) : forward());
        let body: ArrayBuffer;
        try {
          body = await res.arrayBuffer();
        } catch (e) {
          // A body cut off: as fetch does, the answer came and reading it fails.
          return new Response(new ReadableStream({ start: (c) => c.error(e) }), { status: res.status, headers: res.headers });
        }
        return new Response(body, { status: res.status, headers: res.headers });
      } finally {
        init.signal?.removeEventListener('abort', onAbort);
        g.active--;
        g.log.push(`done ${start}`);
      }
    };
  };
}

/** Alice sends `file` to Bob; answers Bob's engine, the message id and Bob's GET record. */
export async function sentTo(user: (name: string, o?: EngineOnHostOptions) => Promise<Engine>, file: Uint8Array, name: string): Promise<{ bob: Engine; id: string; gets: Gets }> {
  const gets: Gets = { active: 0, max: 0, log: [], aborted: [] };
  const alice = await user('alice');
  const bob = await user('bob', { wrap: countGets(gets) });
  await alice.lookupUser('bob');
  await alice.sendAttachment('bob' as Username, { bytes: file, name, mime: '', transfer: 't1' });
  let id = '';
  await eventually(async () => {
    const m = (await bob.listMessages('alice')).find((x) => x.kind === 'text' && x.attachment?.name === name);
    expect(m).toBeDefined();
    id = m!.id;
  });
  bob.subscribe((e) => e.type === 'transfer' && e.transfer === 'd' && gets.log.push(`opened ${e.done}`));
  return { bob, id, gets };
}

export async function opened(bob: Engine, id: string): Promise<Uint8Array> {
  const f = await bob.openAttachment('alice', id, 'd');
  return f.bytes instanceof Blob ? new Uint8Array(await f.bytes.arrayBuffer()) : f.bytes;
}

