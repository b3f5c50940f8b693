/**
 * Receipts per member and mentions in a group (README "Groups"), through engines on the REAL host
 * (src/host/server.ts on loopback). Receipts travel pairwise inside the 1:1 ratchet (kind 0x15,
 * sealed as 1:1 receipts, P41), to the message's sender only; a receipt from a non-member, for an
 * id that is not the receiver's own message, or replayed, changes nothing. Mentions name members
 * only (checked by the sender and again by every receiver).
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { applyGroupReceipt } from '../../workers/engine/group-receipts';
import { hostAuth } from '../../workers/engine/account';
import { getGroup, listGroupMessages } from '../../workers/storage/group-repo';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { encodeContent, newMessageId, type GroupReceiptContent } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { systemDeps } from '../../src/lib/crypto/deps';
import type { Username } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { eventually, realHostPerTest } from './real-host-support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-greceipts-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function person(name: string): Promise<Engine> {
  const t = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport: t, dbName: `grc-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  await e.createAccount(name);
  e.connect();
  return e;
}

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const textOf = async (e: Engine, id: string, body: string): Promise<Text> => {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}" yet`);
  return m;
};
const counts = async (e: Engine, id: string, body: string) => {
  const r = (await textOf(e, id, body)).receipts!;
  return { delivered: r.delivered, read: r.read, of: r.of };
};
const stateOf = async (e: Engine, id: string, body: string) =>
  Object.fromEntries((await textOf(e, id, body)).receipts!.members.map((m) => [m.username, m.state]));

/** Sends `content` from `from` to `to` pairwise, through the real outbox and ratchet. */
async function sendRaw(from: Engine, to: string, content: GroupReceiptContent): Promise<void> {
  await commit(from.ctx.vault, (tx) => addOutbox(tx, { username: to as Username, content: encodeContent(content) }));
  from.ctx.kickOutbox();
  await eventually(async () => expect(await from.ctx.vault.db.count('outbox')).toBe(0));
}

/** Ann (admin) with Ben, Cat and Dan; Ann's "hello" delivered to all three. */
async function group() {
  const [ann, ben, cat, dan] = [await person('ann'), await person('ben'), await person('cat'), await person('dan')];
  const id = await ann.createGroup('Climbing', '', ['ben', 'cat', 'dan']);
  for (const p of [ben, cat, dan]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(4));
  // Ann is a stranger to them: each accepts the group request (P42, group-requests.test.ts) first.
  for (const p of [ben, cat, dan]) await p.answerGroupRequest(id, 'accept');
  await ann.sendGroupText(id, 'hello');
  for (const p of [ben, cat, dan]) await eventually(async () => void (await textOf(p, id, 'hello')));
  return { id, ann, ben, cat, dan };
}

describe('group receipts and mentions on the real host', () => {
  test('P41 receipts per member: Delivered to 3 of 3, then Read by 1, 2, 3 of 3, each to the sender only', async () => {
    const { id, ann, ben, cat, dan } = await group();
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 0, of: 3 }));
    await ben.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 1, of: 3 }));
    expect(await stateOf(ann, id, 'hello')).toEqual({ ben: 'read', cat: 'delivered', dan: 'delivered' });
    await cat.markGroupRead(id);
    await dan.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 3, of: 3 }));
    // Only the sender learns: Ben's copy of Ann's message carries no receipts, and Ben's own
    // message collects its own receipts, not Ann's.
    expect((await textOf(ben, id, 'hello')).receipts).toBeUndefined();
    await ben.sendGroupText(id, 'from ben');
    await eventually(async () => expect(await counts(ben, id, 'from ben')).toEqual({ delivered: 3, read: 0, of: 3 }));
    expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 3, of: 3 });
    // Reading again sends nothing more (no unread left): the state stays.
    await ben.markGroupRead(id);
    expect(await ben.ctx.vault.db.count('outbox')).toBe(0);
  });

  test('P41 a receipt from a non-member, for an id that is not our message, or replayed changes nothing', async () => {
    const { id, ann, ben, cat } = await group();
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 0, of: 3 }));
    const hello = (await textOf(ann, id, 'hello')).id.split(':')[1]!;
    // 1. Mallory, no member, with a real pairwise session to Ann, claims to have read it.
    const mallory = await person('mallory');
    await sendRaw(mallory, 'ann', { kind: 'groupReceipt', groupId: id, receipt: 'read', ids: [hello] });
    // 2. Ben (a member) names Cat's message (not Ann's) and an id Ann never sent.
    await cat.sendGroupText(id, 'from cat');
    await eventually(async () => void (await textOf(ann, id, 'from cat')));
    const fromCat = (await textOf(ann, id, 'from cat')).id.split(':').at(-1)!;
    await sendRaw(ben, 'ann', { kind: 'groupReceipt', groupId: id, receipt: 'read', ids: [fromCat, newMessageId(systemDeps.rng)] });
    // 3. Ben names Ann's message under another group's id (one Ben is not in).
    const other = await ann.createGroup('Other', '', ['cat']);
    await sendRaw(ben, 'ann', { kind: 'groupReceipt', groupId: other, receipt: 'read', ids: [hello] });
    // A marker after all of them: once Ann has it, she has processed the forgeries too.
    await cat.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 1, of: 3 }));
    expect(await stateOf(ann, id, 'hello')).toEqual({ ben: 'delivered', cat: 'read', dan: 'delivered' });
    expect((await textOf(ann, id, 'from cat')).receipts).toBeUndefined();
    // Nothing was recorded for anyone outside the recipients (Mallory) either.
    const row = (await listGroupMessages(ann.ctx.vault, id)).find((m) => m.id === hello)!;
    expect(Object.keys(row.receipts ?? {}).sort()).toEqual(['ben', 'cat', 'dan']);
    // 4. Replayed and reordered: Cat's read receipt again, and then an older "delivered" one.
    const replay: GroupReceiptContent = { kind: 'groupReceipt', groupId: id, receipt: 'read', ids: [hello] };
    expect(await commit(ann.ctx.vault, (tx) => applyGroupReceipt(tx, 'cat' as Username, replay))).toEqual([]);
    await sendRaw(cat, 'ann', { ...replay, receipt: 'delivered' });
    await sendRaw(cat, 'ann', replay);
    await ben.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 2, of: 3 }));
    expect(await stateOf(ann, id, 'hello')).toEqual({ ben: 'read', cat: 'read', dan: 'delivered' });
    // 5. A member removed since: their receipt no longer counts.
    await ann.removeGroupMember(id, 'dan');
    expect(await commit(ann.ctx.vault, (tx) => applyGroupReceipt(tx, 'dan' as Username, replay))).toEqual([]);
  });

  test('P41 read receipts off: the member sends none, and a sender with it off counts reads as delivered', async () => {
    const { id, ann, ben, cat } = await group();
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 0, of: 3 }));
    await ben.setPrivacySettings({ readReceipts: false });
    await ben.markGroupRead(id);
    expect(await ben.ctx.vault.db.count('outbox')).toBe(0);
    await cat.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 1, of: 3 }));
    expect(await stateOf(ann, id, 'hello')).toEqual({ ben: 'delivered', cat: 'read', dan: 'delivered' });
    // Ann turns them off herself: Dan's read receipt now moves Dan to "delivered" only.
    await ann.setPrivacySettings({ readReceipts: false });
    const dan = engines[3]!;
    await dan.markGroupRead(id);
    await ann.sendGroupText(id, 'marker');
    await eventually(async () => expect((await counts(ann, id, 'marker')).delivered).toBe(3));
    expect((await stateOf(ann, id, 'hello')).dan).toBe('delivered');
  });

  test('P41 P42 a member who blocked the sender drops its messages and sends it no receipt, delivered or read', async () => {
    const { id, ann, ben, cat, dan } = await group();
    await eventually(async () => expect(await counts(ann, id, 'hello')).toEqual({ delivered: 3, read: 0, of: 3 }));
    await ben.block('ann' as Username);
    await ann.sendGroupText(id, 'second');
    // Blocking drops her group messages (group-block.test.ts): Ben stores nothing to acknowledge.
    await eventually(async () => void (await textOf(cat, id, 'second')));
    await ben.markGroupRead(id);
    // Anything Ben queued has left before Cat and Dan read: Ann's mailbox has it before theirs.
    await eventually(async () => expect(await ben.ctx.vault.db.count('outbox')).toBe(0));
    await cat.markGroupRead(id);
    await dan.markGroupRead(id);
    await eventually(async () => expect(await counts(ann, id, 'second')).toEqual({ delivered: 2, read: 2, of: 3 }));
    expect(await stateOf(ann, id, 'second')).toEqual({ ben: 'sent', cat: 'read', dan: 'read' });
    expect((await stateOf(ann, id, 'hello')).ben).toBe('delivered');
    await expect(textOf(ben, id, 'second')).rejects.toThrow('no "second" yet');
  });

  test('mentions: members only, checked by the sender and by every receiver; "@" until read', async () => {
    const { id, ann, ben, cat } = await group();
    await expect(ann.sendGroupText(id, 'hey @mallory', ['mallory' as Username])).rejects.toMatchObject({ code: 'InvalidArgument' });
    // Ben muted the group: a mention still counts (and notifies, attention.ts).
    await ben.setGroupFlags(id, { muted: true });
    expect((await ben.listGroups())[0]).toMatchObject({ id, flags: { pinned: false, muted: true, archived: false }, mentions: 0 });
    await ann.sendGroupText(id, 'hey @ben', ['ben' as Username]);
    await eventually(async () => expect((await textOf(ben, id, 'hey @ben')).mentions).toEqual(['ben']));
    expect((await ben.listGroups())[0]).toMatchObject({ id, mentions: 1, flags: { muted: true } });
    expect((await cat.listGroups())[0]).toMatchObject({ id, mentions: 0 });
    expect((await textOf(cat, id, 'hey @ben')).mentions).toEqual(['ben']);
    await ben.markGroupRead(id);
    expect((await ben.listGroups())[0]!.mentions).toBe(0);
    // A modified client of Ann's lists a non-member and Ben twice: receivers keep members only.
    const g = (await getGroup(ann.ctx.vault, id))!;
    const content = encodeContent({ kind: 'text', id: newMessageId(systemDeps.rng), sentAt: Date.now(), text: 'forged @mallory @ben' });
    const plain = encodeGroupText({ headVersion: g.history.head.version, headHash: stateHash(g.history.head), content, mentions: ['mallory', 'ben', 'ben'] as Username[] });
    const { message } = groupEncrypt(g.our!, plain);
    await ann.ctx.transport.groupSend!(hostAuth(ann.ctx.me!), ['ben', 'cat'] as Username[], message);
    await eventually(async () => expect((await textOf(ben, id, 'forged @mallory @ben')).mentions).toEqual(['ben']));
    expect((await ben.listGroups())[0]!.mentions).toBe(1);
  });
});
