/**
 * PIN recovery end to end in the engine (issue 5, DESIGN.md §7) against the REAL host with its
 * built-in realm (/realm/) and account-record endpoint, on loopback: set a PIN, restore in a
 * brand-new vault, get identity, contacts, verification and blocks back, sign the old browser
 * out, and keep talking with the same safety number. Argon2id is the cheap test stretcher.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { REMINDER_INTERVALS_MS } from '../../workers/engine/pin/reminder';
import { fastStretch } from '../pin/support';
import { eventually, realHostPerTest, texts } from './real-host-support';
import { statusOf } from './support';

let engines: Engine[] = [];
let n = 0;
let now = Date.now();
const deps = { ...systemDeps, now: () => now };

const real = realHostPerTest('parley-pin-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

beforeEach(() => {
  now = Date.now();
});

async function open(name: string): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const recovery = { realms: [{ id: realmIdFromName('parley'), url: `${real.host!.url}/realm/` }], threshold: 1, fetch: globalThis.fetch, stretch: fastStretch };
  const e = await Engine.open({ transport, dbName: `pin-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50, recovery, recordDebounceMs: 20, deps });
  engines.push(e);
  return e;
}

async function user(name: string): Promise<Engine> {
  const e = await open(name);
  await e.createAccount(name);
  e.connect();
  return e;
}

describe('PIN recovery in the engine', () => {
  test('restore on a new browser brings back identity, contacts, verification and blocks; the old one is signed out', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await user('carol');
    await alice.lookupUser('bob');
    await alice.sendText('bob', 'before');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['before']));
    await alice.markVerified('bob', { safetyNumber: (await alice.contactInfo('bob')).safetyNumber });
    const safetyBefore = (await bob.contactInfo('alice')).safetyNumber;

    await expect(alice.setupPin('1234')).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await alice.setupPin('4829')).toMatchObject({ enabled: true, reminderDue: false });
    // Changed AFTER the PIN was set: the debounced re-upload must carry it.
    await alice.lookupUser('carol');
    await alice.block('carol');
    await new Promise((r) => setTimeout(r, 300));
    await alice.settle();

    const events: EngineEvent[] = [];
    alice.subscribe((e) => events.push(e));

    const fresh = await open('alice-new');
    expect(await fresh.account()).toBeNull();
    // Bob writes to the OLD session while alice restores: the new browser cannot decrypt it.
    alice.disconnect();
    await bob.sendText('alice', 'while you were away');
    await eventually(async () => expect(statusOf(await bob.listMessages('alice'), (await bob.listMessages('alice')).at(-1)!.id)).toBe('sent'));
    expect(await fresh.restoreAccount('alice', '0000')).toEqual({ status: 'wrongPin', remaining: 9 });
    expect(await fresh.restoreAccount('alice', '4829')).toMatchObject({ status: 'restored', username: 'alice', contacts: 2, blocked: 1 });
    expect(await fresh.account()).toEqual({ username: 'alice' });

    // The old browser comes back online: it still holds the identity key, but not the device
    // secret, so the host refuses its login and it stops for good.
    alice.connect();
    await eventually(() => expect(events.some((e) => e.type === 'signed-out')).toBe(true));
    expect(await alice.account()).toEqual({ username: 'alice', signedOut: true });

    const bobInfo = await fresh.contactInfo('bob');
    expect(bobInfo).toMatchObject({ verified: true, identityChanged: false, blocked: false });
    expect((await fresh.contactInfo('carol')).blocked).toBe(true);
    expect((await fresh.listChats()).map((c) => c.username).sort()).toEqual(['bob', 'carol']);
    expect(await fresh.pinStatus()).toMatchObject({ enabled: true });

    fresh.connect();
    await fresh.sendText('bob', 'back again');
    await eventually(async () => expect((await texts(bob, 'alice')).sort()).toEqual(['back again', 'before', 'while you were away']));
    const seenByBob = await bob.contactInfo('alice');
    expect(seenByBob.safetyNumber).toBe(safetyBefore);
    expect(seenByBob.identityChanged).toBe(false);
    expect(bobInfo.safetyNumber).toBe(safetyBefore);
    await bob.sendText('alice', 'welcome back');
    // The retry brought the lost message back, once, and the conversation goes on both ways.
    await eventually(async () => expect((await texts(fresh, 'bob')).sort()).toEqual(['back again', 'welcome back', 'while you were away']));
    expect((await texts(bob, 'alice')).filter((t) => t === 'while you were away')).toHaveLength(1);
  });

  test('a browser online during the restore is signed out at once by its socket', async () => {
    const alice = await user('alice');
    await alice.setupPin('4829');
    await eventually(async () => expect(await alice.iceServers()).toBeDefined());
    const events: EngineEvent[] = [];
    alice.subscribe((e) => events.push(e));
    await eventually(() => expect(alice.ctx.connection).toBe('online'));
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', '4829')).toMatchObject({ status: 'restored' });
    await eventually(() => expect(events.some((e) => e.type === 'signed-out')).toBe(true));
    expect(await alice.account()).toEqual({ username: 'alice', signedOut: true });
  });

  test('P23 ten wrong PINs destroy the backup and then the right PIN cannot restore', async () => {
    const alice = await user('alice');
    await alice.setupPin('4829');
    const fresh = await open('alice-new');
    for (let i = 9; i >= 1; i--) expect(await fresh.restoreAccount('alice', '1111')).toEqual({ status: 'wrongPin', remaining: i });
    expect(await fresh.restoreAccount('alice', '1111')).toEqual({ status: 'destroyed' });
    expect(await fresh.restoreAccount('alice', '4829')).toEqual({ status: 'destroyed' });
    expect(await fresh.account()).toBeNull();
  });

  test('an account without a PIN is not restorable; turning recovery off removes the backup', async () => {
    const alice = await user('alice');
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', '4829')).toEqual({ status: 'notRegistered' });
    await alice.setupPin('4829');
    expect(await alice.disablePin()).toMatchObject({ enabled: false });
    // A realm keeps only a tombstone of a deleted registration, which reads as destroyed.
    expect(await fresh.restoreAccount('alice', '4829')).toEqual({ status: 'destroyed' });
    // On again with a new PIN: works.
    await alice.setupPin('5930');
    expect(await fresh.restoreAccount('alice', '5930')).toMatchObject({ status: 'restored' });
  });

  test('a changed PIN restores and the old one does not', async () => {
    const alice = await user('alice');
    await alice.setupPin('4829');
    await alice.changePin('7351');
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', '4829')).toMatchObject({ status: 'wrongPin' });
    expect(await fresh.restoreAccount('alice', '7351')).toMatchObject({ status: 'restored' });
  });

  test('reminders are spaced further apart after correct entries and closer after a wrong one', async () => {
    const alice = await user('alice');
    await alice.setupPin('4829');
    expect((await alice.pinStatus()).reminderDue).toBe(false);
    now += REMINDER_INTERVALS_MS[0]!;
    expect((await alice.pinStatus()).reminderDue).toBe(true);
    const ok = await alice.checkPinReminder('4829');
    expect(ok.correct).toBe(true);
    expect(ok.status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[1]!);
    now += REMINDER_INTERVALS_MS[1]!;
    expect((await alice.checkPinReminder('4829')).status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[2]!);
    const wrong = await alice.checkPinReminder('0000');
    expect(wrong.correct).toBe(false);
    expect(wrong.status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[1]!);
  });
});
