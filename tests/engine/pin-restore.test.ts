/**
 * PIN recovery end to end in the engine (DESIGN.md §7) against the REAL host with its
 * built-in realm (/realm/) and account-record endpoint, on loopback: set a recovery secret,
 * restore in a brand-new vault, get identity, contacts, verification and blocks back, sign the old
 * browser out, and keep talking with the same safety number. Argon2id is the cheap test stretcher.
 * The shipped host has ONE realm on its own origin, so a short PIN is refused (P38) and these
 * tests use passphrases; the old browser never holds the master secret (P37).
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
import { signTakeover, takeoverKeyPair } from '../../src/lib/crypto/pin/takeover-key';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import type { IdentityKeyPair } from '../../src/lib/crypto/identity';
import { hostAuth } from '../../workers/engine/account';
import { getPinState, type PinState } from '../../workers/storage/pin-repo';
import { eventually, realHostPerTest, texts } from './real-host-support';
import { statusOf } from './support';

let engines: Engine[] = [];
let n = 0;
let now = Date.now();
const deps = { ...systemDeps, now: () => now };
const SECRET = 'violet tractor umbrella quantum';
const OTHER = 'otter plasma wicker junction';
const WRONG = 'glacier mango pepper tangerine';

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

function freshPreKeys(identity: IdentityKeyPair) {
  return { signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 5000, deps)), oneTimePreKeys: [], kemPreKeys: [kemPreKeyPublic(generateKemPreKey(identity, 5000, true, deps))] };
}

/** What the old browser's vault holds for recovery, unsealed as its own code could. */
async function vaultDump(e: Engine): Promise<{ pinState: PinState }> {
  const s = await getPinState(e.ctx.vault);
  if (!s || !('keys' in s)) throw new Error('no derived recovery keys in the vault');
  return { pinState: s };
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
    // P38: one realm on the host's own origin, so even a PIN that passes the pattern rules is refused.
    await expect(alice.setupPin('4829')).rejects.toThrow(/could try every short PIN offline/);
    expect(await alice.setupPin(SECRET)).toMatchObject({ enabled: true, kind: 'passphrase', shortPinAllowed: false, reminderDue: false });
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
    expect(await fresh.restoreAccount('alice', WRONG)).toEqual({ status: 'wrongPin', remaining: 9 });
    expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored', username: 'alice', contacts: 2, blocked: 1 });
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
    await alice.setupPin(SECRET);
    await eventually(async () => expect(await alice.iceServers()).toBeDefined());
    const events: EngineEvent[] = [];
    alice.subscribe((e) => events.push(e));
    await eventually(() => expect(alice.ctx.connection).toBe('online'));
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored' });
    await eventually(() => expect(events.some((e) => e.type === 'signed-out')).toBe(true));
    expect(await alice.account()).toEqual({ username: 'alice', signedOut: true });
  });

  test('P38 after two wrong secrets the realm makes the next one wait: nothing is spent, and the screen can say so', async () => {
    const alice = await user('alice');
    await alice.setupPin(SECRET);
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', WRONG)).toEqual({ status: 'wrongPin', remaining: 9 });
    expect(await fresh.restoreAccount('alice', WRONG)).toEqual({ status: 'wrongPin', remaining: 8 });
    const early = await fresh.restoreAccount('alice', SECRET);
    expect(early).toMatchObject({ status: 'tooSoon', attemptUsed: 'no' });
    // The signed-in browser is told: two wrong attempts, since when.
    const health = await alice.recoveryHealth();
    expect(health).toMatchObject({ wrongGuesses: 2, lost: [], repairable: true });
    expect(health!.failingSince).toBeGreaterThan(Date.now() - 60_000);
    expect(await fresh.account()).toBeNull();
  });

  test('an account without a PIN is not restorable; turning recovery off removes the backup', async () => {
    const alice = await user('alice');
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', SECRET)).toEqual({ status: 'notRegistered' });
    await alice.setupPin(SECRET);
    expect(await alice.disablePin()).toMatchObject({ enabled: false });
    // A realm keeps only a tombstone of a deleted registration, which reads as destroyed.
    expect(await fresh.restoreAccount('alice', SECRET)).toEqual({ status: 'destroyed' });
    // On again with a new secret (authorised by the kept realm auth keys): works.
    await alice.setupPin(OTHER);
    expect(await fresh.restoreAccount('alice', OTHER)).toMatchObject({ status: 'restored' });
  });

  test('P37 a change needs the current secret: a wrong one changes nothing; the changed secret restores and the old one does not', async () => {
    const alice = await user('alice');
    await alice.setupPin(SECRET);
    expect(await alice.changePin(WRONG, OTHER)).toEqual({ status: 'wrongPin', remaining: 9 });
    expect(await alice.changePin(SECRET, OTHER)).toMatchObject({ status: 'changed', pin: { enabled: true } });
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'wrongPin' });
    expect(await fresh.restoreAccount('alice', OTHER)).toMatchObject({ status: 'restored' });
  });

  test('P37 the browser keeps derived keys only: its whole vault cannot take the account back after a restore', async () => {
    const alice = await user('alice');
    await alice.setupPin(SECRET);
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', SECRET)).toMatchObject({ status: 'restored' });
    // The old browser's engine, with everything in its vault, tries the takeover it would need.
    const takeover = alice.ctx.transport.takeover!.bind(alice.ctx.transport);
    const me = alice.ctx.me!;
    const { pinState } = await vaultDump(alice);
    expect(Object.keys(pinState.keys).sort()).toEqual(['accessKey', 'realmAuthKeys', 'recordKey', 'takeoverPublicKey']);
    expect('secret' in pinState || 'legacySecret' in pinState).toBe(false);
    // Every 32-byte value it holds, used as the master secret, yields no valid proof.
    const candidates = [pinState.keys.recordKey, pinState.keys.accessKey, ...pinState.keys.realmAuthKeys, me.identity.signing.privateKey.subarray(0, 32)];
    for (const c of candidates) {
      const key = takeoverKeyPair(c, 'alice');
      await expect(
        takeover(hostAuth({ ...me, device: new Uint8Array(32).fill(9) }), freshPreKeys(me.identity), (ch) => signTakeover(key.privateKey, ch, 'alice', new Uint8Array(32).fill(9)))
      ).rejects.toBeDefined();
    }
    expect(await fresh.account()).toEqual({ username: 'alice' });
  });

  test('reminders are spaced further apart after correct entries and closer after a wrong one', async () => {
    const alice = await user('alice');
    await alice.setupPin(SECRET);
    expect((await alice.pinStatus()).reminderDue).toBe(false);
    now += REMINDER_INTERVALS_MS[0]!;
    expect((await alice.pinStatus()).reminderDue).toBe(true);
    const ok = await alice.checkPinReminder(SECRET);
    expect(ok.correct).toBe(true);
    expect(ok.status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[1]!);
    now += REMINDER_INTERVALS_MS[1]!;
    expect((await alice.checkPinReminder(SECRET)).status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[2]!);
    const wrong = await alice.checkPinReminder(WRONG);
    expect(wrong.correct).toBe(false);
    expect(wrong.status.nextReminderAt).toBe(now + REMINDER_INTERVALS_MS[1]!);
  });
});
