/**
 * Manage storage (workers/storage/file-usage.ts; README "Attachments"), through engines on the REAL
 * host: what each conversation's file copies take, and removing one conversation's copies frees
 * exactly those parts while its messages stay. A removed file the host still holds is fetched,
 * checked and kept again; one it no longer holds answers FileRemoved, not FileGone, every time;
 * the removed mark goes with its message (P44). Groups count as their own conversation.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { blobSize } from '../../src/lib/crypto/attachment';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import type { Engine } from '../../workers/engine/engine';
import type { HostHttpTransport } from '../../workers/engine/host-transport';
import { groupOwner, messageOwner } from '../../workers/storage/file-repo';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import type { FilePlaceView } from '../../src/lib/vault/views';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';
import { fileBytes } from './support';

const { real, user } = enginesOnRealHost('parley-storage-');

const file = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 17 + seed) & 0xff);
const blobs = () => readdirSync(join(real.dataDir, BLOBS_DIR));
const rowsOf = (e: Engine, owner: string) => e.ctx.vault.db.count('files', IDBKeyRange.bound([owner, -1], [owner, Number.MAX_SAFE_INTEGER]));
const chat = (username: string): FilePlaceView => ({ kind: 'chat', username: username as Username });

/** Counts the blob downloads and releases an engine makes; releases fail while `state.failRelease`. */
function blobCalls(log: string[], state = { failRelease: false }) {
  return (transport: HostHttpTransport) => {
    const inner = transport.anonymousFetch.bind(transport);
    transport.anonymousFetch = async (path, init = {}) => {
      if (!path.startsWith('/api/v1/blobs/')) return inner(path, init);
      if (path.endsWith('/release') && state.failRelease) {
        log.push('release 503');
        return new Response('{}', { status: 503 });
      }
      const res = await inner(path, init);
      log.push(`${path.endsWith('/release') ? 'release' : 'get'} ${res.status}`);
      return res;
    };
  };
}

async function open(e: Engine, peer: string, id: string): Promise<Uint8Array> {
  return fileBytes((await e.openAttachment(peer, id, 't')).bytes);
}

describe('Manage storage: file copies per conversation', () => {
  test('lists each conversation largest first; removing one frees exactly its copies, the messages stay, and a file the host no longer has answers FileRemoved', async () => {
    const log: string[] = [];
    const alice = await user('alice');
    const carol = await user('carol');
    const bob = await user('bob', { wrap: blobCalls(log) });
    await alice.lookupUser('bob');
    await carol.lookupUser('bob');
    const a1 = file(300_000, 1);
    const a2 = file(50_000, 2);
    const c1 = file(1_500_000, 3);
    const sentA1 = await alice.sendAttachment('bob' as Username, { bytes: a1, name: 'a1.bin', mime: '', transfer: 't' });
    await alice.sendAttachment('bob' as Username, { bytes: a2, name: 'a2.bin', mime: '', transfer: 't' });
    await carol.sendAttachment('bob' as Username, { bytes: c1, name: 'c1.bin', mime: '', transfer: 't' });
    const ids = { a1: await fileKeyIn(bob, 'alice', 'a1.bin'), a2: await fileKeyIn(bob, 'alice', 'a2.bin'), c1: await fileKeyIn(bob, 'carol', 'c1.bin') };
    for (const [peer, id] of [['alice', ids.a1], ['alice', ids.a2], ['carol', ids.c1]] as const) await open(bob, peer, id);
    // Every recipient released: the host holds none of the three any more.
    await eventually(() => expect(blobs()).toEqual([]));

    const aliceBytes = blobSize(300_000) + blobSize(50_000);
    expect(await bob.fileStorage()).toEqual([
      { place: chat('carol'), files: 1, bytes: blobSize(1_500_000) },
      { place: chat('alice'), files: 2, bytes: aliceBytes }
    ]);
    // The sender keeps its own copies too.
    expect(await alice.fileStorage()).toEqual([{ place: chat('bob'), files: 2, bytes: aliceBytes }]);

    expect(await bob.removeFiles(chat('alice'))).toEqual({ files: 2, bytes: aliceBytes });
    expect(await bob.fileStorage()).toEqual([{ place: chat('carol'), files: 1, bytes: blobSize(1_500_000) }]);
    // Only the mark is left of each removed copy; carol's copy is whole and still opens from here.
    expect(await rowsOf(bob, messageOwner(ids.a1))).toBe(1);
    expect(await rowsOf(bob, messageOwner(ids.a2))).toBe(1);
    log.length = 0;
    expect(bytesEqual(await open(bob, 'carol', ids.c1), c1)).toBe(true);
    expect(log).toEqual([]);
    // The messages stay, with their files named.
    expect((await bob.listMessages('alice')).map((m) => ('attachment' in m ? m.attachment?.name : undefined))).toEqual(['a1.bin', 'a2.bin']);
    // Removing again frees nothing.
    expect(await bob.removeFiles(chat('alice'))).toEqual({ files: 0, bytes: 0 });

    // The host no longer has a1: opening asks it, and says the user removed the file here, every time.
    await expect(bob.openAttachment('alice', ids.a1, 't')).rejects.toMatchObject({ code: 'FileRemoved' });
    await expect(bob.openAttachment('alice', ids.a1, 't')).rejects.toMatchObject({ code: 'FileRemoved' });
    expect(log).toEqual(['get 404', 'get 404']);
    // The sender's side works the same.
    await alice.removeFiles(chat('bob'));
    await expect(alice.openAttachment('bob', sentA1.id, 't')).rejects.toMatchObject({ code: 'FileRemoved' });

    // P44: the mark goes with its message.
    await bob.deleteForMe('alice', ids.a1);
    expect(await rowsOf(bob, messageOwner(ids.a1))).toBe(0);
    await bob.deleteForMe('alice', ids.a2);
    await bob.deleteForMe('carol', ids.c1);
    expect(await bob.ctx.vault.db.count('files')).toBe(0);
  });

  test('a removed file the host still holds is fetched, checked and kept again, then released', async () => {
    const log: string[] = [];
    const state = { failRelease: true };
    const alice = await user('alice');
    const bob = await user('bob', { wrap: blobCalls(log, state) });
    await alice.lookupUser('bob');
    const bytes = file(2_500_000, 5);
    await alice.sendAttachment('bob' as Username, { bytes, name: 'big.bin', mime: '', transfer: 't' });
    const id = await fileKeyIn(bob, 'alice', 'big.bin');
    expect(bytesEqual(await open(bob, 'alice', id), bytes)).toBe(true);
    await eventually(() => expect(log).toContain('release 503'));
    expect(blobs()).toHaveLength(1);

    expect(await bob.removeFiles(chat('alice'))).toEqual({ files: 1, bytes: blobSize(2_500_000) });
    expect(await bob.fileStorage()).toEqual([]);
    state.failRelease = false;
    log.length = 0;
    expect(bytesEqual(await open(bob, 'alice', id), bytes)).toBe(true);
    expect(log.filter((l) => l === 'get 206' || l === 'get 200')).toHaveLength(3);
    expect(await bob.fileStorage()).toEqual([{ place: chat('alice'), files: 1, bytes: blobSize(2_500_000) }]);
    await eventually(() => expect(blobs()).toEqual([]));
    // The host drops the blob before our release's answer is recorded here: wait for the record.
    await eventually(async () => expect(await bob.ctx.vault.db.get('files', [messageOwner(id), -1])).toMatchObject({ released: true }));
    // Kept again: the next open reads the copy and asks the host nothing.
    log.length = 0;
    expect(bytesEqual(await open(bob, 'alice', id), bytes)).toBe(true);
    expect(log).toEqual([]);
  });

  test("a group's copies count as the group's, and are removed as one", async () => {
    const ann = await user('ann');
    const ben = await user('ben');
    const id = await ann.createGroup('Trip', '', ['ben']);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    await ann.sendGroupAttachment(id, { bytes: file(80_000, 7), name: 'map.pdf', mime: 'application/pdf', transfer: 't' });
    let got: GroupMessageView | undefined;
    await eventually(async () => {
      got = (await ben.listGroupMessages(id)).find((m) => m.kind === 'text' && m.attachment?.name === 'map.pdf');
      expect(got).toBeDefined();
    });
    await ben.openGroupAttachment(id, got!.id, 't');
    const place: FilePlaceView = { kind: 'group', id };
    expect(await ben.fileStorage()).toEqual([{ place, files: 1, bytes: blobSize(80_000) }]);
    expect(await ann.fileStorage()).toEqual([{ place, files: 1, bytes: blobSize(80_000) }]);
    // Removing a 1:1 chat's files leaves the group's alone.
    expect(await ben.removeFiles(chat('ann'))).toEqual({ files: 0, bytes: 0 });
    expect(await ben.removeFiles(place)).toEqual({ files: 1, bytes: blobSize(80_000) });
    expect(await ben.fileStorage()).toEqual([]);
    expect(await rowsOf(ben, groupOwner(got!.id))).toBe(1);
    await expect(ben.openGroupAttachment(id, got!.id, 't')).rejects.toMatchObject({ code: 'FileRemoved' });
  });

  test('whether a file is held here (the bubble\'s "Not downloaded"): the sender\'s yes, the recipient\'s no until opened, no again once removed, never across chats', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    await alice.lookupUser('bob');
    await carol.lookupUser('bob');
    const bytes = file(120_000, 8);
    const sent = await alice.sendAttachment('bob' as Username, { bytes, name: 'held.bin', mime: '', transfer: 't' });
    expect(await alice.attachmentHeld('bob', sent.id)).toBe(1);
    const id = await fileKeyIn(bob, 'alice', 'held.bin');
    expect(await bob.attachmentHeld('alice', id)).toBe(0);
    await open(bob, 'alice', id);
    expect(await bob.attachmentHeld('alice', id)).toBe(1);
    // Asked as another chat's message, or for a message that is not there: no.
    expect(await bob.attachmentHeld('carol', id)).toBe(0);
    expect(await bob.attachmentHeld('alice', 'alice:00ff')).toBe(0);
    await bob.removeFiles(chat('alice'));
    expect(await bob.attachmentHeld('alice', id)).toBe(0);

    // In a group, the same.
    const group = await alice.createGroup('Held', '', ['bob']);
    await eventually(async () => expect((await bob.groupInfo(group)).members).toHaveLength(2));
    const gsent = await alice.sendGroupAttachment(group, { bytes: file(60_000, 9), name: 'g.bin', mime: '', transfer: 'g' });
    expect(await alice.groupAttachmentHeld(group, gsent.id)).toBe(1);
    let got: GroupMessageView | undefined;
    await eventually(async () => {
      got = (await bob.listGroupMessages(group)).find((m) => m.kind === 'text' && m.attachment?.name === 'g.bin');
      expect(got).toBeDefined();
    });
    expect(await bob.groupAttachmentHeld(group, got!.id)).toBe(0);
    await bob.openGroupAttachment(group, got!.id, 't');
    expect(await bob.groupAttachmentHeld(group, got!.id)).toBe(1);
    expect(await bob.groupAttachmentHeld('not-this-group', got!.id)).toBe(0);
  });

  test('a conversation that is not one is refused and removes nothing', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendAttachment('bob' as Username, { bytes: file(20_000, 9), name: 'x.bin', mime: '', transfer: 't' });
    for (const bad of [{ kind: 'group', id: 'not-a-group' }, { kind: 'chat', username: 'not a name!' }, { kind: 'other' }, null]) {
      await expect(alice.removeFiles(bad as FilePlaceView)).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
    expect(await alice.fileStorage()).toEqual([{ place: chat('bob'), files: 1, bytes: blobSize(20_000) }]);
    expect(await bob.fileStorage()).toEqual([]);
  });
});
