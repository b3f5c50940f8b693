/**
 * A lock under a call (SECURITY.md P46; README "Calls and the lock"): Lock now in another tab
 * reaches the vault before the page on the call can act, so the page arms its call's ending ahead
 * (`armCallEnding`) and the vault carries it out while it still holds the keys: the hang-up goes
 * through the ratchet and the call is logged. A call ringing here sends nothing (P42), and what the
 * page may arm can only end that one call.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { decodeCallSignal, encodeCallSignal, type CallSignal } from '../../src/lib/wire/call';
import type { CallEnding } from '../../src/lib/vault/views';
import type { EngineEvent } from '../../workers/engine/events';
import { LOCK_SIGNAL_WAIT_MS } from '../../workers/engine/calls';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUser, openUser, settle, type User } from './support';

const kdf = { opslimit: 1, memlimitBytes: 8192 };
const PASS = 'velvet tundra quiz marmalade osprey 93';
const CALL = 'c0'.repeat(16);

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Alice in two tabs (tab1 drives the socket) with the lock on, and bob, who accepted her. */
async function twoTabs() {
  const host = new MemoryHost();
  const locks = memoryLocks();
  const tab1 = await newUser(host, 'alice', { appLockKdf: kdf, locks });
  const bob = await newUser(host, 'bob');
  open.push(tab1, bob);
  await tab1.engine.sendText('bob', 'hi');
  await settle(tab1, bob);
  await bob.engine.acceptRequest('alice');
  await settle(tab1, bob);
  const tab2 = await openUser(host, 'alice', { appLockKdf: kdf, locks }, tab1.dbName);
  open.push(tab2);
  await tab1.engine.locks.enableLock(PASS, 5);
  await new Promise((r) => setTimeout(r, 50));
  await tab2.engine.locks.unlock(PASS);
  const heard: CallSignal[] = [];
  bob.engine.subscribe((e: EngineEvent) => {
    if (e.type === 'call') heard.push(decodeCallSignal(e.signal));
  });
  /** Lock now in tab2; resolves once tab1 heard it and locked, and bob took whatever came. */
  const lockElsewhere = async () => {
    await tab2.engine.locks.lockNow();
    await until(() => tab1.engine.ctx.vault.locked === true);
    await settle(bob);
  };
  return { host, tab1, bob, heard, lockElsewhere };
}

function ending(signal: CallSignal | undefined, over: Partial<CallEnding['entry']> = {}, connectedAt?: number): CallEnding {
  return {
    signal: signal && encodeCallSignal(signal),
    entry: { callId: CALL, direction: 'out', media: 'video', outcome: 'completed', durationMs: 0, at: Date.now() - 90_000, ...over },
    connectedAt
  };
}

async function callNotices(u: User): Promise<string[]> {
  return (await u.engine.listMessages('bob')).flatMap((m) => (m.kind === 'notice' && m.id.startsWith('call:') ? [m.notice] : []));
}

/** Waits until `check` holds (the other tab hears the lock through the tab channel). */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('P46 a lock under a call', () => {
  test('Lock now in another tab: the tab on the call hangs up inside the ratchet and logs the call before its keys go', async () => {
    const { host, tab1, bob, heard, lockElsewhere } = await twoTabs();
    await tab1.engine.armCallEnding('bob', ending({ type: 'hangup', callId: CALL, reason: 'ended' }, {}, Date.now() - 65_000));
    const before = host.sent.length;

    await lockElsewhere();
    // The hang-up reached bob through the ratchet: one more envelope, opened by his session.
    expect(heard).toEqual([{ type: 'hangup', callId: CALL, reason: 'ended' }]);
    expect(host.sent.length).toBe(before + 1);
    expect(tab1.engine.ctx.me).toBeUndefined();

    // The call's entry was written before the lock, its duration counted to the lock.
    await tab1.engine.locks.unlock(PASS);
    expect(await callNotices(tab1)).toEqual(['call:out:video:completed:65']);
    // The page's own end for that call, arriving after the lock, is not sent a second time;
    // and the ending was taken by that lock: the next lock sends nothing more.
    await tab1.engine.sendCallSignal('bob', encodeCallSignal({ type: 'hangup', callId: CALL, reason: 'ended' }));
    await tab1.engine.locks.lockNow();
    await tab1.engine.locks.unlock(PASS);
    await settle(tab1, bob);
    expect(heard).toHaveLength(1);
    expect(host.sent.length).toBe(before + 1);
  });

  test('a call still ringing here ends as missed and answers nothing; one we place is cancelled', async () => {
    const { host, tab1, bob, heard, lockElsewhere } = await twoTabs();
    await tab1.engine.armCallEnding('bob', ending(undefined, { direction: 'in', outcome: 'missed' }));
    const before = host.sent.length;
    await lockElsewhere();
    expect(host.sent.length).toBe(before);
    expect(heard).toEqual([]);
    await tab1.engine.locks.unlock(PASS);
    expect(await callNotices(tab1)).toEqual(['call:in:video:missed:0']);

    await tab1.engine.armCallEnding('bob', ending({ type: 'cancel', callId: CALL }, { outcome: 'cancelled' }));
    await tab1.engine.locks.lockNow();
    await settle(bob);
    expect(heard).toEqual([{ type: 'cancel', callId: CALL }]);
    await tab1.engine.locks.unlock(PASS);
    expect(await callNotices(tab1)).toEqual(['call:out:video:cancelled:0']);
  });

  test('disarmed (the call ended on screen): a lock sends and logs nothing', async () => {
    const { host, tab1, heard, lockElsewhere } = await twoTabs();
    await tab1.engine.armCallEnding('bob', ending({ type: 'hangup', callId: CALL, reason: 'ended' }));
    await tab1.engine.armCallEnding('', null);
    const before = host.sent.length;
    await lockElsewhere();
    expect(host.sent.length).toBe(before);
    expect(heard).toEqual([]);
    await tab1.engine.locks.unlock(PASS);
    expect(await callNotices(tab1)).toEqual([]);
  });

  test('what a lock may send only ends the armed call: an offer, an answer, a decline, another call\'s end or bytes that are no signal are refused', async () => {
    const { tab1 } = await twoTabs();
    const refused = async (e: CallEnding) => expect(tab1.engine.armCallEnding('bob', e)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await refused(ending({ type: 'offer', callId: CALL, peerId: '7e'.repeat(16), dtlsFingerprint: new Uint8Array(32), media: 'audio', sentAt: Date.now() }));
    await refused(ending({ type: 'answer', callId: CALL, peerId: '7e'.repeat(16), dtlsFingerprint: new Uint8Array(32) }));
    await refused(ending({ type: 'decline', callId: CALL, reason: 'busy' }));
    await refused(ending({ type: 'hangup', callId: 'c1'.repeat(16), reason: 'ended' }));
    await refused({ ...ending(undefined), signal: new Uint8Array([1, 2, 3]) });
    await refused(ending(undefined, { callId: 'nope' }));
    await refused(ending(undefined, {}, -5));
    await expect(tab1.engine.armCallEnding('', ending(undefined))).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  test('the host away at the lock: the lock does not wait for it, the hang-up waits in the outbox and goes once after the unlock', async () => {
    const { host, tab1, bob, heard } = await twoTabs();
    await tab1.engine.armCallEnding('bob', ending({ type: 'hangup', callId: CALL, reason: 'ended' }, {}, Date.now() - 5_000));
    host.up = false;
    const t0 = Date.now();
    await tab1.engine.locks.lockNow();
    expect(Date.now() - t0).toBeLessThan(LOCK_SIGNAL_WAIT_MS + 1000);
    expect(tab1.engine.ctx.vault.locked).toBe(true);
    expect(heard).toEqual([]);
    host.up = true;
    await tab1.engine.locks.unlock(PASS);
    await tab1.engine.sendText('bob', 'sorry, my laptop locked'); // any send kicks the outbox
    await settle(tab1, bob);
    await new Promise((r) => setTimeout(r, 50));
    await settle(tab1, bob);
    expect(heard).toEqual([{ type: 'hangup', callId: CALL, reason: 'ended' }]);
    expect(await callNotices(tab1)).toEqual(['call:out:video:completed:5']);
  });
});
