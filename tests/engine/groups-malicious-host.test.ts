/**
 * Groups against a MALICIOUS real host (src/host/server.ts on loopback; its SQLite files edited
 * underneath it, as an operator could). SECURITY.md P19: membership is what members signed, never
 * what the host serves; P21: a removed member reads nothing sent after. The host:
 *   - injects a member (a forged change in the state blob, even sealed with the master key as a
 *     former member could; and a group message from a non-member pushed to members);
 *   - replays an old membership state (the blob from before a removal);
 *   - withholds a removal from one member (deletes that member's pairwise envelopes from the
 *     admin), and then withholds the blob too.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { ProtocolError } from '../../src/lib/codec/errors';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { syncFromBlob } from '../../workers/engine/group-sync';
import { hostAuth } from '../../workers/engine/account';
import { getGroup } from '../../workers/storage/group-repo';
import { address } from '../../src/lib/crypto/group/address';
import { createChange } from '../../src/lib/crypto/group/group-change';
import type { Edge } from '../../src/lib/crypto/group/fork-choice';
import type { GroupHistory } from '../../src/lib/crypto/group/group-history';
import { sealStateBlob } from '../../src/lib/crypto/group/state-blob';
import { createSenderKey, groupDecrypt, groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { systemDeps } from '../../src/lib/crypto/deps';
import { fromHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { GROUP_BLOBS_FILE } from '../../src/host/storage/sqlite-group-blobs';
import { eventually, realHostPerTest } from './real-host-support';
import { hostNames } from '../support/host-names';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-groups-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

/**
 * A transport that remembers every fan-out upload it made (what the sender gave the host). Its
 * sealed v2 uploads are refused as a host refuses a stale token, so group messages fall back to
 * the authenticated fan-out (group-sealed.ts), whose plain sender-key message these tests inspect.
 */
class RecordingTransport extends HostHttpTransport {
  readonly uploads: { to: Username[]; body: Uint8Array }[] = [];
  override sendSealedMulti(): Promise<void> {
    return Promise.reject(new ProtocolError('InvalidSignature', 'sealed upload refused by the test host'));
  }
  override async groupSend(auth: Parameters<HostHttpTransport['groupSend']>[0], to: readonly Username[], body: Uint8Array): Promise<void> {
    this.uploads.push({ to: [...to], body: body.slice() });
    return super.groupSend(auth, to, body);
  }
}

async function person(name: string): Promise<{ e: Engine; t: RecordingTransport }> {
  const t = new RecordingTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport: t, dbName: `mal-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return { e, t };
}

const texts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
const members = async (e: Engine, id: string) => (await e.groupInfo(id)).members.map((m) => m.username);

/** Ann (admin), Ben, Cat and Dan in one group, every sender key delivered (each reads each). */
async function group() {
  const [ann, ben, cat, dan] = [await person('ann'), await person('ben'), await person('cat'), await person('dan')];
  const id = await ann.e.createGroup('Secret club', 'nobody may know', ['ben', 'cat', 'dan']);
  for (const p of [ben, cat, dan]) await eventually(async () => expect(await members(p.e, id)).toHaveLength(4));
  for (const p of [ann, ben, cat, dan]) await p.e.sendGroupText(id, `hi from ${(await p.e.account())!.username}`);
  for (const p of [ann, ben, cat, dan]) await eventually(async () => expect(await texts(p.e, id)).toHaveLength(4));
  return { id, ann, ben, cat, dan };
}

function hostDb(file: string): Database.Database {
  const db = new Database(join(real.dataDir, file));
  db.pragma('busy_timeout = 5000');
  return db;
}

describe('groups against a malicious real host', () => {
  test('P19 a member the host injects (forged blob change, forged group message) is never applied or shown', async () => {
    const { id, ann, ben } = await group();
    // 1. The host's own bytes as the blob: they do not open under the master key.
    const blobs = hostDb(GROUP_BLOBS_FILE);
    const original = blobs.prepare('SELECT address, blob FROM group_blobs').get() as { address: Buffer; blob: Buffer };
    blobs.prepare('UPDATE group_blobs SET blob = ?').run(Buffer.alloc(original.blob.length, 7));
    expect(await syncFromBlob(ben.e.ctx, id)).toBe('unreadable');
    // 2. The strongest host (a former member gave it the master key): a change adding Mallory,
    //    signed by Mallory, sealed properly. Merged like any change, and refused (not a member).
    const g = (await getGroup(ben.e.ctx.vault, id))!;
    const mallory = generateIdentity(systemDeps);
    const forged = createChange({ base: g.history.head, author: address('mallory'), authorIdentity: mallory, actions: [{ type: 'addMember', address: address('mallory'), identity: identityPublic(mallory), role: 'admin' }] });
    const fake = { ...g.history, canonical: [...g.history.canonical, 'forged'], edges: new Map([...g.history.edges, ['forged', { id: 'forged', change: forged } as Edge]]) } as GroupHistory;
    blobs.prepare('UPDATE group_blobs SET blob = ?').run(sealStateBlob(fake, g.masterKey, systemDeps).sealed);
    blobs.close();
    expect(await syncFromBlob(ben.e.ctx, id)).toBe('unchanged');
    expect(await members(ben.e, id)).toEqual(['ann', 'ben', 'cat', 'dan']);
    // 3. A group message from a registered non-member, fanned out by the host to members.
    const m = await person('mallory');
    const key = createSenderKey({ groupId: fromHex(id), ourAddress: address('mallory') }, systemDeps);
    const sent = groupEncrypt(key.state, new Uint8Array([1, 2, 3]));
    await m.t.groupSend(hostAuth(m.e.ctx.me!), ['ann', 'ben'] as Username[], sent.message);
    await ann.e.sendGroupText(id, 'after the forgery');
    await eventually(async () => expect(await texts(ben.e, id)).toContain('after the forgery'));
    expect(await texts(ben.e, id)).toHaveLength(5);
    expect(await members(ann.e, id)).toEqual(['ann', 'ben', 'cat', 'dan']);
  });

  test('P19 an old membership state replayed by the host does not undo a removal (P21: Dan reads nothing after)', async () => {
    const { id, ann, ben, dan } = await group();
    const blobs = hostDb(GROUP_BLOBS_FILE);
    const before = blobs.prepare('SELECT blob FROM group_blobs').get() as { blob: Buffer };
    const dansKeys = (await getGroup(dan.e.ctx.vault, id))!.theirs;
    await ann.e.removeGroupMember(id, 'dan');
    await eventually(async () => expect(await members(ben.e, id)).toEqual(['ann', 'ben', 'cat']));
    await eventually(async () => expect((await dan.e.listGroups())[0]!.isMember).toBe(false));
    // The host serves the pre-removal state again, at every address. Ben reads at the new master
    // key's address (the removal rotated it), where bytes sealed for the old one do not even open.
    blobs.prepare('UPDATE group_blobs SET blob = ?').run(before.blob);
    blobs.close();
    expect(await syncFromBlob(ben.e.ctx, id)).toBe('unreadable');
    expect(await members(ben.e, id)).toEqual(['ann', 'ben', 'cat']);
    const uploads = ben.t.uploads.length;
    await ben.e.sendGroupText(id, 'dan must not read this');
    await eventually(() => expect(ben.t.uploads.length).toBe(uploads + 1));
    await eventually(async () => expect(await texts(ann.e, id)).toContain('dan must not read this'));
    const upload = ben.t.uploads.at(-1)!;
    expect(upload.to).not.toContain('dan');
    for (const k of dansKeys) expect(() => groupDecrypt(k, upload.body, systemDeps)).toThrow();
    expect(await texts(dan.e, id)).not.toContain('dan must not read this');
  });

  test('P19 a removal withheld from one member: it learns from a newer head, and will not send until it has caught up', async () => {
    const { id, ann, ben, cat, dan } = await group();
    const dansKeys = (await getGroup(dan.e.ctx.vault, id))!.theirs;
    await cat.e.disconnect();
    const mailbox = hostDb(DB_FILE);
    const lastId = (mailbox.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM envelopes').get() as { m: number }).m;
    await ann.e.removeGroupMember(id, 'dan');
    await eventually(async () => expect(await members(ben.e, id)).toEqual(['ann', 'ben', 'cat']));
    const catRows = () => mailbox.prepare('SELECT id, body FROM envelopes WHERE recipient = ? AND id > ?').all(hostNames(real.dataDir).seal('cat'), lastId) as { id: number; body: Buffer }[];
    await eventually(() => expect(catRows().length).toBeGreaterThan(0));
    // Members hold each other's profile keys, so Ann's envelopes to Cat are sealed (P41): the host
    // tells them by timing, everything for Cat before Ben writes.
    const annsEnd = Math.max(...catRows().map((r) => r.id));
    await ben.e.sendGroupText(id, 'after the removal');
    await eventually(async () => expect(await texts(ann.e, id)).toContain('after the removal'));
    // Withhold: every pairwise envelope Ann sent Cat since (the change), and the blob.
    const pairwise = catRows().filter((r) => r.id <= annsEnd && r.body[0] !== 0x03);
    expect(pairwise.length).toBeGreaterThan(0);
    for (const r of pairwise) mailbox.prepare('DELETE FROM envelopes WHERE id = ?').run(r.id);
    mailbox.close();
    const blobs = hostDb(GROUP_BLOBS_FILE);
    // The state under the new master key and, at the old key's address, the handoff to it.
    const saved = blobs.prepare('SELECT address, token_hash, blob, updated_at FROM group_blobs').all() as Record<string, unknown>[];
    expect(saved).toHaveLength(2);
    blobs.prepare('DELETE FROM group_blobs').run();
    await cat.e.connect();
    await eventually(async () => expect(await texts(cat.e, id)).toContain('after the removal'));
    // Cat still thinks Dan is a member, but knows a newer head exists: it will not send to him.
    expect(await members(cat.e, id)).toContain('dan');
    await expect(cat.e.sendGroupText(id, 'too early')).rejects.toMatchObject({ code: 'GroupOutOfDate' });
    // The host serves the blob again: Cat catches up before it sends; Dan's keys open nothing.
    for (const row of saved) blobs.prepare('INSERT INTO group_blobs (address, token_hash, blob, updated_at) VALUES (@address, @token_hash, @blob, @updated_at)').run(row);
    blobs.close();
    const uploads = cat.t.uploads.length;
    await cat.e.sendGroupText(id, 'caught up');
    await eventually(() => expect(cat.t.uploads.length).toBe(uploads + 1));
    expect(await members(cat.e, id)).toEqual(['ann', 'ben', 'cat']);
    const upload = cat.t.uploads.at(-1)!;
    expect(upload.to.sort()).toEqual(['ann', 'ben']);
    for (const k of dansKeys) expect(() => groupDecrypt(k, upload.body, systemDeps)).toThrow();
    await eventually(async () => expect(await texts(ann.e, id)).toContain('caught up'));
    expect(await texts(dan.e, id)).not.toContain('caught up');
  });
});

