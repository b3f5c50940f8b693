/**
 * Groups a PIN restore could not fetch are not lost (DESIGN.md §7; README "PIN recovery": groups;
 * workers/engine/pin/pending-groups.ts), against the REAL host with its built-in realm: while the
 * host will not give a group's state blob, the restored browser keeps the group's record entry
 * sealed (P32), carries it into the account record it uploads (so the backup still has the group),
 * counts it for the app, and fetches it again when its connection comes up, through the same
 * trusted-head check (P19); then group messages flow (P21: from then on).
 */
import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { decodeGroupEntries, encodeGroupEntries, ACCOUNT_RECORD_VERSION } from '../../src/lib/crypto/account-record';
import { toHex } from '../../src/lib/codec/bytes';
import { Engine } from '../../workers/engine/engine';
import { engineFail } from '../../workers/engine/errors';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { buildAccountRecord } from '../../workers/engine/pin/record';
import { getGroup } from '../../workers/storage/group-repo';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { fastStretch } from '../pin/support';
import { eventually, realHostPerTest } from './real-host-support';

const engines: Engine[] = [];
let n = 0;
const SECRET = 'violet tractor umbrella quantum';
const real = realHostPerTest('parley-restore-pending-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

/** An engine whose group-blob fetches fail as a down host's would while `blobsDown.value` is true. */
async function open(name: string, blobsDown = { value: false, fetches: 0 }, clock = { skewMs: 0 }): Promise<Engine> {
  const url = real.host!.url;
  const transport = new HostHttpTransport(url, WebSocket as unknown as WsCtor);
  const fetchBlob = transport.getGroupBlob.bind(transport);
  transport.getGroupBlob = async (address) => {
    blobsDown.fetches++;
    return blobsDown.value ? engineFail('Unavailable', 'group blob store down') : fetchBlob(address);
  };
  const e = await Engine.open({
    transport,
    profiles: httpProfiles(url),
    dbName: `restore-pending-${name}-${process.pid}-${n++}`,
    locks: memoryLocks(),
    retryMs: 50,
    recovery: { realms: [{ id: realmIdFromName('parley'), url: `${url}/realm/` }], threshold: 1, fetch: globalThis.fetch, stretch: fastStretch },
    recordDebounceMs: 20,
    deps: { ...systemDeps, now: () => systemDeps.now() + clock.skewMs }
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

const groupTexts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'text' ? [`${m.sender}: ${m.text}`] : []));

test('group entries encode alone in the record encoding, read back after an update, and refuse an unknown version', () => {
  const entry = { id: new Uint8Array(32).fill(1), masterKey: new Uint8Array(32).fill(2), headVersion: 7, headHash: new Uint8Array(32).fill(3), requestFrom: 'ann' as never };
  const bytes = encodeGroupEntries([entry]);
  expect(bytes[0]).toBe(ACCOUNT_RECORD_VERSION);
  expect(decodeGroupEntries(bytes)).toEqual([entry]);
  const older = bytes.slice();
  older[0] = 4;
  expect(decodeGroupEntries(older)).toEqual([entry]);
  for (const v of [2, ACCOUNT_RECORD_VERSION + 1]) {
    const other = bytes.slice();
    other[0] = v;
    expect(() => decodeGroupEntries(other)).toThrow(/version/);
  }
});

test('P19 P21 P32 a group whose blob the host would not give at restore stays in the backup, is counted, and comes back on a later connect', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true });
  const id = await alice.createGroup('Allotment', '', ['bob']);
  await eventually(async () => expect(await bob.listGroups()).toMatchObject([{ id, isMember: true }]));
  await new Promise((r) => setTimeout(r, 400));
  await alice.settle();
  const masterKey = (await getGroup(alice.ctx.vault, id))!.masterKey;
  alice.disconnect();

  const blobsDown = { value: true, fetches: 0 };
  const clock = { skewMs: 0 };
  const fresh = await open('alice-new', blobsDown, clock);
  expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', groups: 0, groupsMissing: 1 });
  expect(await fresh.listGroups()).toEqual([]);
  expect(await fresh.groupsPendingRestore()).toBe(1);
  // P32: the kept entry (with the group's master key) is sealed at rest.
  const row = (await fresh.ctx.vault.db.get('meta', 'groupsPendingRestore')) as { iv: Uint8Array; ct: Uint8Array };
  expect(Object.keys(row).sort()).toEqual(['ct', 'iv']);
  expect(toHex(row.ct)).not.toContain(toHex(masterKey));
  // The record this browser uploads still names the group, so a later restore can find it.
  expect((await buildAccountRecord(fresh.ctx)).groups.map((g) => toHex(g.id))).toEqual([id]);

  // Connected while the blob is still unavailable: still pending, nothing guessed.
  const atRestore = blobsDown.fetches;
  fresh.connect();
  await eventually(() => expect(blobsDown.fetches).toBe(atRestore + 1));
  await fresh.settle();
  expect(await fresh.groupsPendingRestore()).toBe(1);
  expect(await fresh.listGroups()).toEqual([]);

  // A host that keeps dropping the socket gets no fetch per reconnect: one a minute at most.
  for (let i = 0; i < 3; i++) {
    await fresh.disconnect();
    fresh.connect();
    await eventually(async () => expect(fresh.ctx.connection).toBe('online'));
    await fresh.settle();
  }
  expect(blobsDown.fetches).toBe(atRestore + 1);

  // The host gives it again: the next connect a minute on brings the group back, checked against the record's head.
  blobsDown.value = false;
  clock.skewMs += 61_000;
  await fresh.disconnect();
  fresh.connect();
  await eventually(async () => expect(await fresh.listGroups()).toMatchObject([{ id, name: 'Allotment', isMember: true, memberCount: 2 }]));
  await eventually(async () => expect(await fresh.groupsPendingRestore()).toBe(0));
  expect(await fresh.ctx.vault.db.get('meta', 'groupsPendingRestore')).toBeUndefined();
  expect((await buildAccountRecord(fresh.ctx)).groups.map((g) => toHex(g.id))).toEqual([id]);

  // P21: the key request went out with the late restore; bob's next message reads, and ours reaches him.
  await eventually(async () => expect((await getGroup(bob.ctx.vault, id))!.distributedTo).not.toContain('alice'));
  await bob.sendGroupText(id, 'welcome back');
  await eventually(async () => expect(await groupTexts(fresh, id)).toEqual(['bob: welcome back']));
  await fresh.sendGroupText(id, 'thanks');
  await eventually(async () => expect(await groupTexts(bob, id)).toContain('alice: thanks'));
});
