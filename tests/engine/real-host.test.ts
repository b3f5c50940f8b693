/**
 * The engine against the REAL host (src/host/server.ts) on loopback: HTTP API, WebSocket push,
 * SQLite mailbox. Alice and Bob register, find each other, talk both ways; Bob offline receives
 * on reconnect; a restarted host still delivers what was not acked.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createHost } from '../../src/host/server';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { syncFromBlob } from '../../workers/engine/group-sync';
import { eventually, realHostPerTest, texts } from './real-host-support';
import { fileBytes, statusOf } from './support';

let engines: Engine[] = [];
let n = 0;

// Lookups past the per-address limit: proofs of work of 12 bits (fast here), one a minute.
const real = realHostPerTest(
  'parley-engine-',
  async () => {
    for (const e of engines) await e.close();
    engines = [];
  },
  { limits: { discoveryWorkBits: 12, discoveryWorkPerMinute: 1 } }
);

interface Sent {
  method: string;
  path: string;
  authorization: string | null;
  credentials: RequestCredentials | undefined;
}

/** A fetch that notes what each request carried (headers and credentials mode) before sending it. */
function recordingFetch(requests: Sent[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push({ method: init?.method ?? 'GET', path: url.pathname, authorization: new Headers(init?.headers).get('authorization'), credentials: init?.credentials });
    return globalThis.fetch(input, init);
  };
}

async function open(name: string, dbName = `real-${name}-${process.pid}-${n++}`, fetchImpl?: typeof fetch): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor, fetchImpl);
  const e = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  return e;
}

describe('engine against the real host', () => {
  test('alice and bob register, find each other and talk both ways with receipts', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    expect(await alice.checkUsername('alice')).toEqual({ kind: 'available' });
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    await expect((await open('mallory')).createAccount('bob')).rejects.toMatchObject({ code: 'UsernameTaken' });
    alice.connect();
    bob.connect();
    await expect(alice.lookupUser('nobody')).rejects.toMatchObject({ code: 'NoSuchUser' });
    await alice.lookupUser('bob');
    const m = await alice.sendText('bob', 'hello over the wire');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello over the wire']));
    await bob.sendText('alice', 'hello back');
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['hello over the wire', 'hello back']));
    await eventually(async () => expect(statusOf(await alice.listMessages('bob'), m.id)).toBe('delivered'));
    await bob.markRead('alice');
    await eventually(async () => expect(statusOf(await alice.listMessages('bob'), m.id)).toBe('read'));
    expect((await alice.contactInfo('bob')).safetyNumber).toBe((await bob.contactInfo('alice')).safetyNumber);
  });

  test('P49 finding someone by name sends no credential: the lookup is by hash, the bundle waits for the first message', async () => {
    const requests: Sent[] = [];
    const alice = await open('alice', undefined, recordingFetch(requests));
    const bob = await open('bob');
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    alice.connect();
    bob.connect();
    requests.length = 0;
    await alice.lookupUser('bob');
    // Only lookups and bundle fetches are judged: the connected engine may refill prekeys meanwhile.
    const asked = requests.filter((r) => /^\/api\/v1\/(discovery|bundles)\//.test(r.path));
    expect(asked.map((r) => r.path.replace(/[^/]+$/, '<last>'))).toEqual(['/api/v1/discovery/<last>']);
    expect(asked[0]!.authorization).toBeNull();
    expect(asked[0]!.credentials).toBe('omit');
    expect(asked[0]!.path).not.toContain('bob');
    await bob.lookupUser('alice');
    expect((await alice.contactInfo('bob')).safetyNumber).toBe((await bob.contactInfo('alice')).safetyNumber);
    await alice.sendText('bob', 'first');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first']));
    expect(requests.filter((r) => r.path.startsWith('/api/v1/bundles/')).map((r) => r.authorization?.startsWith('Bearer '))).toEqual([true]);
  });

  test('P41 what the host serves by capability is fetched as nobody: attachment downloads and group blob reads and writes carry no bearer and no credentials, uploads carry the account', async () => {
    const aliceSent: Sent[] = [];
    const bobSent: Sent[] = [];
    const alice = await open('alice', undefined, recordingFetch(aliceSent));
    const bob = await open('bob', undefined, recordingFetch(bobSent));
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    alice.connect();
    bob.connect();
    await alice.lookupUser('bob');
    await bob.lookupUser('alice');
    const file = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff);
    await alice.sendAttachment('bob', { bytes: file, name: 'notes.bin', mime: '', transfer: 'u1' });
    let id = '';
    await eventually(async () => {
      const m = (await bob.listMessages('alice')).find((x) => x.kind === 'text' && x.attachment?.name === 'notes.bin');
      expect(m).toBeDefined();
      id = m!.id;
    });
    const opened = await bob.openAttachment('alice', id, 'd1');
    expect(Buffer.from(await fileBytes(opened.bytes)).equals(file)).toBe(true);
    const groupId = await alice.createGroup('Climbing', '', ['bob']);
    await eventually(async () => expect((await bob.groupInfo(groupId)).members).toHaveLength(2));
    expect(await syncFromBlob(bob.ctx, groupId)).not.toBe('unavailable');

    const blobs = (sent: Sent[]) => sent.filter((r) => r.path.startsWith('/api/v1/blobs') || r.path.startsWith('/api/v1/groups/blobs/'));
    const uploads = blobs(aliceSent).filter((r) => r.path.startsWith('/api/v1/blobs'));
    expect(uploads.length).toBeGreaterThan(0);
    for (const r of uploads) expect([r.method, r.authorization?.startsWith('Bearer ')]).toEqual([r.method, true]);
    const nobody = [...blobs(bobSent), ...blobs(aliceSent).filter((r) => r.path.startsWith('/api/v1/groups/blobs/'))];
    expect(nobody.map((r) => `${r.method} ${r.path.split('/').slice(0, 4).join('/')}`).sort()).toEqual(expect.arrayContaining(['GET /api/v1/blobs', 'GET /api/v1/groups', 'PUT /api/v1/groups']));
    for (const r of nobody) expect({ ...r, path: r.method }).toEqual({ method: r.method, path: r.method, authorization: null, credentials: 'omit' });
  });

  test('P40 past the per-address limit a lookup pays with proof of work; once the host takes no more, it is RateLimited (the screen says to wait)', async () => {
    const requests: { path: string; work: string | null; status?: number }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const r: (typeof requests)[number] = { path: url.pathname, work: new Headers(init?.headers).get('x-parley-work') };
      requests.push(r);
      const res = await globalThis.fetch(input, init);
      r.status = res.status;
      return res;
    };
    const alice = await open('alice', undefined, recording);
    await alice.createAccount('alice');
    const outcomes: string[] = [];
    for (let i = 0; i < 32; i++) outcomes.push(await alice.lookupUser(`nobody${i}`).then(() => 'found', (e: { code: string }) => e.code));
    // 30 free, the 31st admitted by its proof (one a minute here), the 32nd refused with its proof.
    expect(outcomes).toEqual([...Array(31).fill('NoSuchUser'), 'RateLimited']);
    const lookups = requests.filter((r) => r.path.startsWith('/api/v1/discovery/'));
    expect(lookups.slice(30).map((r) => [r.status, r.work !== null])).toEqual([
      [429, false],
      [200, true],
      [429, false],
      [429, true]
    ]);
  });

  test('bob offline receives everything in order after reconnecting, even across a host restart', async () => {
    const alice = await open('alice');
    const bobDb = `real-bob-${process.pid}-${n++}`;
    let bob = await open('bob', bobDb);
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    alice.connect();
    await alice.lookupUser('bob');
    for (let i = 0; i < 8; i++) await alice.sendText('bob', `m${i}`);
    await eventually(async () => expect((await alice.listMessages('bob')).every((x) => x.kind === 'text' && x.status === 'sent')).toBe(true));

    // Host restart with the same data directory; bob's tab reloads.
    await bob.close();
    engines = engines.filter((e) => e !== bob);
    const port = real.host!.port;
    await real.host!.close();
    real.host = await createHost({ port, dataDir: real.dataDir });
    bob = await open('bob', bobDb);
    expect(await bob.account()).toEqual({ username: 'bob' });
    bob.connect();
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(Array.from({ length: 8 }, (_, i) => `m${i}`)));
  });
});
