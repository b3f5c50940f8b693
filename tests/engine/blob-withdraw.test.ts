/**
 * A file deleted for everyone leaves the host as well as every browser (SECURITY.md P44, P45;
 * wire/blob-api.ts DELETE), through engines on the REAL host and its blob files on disk: the
 * sender's delete takes its blob out at once, 1:1 and in a group, even when no recipient ever
 * fetched it (and so never released it). A delete for me keeps the blob: the others may still
 * fetch it. A host out of reach when the delete is made costs nothing but the early removal: the
 * delete still stands and goes out, and the blob is left to the host's retention.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import type { HostHttpTransport } from '../../workers/engine/host-transport';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';
import { fileBytes } from './support';

const { real, user } = enginesOnRealHost('parley-withdraw-');
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

  test('P44 a host out of reach when the file is deleted: the delete stands and reaches bob; the blob is left to retention and nothing retries it', async () => {
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
    await eventually(() => expect(log).toEqual(['delete failed']));
    await eventually(async () => expect((await bob.listMessages('alice')).find((m) => m.id === atBob)).toMatchObject({ deleted: true }));
    expect(hostBlobs()).toHaveLength(1);
    state.down = false;
    await new Promise((r) => setTimeout(r, 300));
    expect(log).toEqual(['delete failed']);
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
