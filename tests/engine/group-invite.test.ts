/**
 * Group invite links against the REAL host (src/host/server.ts on loopback, SQLite files in a
 * temp directory that the test edits as a malicious operator could). README "Groups": invite
 * links; SECURITY.md P19 (membership is what members signed, never what the host serves), P21
 * (a newcomer reads nothing sent before it joined).
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { getGroup } from '../../workers/storage/group-repo';
import { createHost, type RunningHost } from '../../src/host/server';
import { GROUP_BLOBS_FILE } from '../../src/host/storage/sqlite-group-blobs';
import { decodeInviteLink, inviteKeys } from '../../src/lib/crypto/group/group-secret';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { toHex } from '../../src/lib/codec/bytes';
import { scanDataDir } from '../support/scan-data-dir';
import { eventually } from './real-host-support';

let host: RunningHost | undefined;
let dataDir = '';
let engines: Engine[] = [];
let n = 0;
/** Everything any client sent the host (URL, headers, body, socket frames) and every host log line. */
let wire: Uint8Array[] = [];
let logLines: string[] = [];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-ginvite-'));
  wire = [];
  logLines = [];
  host = await createHost({ port: 0, dataDir, log: (l) => logLines.push(l) });
});
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
  await host?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const enc = new TextEncoder();
const asBytes = (b: unknown): Uint8Array =>
  typeof b === 'string' ? enc.encode(b) : b instanceof Uint8Array ? b : b instanceof ArrayBuffer ? new Uint8Array(b) : enc.encode(String(b ?? ''));

const recordingFetch: typeof fetch = async (input, init) => {
  wire.push(enc.encode(String(input)));
  const headers = new Headers(init?.headers);
  headers.forEach((v, k) => wire.push(enc.encode(`${k}: ${v}`)));
  if (init?.body !== undefined && init.body !== null) wire.push(asBytes(init.body));
  return fetch(input, init);
};

class RecordingSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    wire.push(asBytes(data));
    (super.send as (...a: unknown[]) => void)(data, ...rest);
  }
}

async function person(name: string): Promise<Engine> {
  const t = new HostHttpTransport(host!.url, RecordingSocket as unknown as WsCtor, recordingFetch);
  const e = await Engine.open({ transport: t, dbName: `gi-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

const texts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
const members = async (e: Engine, id: string) => (await e.groupInfo(id)).members.map((m) => m.username);
const hasGroup = async (e: Engine, id: string) => (await e.listGroups()).some((g) => g.id === id && g.isMember);

function blobsDb(): Database.Database {
  const db = new Database(join(dataDir, GROUP_BLOBS_FILE));
  db.pragma('busy_timeout = 5000');
  return db;
}

const addressOf = (link: string) => inviteKeys(decodeInviteLink(link)).address;

/** Ann (admin) and Ben in a group, with Ann's text sent before anyone else joins. */
async function twoPeople(approval: boolean) {
  const ann = await person('ann');
  const ben = await person('ben');
  const id = await ann.createGroup('Climbing', 'ropes and rocks', ['ben']);
  await eventually(async () => expect(await members(ben, id)).toEqual(['ann', 'ben']));
  await ann.sendGroupText(id, 'before the link');
  await eventually(async () => expect(await texts(ben, id)).toContain('before the link'));
  const link = await ann.createGroupInviteLink(id, approval);
  return { ann, ben, id, link };
}

describe('group invite links on the real host', () => {
  test('P19 a joiner by link becomes a member by its own signed change and reads only what is sent after (P21); the secret never reaches the host', async () => {
    const { ann, ben, id, link } = await twoPeople(false);
    const dan = await person('dan');
    expect(await dan.previewGroupInvite(link)).toMatchObject({ groupId: id, name: 'Climbing', description: 'ropes and rocks', memberCount: 2, approval: false, status: 'none' });
    expect(await dan.joinGroupByInvite(link)).toBe('joined');
    for (const e of [ann, ben]) await eventually(async () => expect(await members(e, id)).toEqual(['ann', 'ben', 'dan']));
    await eventually(async () => expect(await hasGroup(dan, id)).toBe(true));
    expect(await members(dan, id)).toEqual(['ann', 'ben', 'dan']);
    await ann.sendGroupText(id, 'welcome dan');
    await eventually(async () => expect(await texts(dan, id)).toContain('welcome dan'));
    expect(await texts(dan, id)).not.toContain('before the link');
    await dan.sendGroupText(id, 'hello from dan');
    for (const e of [ann, ben]) await eventually(async () => expect(await texts(e, id)).toContain('hello from dan'));
    // The invite blob shows the new head to the next person with the link.
    const eve = await person('eve');
    await eventually(async () => expect((await eve.previewGroupInvite(link)).memberCount).toBe(3));

    const secret = decodeInviteLink(link);
    const needles = { link, secretHex: toHex(secret), secretB64: toBase64Url(secret), secret };
    const inWire = (needle: Uint8Array) => wire.some((w) => Buffer.from(w).indexOf(Buffer.from(needle)) >= 0);
    for (const [name, needle] of Object.entries(needles)) {
      expect(inWire(typeof needle === 'string' ? enc.encode(needle) : needle), `${name} in a request`).toBe(false);
      expect(logLines.some((l) => l.includes(typeof needle === 'string' ? needle : toHex(needle))), `${name} in the host log`).toBe(false);
    }
    expect(scanDataDir(dataDir, needles)).toEqual([]);
    // Positive control: what the host is meant to see, the derived address, is in the recording.
    expect(inWire(enc.encode(toBase64Url(addressOf(link))))).toBe(true);
  });

  test('P19 a reset link answers InviteLinkReset, and a join signed with its old key is refused even when the host serves the old blob', async () => {
    const { ann, ben, id, link: old } = await twoPeople(false);
    const db = blobsDb();
    const saved = db.prepare('SELECT blob FROM group_blobs WHERE address = ?').get(addressOf(old)) as { blob: Buffer };
    const fresh = await ann.createGroupInviteLink(id, false);
    expect(fresh).not.toBe(old);
    const dan = await person('dan');
    await expect(dan.previewGroupInvite(old)).rejects.toMatchObject({ code: 'InviteLinkReset' });
    await expect(dan.joinGroupByInvite(old)).rejects.toMatchObject({ code: 'InviteLinkReset' });
    // The host replays the pre-reset blob: Dan signs a join with the old link's key...
    db.prepare('UPDATE group_blobs SET blob = ? WHERE address = ?').run(saved.blob, addressOf(old));
    db.close();
    expect(await dan.joinGroupByInvite(old)).toBe('joined');
    // ...which reaches every member, is kept only as a losing branch, and adds no one.
    for (const e of [ann, ben]) {
      await eventually(async () => {
        const g = (await getGroup(e.ctx.vault, id))!;
        expect([...g.history.edges.values()].some((x) => x.change.author.username === 'dan')).toBe(true);
        expect(g.history.head.members.map((m) => m.address.username)).toEqual(['ann', 'ben']);
      });
    }
    expect(await hasGroup(dan, id)).toBe(false);
    // The new link works.
    expect(await dan.joinGroupByInvite(fresh)).toBe('joined');
    for (const e of [ann, ben]) await eventually(async () => expect(await members(e, id)).toEqual(['ann', 'ben', 'dan']));
    // Turned off: the last link says so too, and the state names no link.
    await ann.turnOffGroupInviteLink(id);
    const eve = await person('eve');
    await expect(eve.previewGroupInvite(fresh)).rejects.toMatchObject({ code: 'InviteLinkReset', message: expect.stringMatching(/turned off/) });
    expect((await ann.groupInfo(id)).invite).toEqual({ on: false, approval: false });
    expect(await ann.groupInviteLink(id)).toBeNull();
  });

  test('P19 "only admins can add members" is a signed setting members obey, and only an admin changes it', async () => {
    const { ann, ben, id } = await twoPeople(false);
    await person('cat');
    expect((await ben.groupInfo(id)).settings).toEqual({ editInfo: 'admins', addMembers: 'admins' });
    await expect(ben.addGroupMembers(id, ['cat' as never])).rejects.toMatchObject({ code: 'NotPermitted' });
    await expect(ben.setGroupAccess(id, 'addMembers', 'members')).rejects.toMatchObject({ code: 'NotAdmin' });
    await ann.setGroupAccess(id, 'addMembers', 'members');
    await eventually(async () => expect((await ben.groupInfo(id)).settings.addMembers).toBe('members'));
    await ben.addGroupMembers(id, ['cat' as never]);
    for (const e of [ann, ben]) await eventually(async () => expect(await members(e, id)).toEqual(['ann', 'ben', 'cat']));
    expect((await ann.groupInfo(id)).settings.editInfo).toBe('admins');
  });

  test('P19 a stale or forged invite blob cannot roll back a removal or add a member', async () => {
    const ann = await person('ann');
    const ben = await person('ben');
    const cat = await person('cat');
    const id = await ann.createGroup('Climbing', '', ['ben', 'cat']);
    await eventually(async () => expect(await members(cat, id)).toEqual(['ann', 'ben', 'cat']));
    const link = await ann.createGroupInviteLink(id, false);
    const db = blobsDb();
    const stale = (db.prepare('SELECT blob FROM group_blobs WHERE address = ?').get(addressOf(link)) as { blob: Buffer }).blob;
    await ann.removeGroupMember(id, 'cat');
    await eventually(async () => expect(await members(ben, id)).toEqual(['ann', 'ben']));
    const version = (await ann.groupInfo(id)).version;
    // Forged bytes at the link's address open nothing.
    db.prepare('UPDATE group_blobs SET blob = ? WHERE address = ?').run(Buffer.alloc(stale.length, 9), addressOf(link));
    const dan = await person('dan');
    await expect(dan.previewGroupInvite(link)).rejects.toMatchObject({ code: 'InviteLinkInvalid' });
    // The state from before the removal, replayed: Dan joins against it, Cat is not back.
    db.prepare('UPDATE group_blobs SET blob = ? WHERE address = ?').run(stale, addressOf(link));
    db.close();
    expect((await dan.previewGroupInvite(link)).memberCount).toBe(3);
    expect(await dan.joinGroupByInvite(link)).toBe('joined');
    for (const e of [ann, ben]) {
      await eventually(async () => {
        const g = (await getGroup(e.ctx.vault, id))!;
        expect([...g.history.edges.values()].some((x) => x.change.author.username === 'dan')).toBe(true);
      });
      expect(await members(e, id)).toEqual(['ann', 'ben']);
      expect((await e.groupInfo(id)).version).toBe(version);
    }
    expect(await hasGroup(dan, id)).toBe(false);
  });

  test('P19 with approval on, a joiner stays pending (no keys, no group) until an admin signs; a member cannot approve; declined requests vanish', async () => {
    const { ann, ben, id, link } = await twoPeople(true);
    const dan = await person('dan');
    const eve = await person('eve');
    expect((await dan.previewGroupInvite(link)).approval).toBe(true);
    // Concurrent joins against one head: the fork choice keeps one, the other joiner signs again
    // against the head the admins reseal (as the join screen does while it waits).
    expect(await dan.joinGroupByInvite(link)).toBe('pending');
    expect(await eve.joinGroupByInvite(link)).toBe('pending');
    for (const e of [ann, ben]) {
      await eventually(async () => {
        for (const j of [dan, eve]) if ((await j.previewGroupInvite(link)).status === 'none') await j.joinGroupByInvite(link);
        expect((await e.groupInfo(id)).pending.map((p) => p.username)).toEqual(['dan', 'eve']);
      }, 20_000);
    }
    expect(await members(ann, id)).toEqual(['ann', 'ben']);
    expect((await ann.groupInfo(id)).pending[0]!.safetyNumber).toMatch(/^\d{60}$/);
    await eventually(async () => expect((await dan.previewGroupInvite(link)).status).toBe('pending'));
    await ann.sendGroupText(id, 'while dan waits');
    await expect(ben.answerGroupJoin(id, 'dan' as never, true)).rejects.toMatchObject({ code: 'NotAdmin' });
    expect(await hasGroup(dan, id)).toBe(false);
    await ann.answerGroupJoin(id, 'dan' as never, true);
    await ann.answerGroupJoin(id, 'eve' as never, false);
    await eventually(async () => expect(await hasGroup(dan, id)).toBe(true));
    for (const e of [ann, ben, dan]) await eventually(async () => expect(await members(e, id)).toEqual(['ann', 'ben', 'dan']));
    await eventually(async () => expect((await ben.groupInfo(id)).pending).toEqual([]));
    await ann.sendGroupText(id, 'approved');
    await eventually(async () => expect(await texts(dan, id)).toContain('approved'));
    expect(await texts(dan, id)).not.toContain('while dan waits');
    expect(await hasGroup(eve, id)).toBe(false);
  });
});
