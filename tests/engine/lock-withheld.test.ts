/**
 * SECURITY.md P46 against a host that withholds answers: a lock disconnects, then drops the keys
 * once the engine's serial work is done. A request the host never answers (here, alice's sealed
 * send) used to hold that work, and with it the keys, for as long as the host liked. Now the
 * disconnect fails every request still in flight (host-transport.ts), the lock completes, and the
 * outbox sends the message once after the unlock. Real host on loopback, real HostHttpTransport.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { enginesOnRealHost, eventually, texts, withholdFetch } from './real-host-support';

const kdf = { opslimit: 1, memlimitBytes: 8192 };
const PASS = 'velvet tundra quiz marmalade osprey 93';
const { user } = enginesOnRealHost('parley-lock-withheld-');

describe('P46 a lock and a host that withholds', () => {
  test('Lock now completes and drops the keys while a sealed send waits for an answer that never comes; the message goes once after the unlock', async () => {
    let hold = false;
    let seen = { held: 0 };
    const alice = await user('alice', { appLockKdf: kdf, wrap: (t) => (seen = withholdFetch(t, (_, init) => hold && init.method === 'POST')) });
    const bob = await user('bob');
    await alice.sendText('bob', 'hi');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hi']));
    await bob.acceptRequest('alice'); // shares his profile key: alice's sends to him go sealed, over HTTP
    await bob.sendText('alice', 'hello'); // carries his profile key (P43)
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['hi', 'hello']));
    await alice.locks.enableLock(PASS, 5);

    hold = true;
    await alice.sendText('bob', 'held by the host');
    await eventually(() => expect(seen.held).toBeGreaterThan(0));

    const locked = alice.locks.lockNow().then(() => 'locked');
    const outcome = await Promise.race([locked, new Promise((r) => setTimeout(() => r('still waiting'), 5000))]);
    expect(outcome).toBe('locked');
    expect(alice.ctx.vault.locked).toBe(true);
    expect(alice.ctx.me).toBeUndefined();

    hold = false;
    await alice.locks.unlock(PASS);
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hi', 'hello', 'held by the host']));
    await new Promise((r) => setTimeout(r, 300));
    expect(await texts(bob, 'alice')).toEqual(['hi', 'hello', 'held by the host']);
  });
});
