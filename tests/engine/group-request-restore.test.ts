/**
 * A group request across a PIN restore (SECURITY.md P42, P26, P19; README "Groups": group
 * requests), engines on the REAL host (HTTP, WebSocket, SQLite on disk, its built-in realm): the
 * account record carries who added us (version 4), so the restored browser still holds the group
 * as a request from the same adder. Nothing about us leaves for it but the key request (no sender
 * key of ours, no receipt, no profile key), and Accept on the restored browser sends the receipts
 * and the profile key as it would have on the old one.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import type { Username } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { getContact } from '../../workers/storage/contact-repo';
import { getGroup } from '../../workers/storage/group-repo';
import { fastStretch } from '../pin/support';
import { eventually, realHostPerTest } from './real-host-support';

const engines: Engine[] = [];
let n = 0;
const SECRET = 'violet tractor umbrella quantum';
const real = realHostPerTest('parley-greq-restore-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function open(name: string): Promise<Engine> {
  const url = real.host!.url;
  const recovery = { realms: [{ id: realmIdFromName('parley'), url: `${url}/realm/` }], threshold: 1, fetch: globalThis.fetch, stretch: fastStretch };
  const e = await Engine.open({
    transport: new HostHttpTransport(url, WebSocket as unknown as WsCtor),
    profiles: httpProfiles(url),
    dbName: `greq-restore-${name}-${process.pid}-${n++}`,
    locks: memoryLocks(),
    retryMs: 50,
    recovery,
    recordDebounceMs: 20,
    deps: systemDeps
  });
  engines.push(e);
  return e;
}

async function user(name: string): Promise<Engine> {
  const e = await open(name);
  await e.createAccount(name);
  e.connect();
  return e;
}

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
const texts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [`${m.sender}: ${m.text}`] : []));
const mine = async (e: Engine, id: string, body: string): Promise<Text> => {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}"`);
  return m;
};
const bensKeysAtAnn = async (ann: Engine, id: string) => (await getGroup(ann.ctx.vault, id))!.theirs.filter((t) => t.theirAddress.username === 'ben').length;

test('P42 P26 a group request restored with the PIN is still a request from the same adder: only the key request leaves, Accept then sends receipts and the profile key', async () => {
  const ann = await user('ann');
  const ben = await user('ben');
  expect(await ben.setupPin(SECRET)).toMatchObject({ enabled: true });
  // Ann, a stranger to Ben, adds him to a group: a request on his browser, in his account record.
  const id = await ann.createGroup('Climbing', '', ['ben']);
  await ann.sendGroupText(id, 'hello');
  await eventually(async () => expect(await texts(ben, id)).toEqual(['ann: hello']));
  expect((await ben.listGroups())[0]).toMatchObject({ id, requestFrom: 'ann' });
  await new Promise((r) => setTimeout(r, 400));
  await ben.settle();

  // The old browser is gone; Ann is offline, so what the restore sends her waits on the host.
  ben.disconnect();
  ann.disconnect();
  const fresh = await open('ben-new');
  expect(await fresh.restoreAccount('ben', SECRET)).toMatchObject({ status: 'restored', groups: 1, groupsMissing: 0 });
  expect(await fresh.listGroups()).toMatchObject([{ id, name: 'Climbing', isMember: true, requestFrom: 'ann' }]);
  expect((await fresh.groupInfo(id)).requestFrom).toBe('ann');
  fresh.connect();
  await fresh.settle();
  // Exactly one envelope, the key request (so Ann's next message is readable here).
  await eventually(() => expect(waiting()).toBe(1));

  ann.connect();
  await eventually(async () => expect((await getGroup(ann.ctx.vault, id))!.distributedTo).not.toContain('ben'));
  // The key request carried no sender key of Ben's: it waits for his first message.
  expect(await bensKeysAtAnn(ann, id)).toBe(0);
  await ann.sendGroupText(id, 'still there?');
  await ann.settle();
  ann.disconnect();
  await eventually(async () => expect(await texts(fresh, id)).toEqual(['ann: still there?']));
  // Read on the restored browser: no receipt, no profile key goes to Ann's mailbox.
  await fresh.markGroupRead(id);
  await fresh.settle();
  expect(await fresh.ctx.vault.db.count('outbox')).toBe(0);
  expect(waiting()).toBe(0);
  expect((await getContact(fresh.ctx.vault, 'ann' as Username))?.sharedKey).toBeUndefined();

  // Accept on the restored browser: the read receipt and Ben's profile key, two envelopes.
  await fresh.answerGroupRequest(id, 'accept');
  expect((await fresh.listGroups())[0]!.requestFrom).toBeUndefined();
  await eventually(() => expect(waiting()).toBe(2));
  ann.connect();
  await eventually(async () => expect((await mine(ann, id, 'still there?')).receipts).toMatchObject({ of: 1, read: 1 }));
  await eventually(async () => expect((await getContact(ann.ctx.vault, 'ben' as Username))?.profileKey).toBeDefined());
  // Ben's first message gives Ann his new sender key; it reads.
  await fresh.sendGroupText(id, 'yes');
  await eventually(async () => expect(await texts(ann, id)).toEqual(['ann: hello', 'ann: still there?', 'ben: yes']));
});
