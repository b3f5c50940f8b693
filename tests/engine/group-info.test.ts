/**
 * Editing a group's name, description and picture over the REAL host (src/host/server.ts on
 * loopback, SQLite files edited underneath it as an operator could). SECURITY.md P19: an info
 * edit is a signed change like any membership change — members apply it and say who changed
 * what; it is refused from a non-admin while editInfo is 'admins' (by the sender's vault AND by
 * every receiver, when the non-admin's signed change is planted in the blob), from a non-member,
 * from the host, and an old state the host replays does not roll the edit back.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { syncFromBlob } from '../../workers/engine/group-sync';
import { getGroup } from '../../workers/storage/group-repo';
import { address } from '../../src/lib/crypto/group/address';
import { createChange, type GroupAction } from '../../src/lib/crypto/group/group-change';
import type { Edge } from '../../src/lib/crypto/group/fork-choice';
import type { GroupHistory } from '../../src/lib/crypto/group/group-history';
import { sealStateBlob } from '../../src/lib/crypto/group/state-blob';
import { generateIdentity, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { systemDeps } from '../../src/lib/crypto/deps';
import { GROUP_BLOBS_FILE } from '../../src/host/storage/sqlite-group-blobs';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { eventually, realHostPerTest } from './real-host-support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-ginfo-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function person(name: string): Promise<Engine> {
  const e = await Engine.open({ transport: new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor), dbName: `gi-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

/** A tiny "JPEG" (SOI ... EOI) whose middle is `tag`, so it can be recognised. */
function jpeg(tag: string): Uint8Array {
  const mid = new TextEncoder().encode(tag);
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...mid, 0xff, 0xd9]);
}

type Notice = Extract<GroupMessageView, { kind: 'notice' }>;
const notices = async (e: Engine, id: string) =>
  (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'notice' && ['renamed', 'described', 'pictured', 'unpictured'].includes(m.notice) ? [m] : [])) as Notice[];

async function trio() {
  const [ann, ben, cat] = [await person('ann'), await person('ben'), await person('cat')];
  const id = await ann.createGroup('Book club', 'Novels', ['ben', 'cat']);
  for (const e of [ben, cat]) await eventually(async () => expect((await e.groupInfo(id)).members).toHaveLength(3));
  return { id, ann, ben, cat };
}

function hostDb(): Database.Database {
  const db = new Database(join(real.dataDir, GROUP_BLOBS_FILE));
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The blob as a member with the master key could seal it: our head plus one extra signed change. */
async function plantChange(holder: Engine, id: string, author: string, identity: IdentityKeyPair, actions: GroupAction[]): Promise<void> {
  const g = (await getGroup(holder.ctx.vault, id))!;
  const change = createChange({ base: g.history.head, author: address(author), authorIdentity: identity, actions });
  const fake = { ...g.history, canonical: [...g.history.canonical, 'planted'], edges: new Map([...g.history.edges, ['planted', { id: 'planted', change } as Edge]]) } as GroupHistory;
  const db = hostDb();
  db.prepare('UPDATE group_blobs SET blob = ?').run(sealStateBlob(fake, g.masterKey, systemDeps).sealed);
  db.close();
}

describe('group info edits (P19)', () => {
  test('P19 an admin changes name, description and picture: every member sees them, with a notice naming who changed what', async () => {
    const { id, ann, ben, cat } = await trio();
    const pic = jpeg('first-picture');
    await ann.editGroupInfo(id, { name: '  Poetry club ', description: 'Verse only', avatar: pic });
    for (const e of [ann, ben, cat]) {
      await eventually(async () => expect((await e.groupInfo(id)).avatar).toEqual(pic));
      const info = await e.groupInfo(id);
      expect([info.name, info.description]).toEqual(['Poetry club', 'Verse only']);
      expect((await e.listGroups()).find((g) => g.id === id)).toMatchObject({ name: 'Poetry club', avatar: pic });
      expect((await notices(e, id)).map((m) => [m.notice, m.who, m.text ?? ''])).toEqual([
        ['renamed', 'ann', 'Poetry club'],
        ['described', 'ann', ''],
        ['pictured', 'ann', '']
      ]);
    }
    // Only what changed is signed: the same name again and a removed picture make one change.
    const version = (await ann.groupInfo(id)).version;
    await ann.editGroupInfo(id, { name: 'Poetry club', avatar: null });
    expect((await ann.groupInfo(id)).version).toBe(version + 1);
    await eventually(async () => expect((await ben.groupInfo(id)).avatar).toBeNull());
    expect((await ben.listGroups())[0]!.avatar).toBeUndefined();
    expect((await notices(ben, id)).at(-1)).toMatchObject({ notice: 'unpictured', who: 'ann' });
    // Nothing changed: nothing signed, nothing sent.
    await ann.editGroupInfo(id, { name: 'Poetry club', description: 'Verse only' });
    expect((await ann.groupInfo(id)).version).toBe(version + 1);
    // Bad input is refused before anything is signed.
    await expect(ann.editGroupInfo(id, { name: '   ' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ann.editGroupInfo(id, { avatar: new TextEncoder().encode('<svg onload=alert(1)>') })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ann.editGroupInfo(id, { avatar: jpeg('x'.repeat(17 * 1024)) })).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect((await ann.groupInfo(id)).version).toBe(version + 1);
  });

  test('P19 while editInfo is admins a member may not edit; once members may, its edit reaches everyone', async () => {
    const { id, ann, ben, cat } = await trio();
    expect((await ben.groupInfo(id)).canEditInfo).toBe(false);
    expect((await ann.groupInfo(id)).canEditInfo).toBe(true);
    await expect(ben.editGroupInfo(id, { name: 'Ben rules' })).rejects.toMatchObject({ code: 'NotPermitted' });
    expect((await ben.groupInfo(id)).name).toBe('Book club');
    await ann.setGroupAccess(id, 'editInfo', 'members');
    await eventually(async () => expect((await ben.groupInfo(id)).canEditInfo).toBe(true));
    await ben.editGroupInfo(id, { name: 'Ben rules' });
    for (const e of [ann, cat]) await eventually(async () => expect((await e.groupInfo(id)).name).toBe('Ben rules'));
    expect((await notices(cat, id)).at(-1)).toMatchObject({ notice: 'renamed', who: 'ben', text: 'Ben rules' });
  });

  test('P19 a removed member cannot edit, and one who never was has no such group', async () => {
    const { id, ann, cat } = await trio();
    const eve = await person('eve');
    await ann.removeGroupMember(id, 'cat');
    await eventually(async () => expect((await cat.groupInfo(id)).isMember).toBe(false));
    expect((await cat.groupInfo(id)).canEditInfo).toBe(false);
    await expect(cat.editGroupInfo(id, { name: 'Cat was here' })).rejects.toMatchObject({ code: 'NotGroupMember' });
    await expect(eve.editGroupInfo(id, { name: 'Eve was here' })).rejects.toMatchObject({ code: 'NoSuchGroup' });
    expect((await ann.groupInfo(id)).name).toBe('Book club');
  });

  test('P19 an edit a receiver may not apply is refused by it: a non-admin\'s signed rename and a host-forged one planted in the blob', async () => {
    const { id, ann, ben, cat } = await trio();
    // Ben signs a rename with his real identity (bypassing his own vault's check) while editInfo is admins.
    await plantChange(ben, id, 'ben', ben.ctx.me!.identity, [{ type: 'setName', name: 'Hijacked' }, { type: 'setAvatar', avatar: jpeg('hijack') }]);
    expect(await syncFromBlob(cat.ctx, id)).toBe('unchanged');
    expect((await cat.groupInfo(id)).name).toBe('Book club');
    expect((await cat.groupInfo(id)).avatar).toBeNull();
    // The host (or anyone without a member identity), even with the master key.
    await plantChange(ben, id, 'ann', generateIdentity(systemDeps), [{ type: 'setName', name: 'Forged' }]);
    expect(await syncFromBlob(cat.ctx, id)).toBe('unchanged');
    expect((await cat.groupInfo(id)).name).toBe('Book club');
    // Positive control: the same path carries a change the rules allow (Ann is an admin).
    await plantChange(ben, id, 'ann', ann.ctx.me!.identity, [{ type: 'setName', name: 'Allowed' }]);
    expect(await syncFromBlob(cat.ctx, id)).toBe('advanced');
    expect((await cat.groupInfo(id)).name).toBe('Allowed');
  });

  test('P19 the picture shows in an invite link\'s preview, opened from the sealed invite blob', async () => {
    const { id, ann } = await trio();
    const eve = await person('eve');
    const pic = jpeg('preview-picture');
    await ann.editGroupInfo(id, { avatar: pic });
    const link = await ann.createGroupInviteLink(id, false);
    expect(await eve.previewGroupInvite(link)).toMatchObject({ name: 'Book club', avatar: pic, memberCount: 3 });
  });

  test('P19 the host replaying the state from before an edit does not roll the name or picture back', async () => {
    const { id, ann, ben } = await trio();
    const db = hostDb();
    const old = db.prepare('SELECT blob FROM group_blobs').get() as { blob: Buffer };
    const pic = jpeg('kept-picture');
    await ann.editGroupInfo(id, { name: 'Renamed', avatar: pic });
    await eventually(async () => expect((await ben.groupInfo(id)).name).toBe('Renamed'));
    db.prepare('UPDATE group_blobs SET blob = ?').run(old.blob);
    db.close();
    expect(await syncFromBlob(ben.ctx, id)).toBe('unchanged');
    expect(await ben.groupInfo(id)).toMatchObject({ name: 'Renamed', avatar: pic });
  });
});
