/**
 * Group requests (SECURITY.md P42; README "Groups": group requests), engines on the REAL host
 * (HTTP, WebSocket, SQLite on disk). A group someone we have not accepted added us to is a
 * request: its messages are stored and readable, but the adder's mailbox on the host receives
 * NOTHING from us for it — no delivery or read receipt, no profile key — until we accept (or
 * write in it). Delete leaves and removes the group; Block also blocks the adder. A group we
 * joined by a link we opened, or one an accepted contact added us to, is no request.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { Engine } from '../../workers/engine/engine';
import { getContact } from '../../workers/storage/contact-repo';
import type { Username } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { enginesOnRealHost, eventually } from './real-host-support';

const { real, user: person } = enginesOnRealHost('parley-greq-');

/** Envelopes waiting in the host's mailboxes (only an offline person's stay). */
function waiting(): number {
  const db = new Database(join(real.dataDir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM envelopes').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const texts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).filter((x): x is Text => x.kind === 'text').map((m) => m.text);
const mine = async (e: Engine, id: string, body: string): Promise<Text> => {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}"`);
  return m;
};

/** Ann, a stranger to Ben and Cat, adds them to a group and says hello; both have it stored. */
async function strangerGroup() {
  const [ann, ben, cat] = [await person('ann'), await person('ben'), await person('cat')];
  const id = await ann.createGroup('Climbing', '', ['ben', 'cat']);
  for (const p of [ben, cat]) await eventually(async () => expect(await texts(p, id)).toEqual([]));
  await ann.sendGroupText(id, 'hello');
  for (const p of [ben, cat]) await eventually(async () => expect(await texts(p, id)).toEqual(['hello']));
  return { id, ann, ben, cat };
}

describe('group requests on the real host', () => {
  test('P42 a group a stranger added us to sends the adder no receipt, typing or profile key before Accept, and receipts and the key after', async () => {
    const { id, ann, ben, cat } = await strangerGroup();
    expect((await ben.listGroups())[0]).toMatchObject({ id, requestFrom: 'ann' });
    expect((await ben.groupInfo(id)).requestFrom).toBe('ann');
    // Ann goes offline: whatever Ben's device sends her waits in her mailbox, where we count it.
    await ann.disconnect();
    await ben.markGroupRead(id);
    await ben.settle();
    await cat.settle();
    expect(await ben.ctx.vault.db.count('outbox')).toBe(0);
    expect(waiting()).toBe(0);
    expect((await getContact(ben.ctx.vault, 'ann' as Username))?.sharedKey).toBeUndefined();
    // Groups carry no typing notices; nor does the 1:1 chat with the adder, a request (typing.ts).
    expect(await ben.sendTyping('ann' as Username, true)).toBe(false);
    // Accept: the read receipt for what Ben read, and Ben's profile key: two envelopes for Ann.
    await ben.answerGroupRequest(id, 'accept');
    expect((await ben.listGroups())[0]!.requestFrom).toBeUndefined();
    await eventually(() => expect(waiting()).toBe(2));
    ann.connect();
    await eventually(async () => expect((await mine(ann, id, 'hello')).receipts).toMatchObject({ of: 2, read: 1, delivered: 1 }));
    await eventually(async () => expect((await getContact(ann.ctx.vault, 'ben' as Username))?.profileKey).toBeDefined());
    // Cat, still a request, acknowledged nothing; her own message accepts, as a 1:1 reply does.
    await cat.sendGroupText(id, 'hi all');
    expect((await cat.listGroups())[0]!.requestFrom).toBeUndefined();
    await eventually(async () => expect((await mine(ann, id, 'hello')).receipts).toMatchObject({ of: 2, delivered: 2 }));
    // From now on receipts flow as in any group.
    await ann.sendGroupText(id, 'second');
    await eventually(async () => expect((await mine(ann, id, 'second')).receipts).toMatchObject({ of: 2, delivered: 2 }));
  });

  test('P42 the welcome of a group request says who added us ("ann added you"); a join by our own link says we joined', async () => {
    const { id, ann, ben } = await strangerGroup();
    const welcome = async (e: Engine) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'notice' ? [`${m.notice}:${m.who}`] : []))[0];
    expect(await welcome(ben)).toBe('added-you:ann');
    const dan = await person('dan');
    expect(await dan.joinGroupByInvite(await ann.createGroupInviteLink(id, false))).toBe('joined');
    await eventually(async () => expect(await welcome(dan)).toBe('joined:dan'));
  });

  test('P42 Delete leaves the group and removes it; Block also blocks the adder', async () => {
    const { id, ann, ben, cat } = await strangerGroup();
    await ben.answerGroupRequest(id, 'delete');
    expect(await ben.listGroups()).toEqual([]);
    await expect(ben.listGroupMessages(id)).rejects.toMatchObject({ code: 'NoSuchGroup' });
    expect((await ben.searchMessages('hello')).total).toBe(0);
    await eventually(async () => expect((await ann.groupInfo(id)).members.map((m) => m.username)).toEqual(['ann', 'cat']));
    await cat.answerGroupRequest(id, 'block');
    expect(await cat.listGroups()).toEqual([]);
    expect((await getContact(cat.ctx.vault, 'ann' as Username))?.blocked).toBe(true);
    await eventually(async () => expect((await ann.groupInfo(id)).members.map((m) => m.username)).toEqual(['ann']));
    // Answering what is no request (any more) is refused, and changes nothing.
    const own = await ben.createGroup('Mine', '', []);
    await expect(ben.answerGroupRequest(own, 'delete')).rejects.toMatchObject({ code: 'NoSuchGroup' });
    expect((await ben.listGroups()).map((g) => g.id)).toEqual([own]);
  });

  test('P42 P19 Delete by the only admin of a group request hands admin to the longest-standing other member (not the adder) in its signed leave', async () => {
    const { id, ann, ben, cat } = await strangerGroup();
    const abe = await person('abe');
    // Ann makes Ben an admin, adds Abe after Cat, and steps down: Ben, still a request, is the only admin.
    await ann.setGroupRole(id, 'ben', 'admin');
    await ann.addGroupMembers(id, ['abe']);
    await ann.setGroupRole(id, 'ann', 'member');
    const roles = async (e: Engine) => (await e.groupInfo(id)).members.map((m) => `${m.username}:${m.role}`).sort();
    await eventually(async () => expect(await roles(ben)).toEqual(['abe:member', 'ann:member', 'ben:admin', 'cat:member']));
    expect((await ben.listGroups())[0]!.requestFrom).toBe('ann');
    await ben.answerGroupRequest(id, 'delete');
    expect(await ben.listGroups()).toEqual([]);
    // Not Ann (whose group Ben refused), nor Abe (added later): Cat is the admin now, at every member.
    for (const e of [ann, cat, abe]) await eventually(async () => expect(await roles(e)).toEqual(['abe:member', 'ann:member', 'cat:admin']));
  });

  test('P42 no request: a group we created, joined by a link we opened, or were added to by someone we wrote to', async () => {
    const [ann, ben, dan] = [await person('ann'), await person('ben'), await person('dan')];
    // Ben wrote to Ann first: she is an accepted contact of his.
    await ben.lookupUser('ann');
    await ben.sendText('ann' as Username, 'hi ann');
    await eventually(async () => expect((await getContact(ben.ctx.vault, 'ann' as Username))?.sharedKey).toBeDefined());
    const id = await ann.createGroup('Friends', '', ['ben']);
    await eventually(async () => expect((await ben.listGroups()).map((g) => g.id)).toEqual([id]));
    expect((await ben.listGroups())[0]!.requestFrom).toBeUndefined();
    expect((await ann.listGroups())[0]!.requestFrom).toBeUndefined();
    // Dan, a stranger to everyone, joins by a link he opened himself.
    const link = await ann.createGroupInviteLink(id, false);
    expect(await dan.joinGroupByInvite(link)).toBe('joined');
    await eventually(async () => expect((await dan.listGroups()).map((g) => g.id)).toEqual([id]));
    expect((await dan.listGroups())[0]!.requestFrom).toBeUndefined();
    await ann.sendGroupText(id, 'welcome');
    await eventually(async () => expect((await mine(ann, id, 'welcome')).receipts).toMatchObject({ of: 2, delivered: 2 }));
  });
});
