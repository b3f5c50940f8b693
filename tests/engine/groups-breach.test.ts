/**
 * Breach scan for groups (README "Groups": "what the host keeps"; DESIGN.md §9; SECURITY.md P19):
 * after a four-person group was created, chatted and changed over the REAL host, no host file
 * (SQLite databases with their -wal and -shm files) holds the group's name, description, picture
 * (edited in after creation, as the new name) or id, and the state blob of a four-person group is exactly as long as a two-person one's (the host cannot
 * count members from it). Positive control: the blob's own bytes are found.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { fromHex } from '../../src/lib/codec/bytes';
import { GROUP_BLOBS_FILE } from '../../src/host/storage/sqlite-group-blobs';
import { scanDataDir } from '../support/scan-data-dir';
import { eventually, realHostPerTest } from './real-host-support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-gbreach-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function person(name: string): Promise<Engine> {
  const e = await Engine.open({ transport: new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor), dbName: `gb-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

const NAME = 'Zanzibar-Orchid-Society';
const DESCRIPTION = 'Quietly-Plotting-Marker';
const RENAMED = 'Renamed-Marmalade-Guild';
const PICTURE_MARK = 'Avatar-Pixels-Marker-0xC0FFEE';
/** A stand-in JPEG (SOI ... EOI) whose bytes carry a marker a scan can find. */
const PICTURE = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...new TextEncoder().encode(PICTURE_MARK.repeat(40)), 0xff, 0xd9]);

describe('group breach scan', () => {
  test('P19 no group name, description, picture, id or member count in any host file', async () => {
    const [ann, ben, cat, dan] = [await person('ann'), await person('ben'), await person('cat'), await person('dan')];
    const big = await ann.createGroup(NAME, DESCRIPTION, ['ben', 'cat', 'dan']);
    const small = await ann.createGroup(`${NAME}-2`, DESCRIPTION, ['ben']);
    for (const e of [ben, cat, dan]) await eventually(async () => expect((await e.listGroups()).find((g) => g.id === big)?.memberCount).toBe(4));
    for (const e of [ann, ben, cat, dan]) await e.sendGroupText(big, 'hello');
    for (const e of [ann, ben, cat, dan]) await eventually(async () => expect((await e.listGroupMessages(big)).filter((m) => m.kind === 'text')).toHaveLength(4));
    await ann.removeGroupMember(big, 'dan');
    await eventually(async () => expect((await ben.groupInfo(big)).members).toHaveLength(3));
    await ann.editGroupInfo(big, { name: RENAMED, avatar: PICTURE });
    await eventually(async () => expect((await cat.groupInfo(big)).avatar).toEqual(PICTURE));

    const db = new Database(join(real.dataDir, GROUP_BLOBS_FILE), { readonly: true });
    const blobs = db.prepare('SELECT blob FROM group_blobs').all() as { blob: Buffer }[];
    db.close();
    // The small group's, the big group's under its new master key (the removal rotated it), and at
    // its old key's address the handoff to the new one (key-handoff.ts).
    expect(blobs).toHaveLength(3);
    // Three members and two, a state and a handoff, look alike: all padded to the same bucket.
    expect(new Set(blobs.map((b) => b.blob.length)).size).toBe(1);

    const needles = {
      name: NAME,
      renamed: RENAMED,
      description: DESCRIPTION,
      picture: PICTURE_MARK,
      idHex: big,
      idBytes: fromHex(big),
      smallIdBytes: fromHex(small),
      members: 'ann,ben,cat',
      control: new Uint8Array(blobs[0]!.blob.subarray(100, 164))
    };
    const hits = scanDataDir(real.dataDir, needles);
    expect(hits.filter((h) => h.needle !== 'control')).toEqual([]);
    expect(hits.some((h) => h.needle === 'control')).toBe(true);
  });
});
