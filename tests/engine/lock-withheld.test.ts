/**
 * SECURITY.md P46 against a host that withholds answers: a lock disconnects, then drops the keys
 * once the engine's serial work is done. A request the host never answers (here, alice's sealed
 * send) used to hold that work, and with it the keys, for as long as the host liked. Now the
 * disconnect fails every request still in flight (host-transport.ts), the lock completes, and the
 * outbox sends the message once after the unlock. Real host on loopback, real HostHttpTransport.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { profileAddress } from '../../src/lib/crypto/profile';
import { PROFILE_PATH } from '../../src/lib/wire/profile-api';
import type { Engine } from '../../workers/engine/engine';
import { profileKey } from '../../workers/engine/profile-key';
import { retiredBlobs } from '../../workers/engine/retired-blobs';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { enginesOnRealHost, eventually, texts, withholdFetch, withholding } from './real-host-support';

const kdf = { opslimit: 1, memlimitBytes: 8192 };
const PASS = 'velvet tundra quiz marmalade osprey 93';
const { real, user } = enginesOnRealHost('parley-lock-withheld-');

/** Online, with the work a connect starts (a profile publish among it) done. */
async function quiet(e: Engine): Promise<void> {
  await eventually(() => expect(e.ctx.connection).toBe('online'));
  await e.settle();
}

/** What `p` settles to: its value, or its error's code (handled at once, so never unhandled). */
function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then((v) => v ?? 'done', (e: { code?: string }) => e.code ?? 'failed');
}

/** `p`'s outcome, or 'still waiting' after `ms`. */
function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([p, new Promise((r) => setTimeout(() => r('still waiting'), ms))]);
}

/**
 * The host's profile blobs over a fetch that logs each request ("PUT", then "PUT 200" when it is
 * answered) and withholds every PUT while `hold.on` (`held` counts those).
 */
function profileFetch(hold: { on: boolean }): { log: string[]; fetch: typeof fetch; held: () => number } {
  const log: string[] = [];
  const w = withholding((...a) => globalThis.fetch(...a), (url, init) => hold.on && init.method === 'PUT' && url.includes(PROFILE_PATH));
  const fetch: typeof globalThis.fetch = async (input, init = {}) => {
    const method = init.method ?? 'GET';
    log.push(method);
    const res = await w.fetch(input, init);
    log.push(`${method} ${res.status}`);
    return res;
  };
  return { log, fetch, held: () => w.held };
}

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

  test('a profile upload the host holds is cut off by Lock now: the save answers "not published", nothing more is asked once locked, and the profile goes up after the unlock', async () => {
    const hold = { on: false };
    const host = profileFetch(hold);
    const alice = await user('alice', { appLockKdf: kdf, profiles: host.fetch });
    await alice.locks.enableLock(PASS, 5);
    await quiet(alice);

    hold.on = true;
    const saving = outcome(alice.setProfile({ displayName: 'Alice', about: 'held', avatar: null }));
    await eventually(() => expect(host.held()).toBe(1));
    await alice.locks.lockNow();
    // The upload's work held the identity key its write token is signed with: it must end.
    expect(await within(saving, 2000)).toMatchObject({ published: false });
    const asked = host.log.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(host.log.slice(asked), 'profile requests once locked').toEqual([]);

    hold.on = false;
    await alice.locks.unlock(PASS);
    // Published on the next connect, as any save the host could not take.
    await eventually(() => expect(host.log.slice(asked)).toContain('PUT 200'));
    expect(await alice.myProfile()).toMatchObject({ displayName: 'Alice', about: 'held' });
  });

  test('a block whose new profile the host holds: Lock now cuts it off, the block ends without asking more once locked; after the unlock the block stands and the old profile is deleted', async () => {
    const hold = { on: false };
    const host = profileFetch(hold);
    const alice = await user('alice', { appLockKdf: kdf, profiles: host.fetch });
    const bob = await user('bob');
    await bob.sendText('alice', 'hi');
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['hi']));
    await alice.setProfile({ displayName: 'Alice', about: '', avatar: null });
    await alice.locks.enableLock(PASS, 5);
    const oldAddress = profileAddress(await profileKey(alice.ctx), 'alice');
    await quiet(alice);

    hold.on = true;
    const blocking = outcome(alice.block('bob'));
    await eventually(() => expect(host.held()).toBe(1));
    await alice.locks.lockNow();
    // It ends as Locked, or done when the old blob's delete went out before the keys did.
    expect(['Locked', 'done']).toContain(await within(blocking, 2000));
    const asked = host.log.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(host.log.slice(asked), 'profile requests once locked').toEqual([]);

    hold.on = false;
    await alice.locks.unlock(PASS);
    expect((await alice.contactInfo('bob')).blocked).toBe(true);
    await eventually(() => expect(host.log.slice(asked)).toContain('PUT 200'));
    // The old blob, which bob can still find and open, is deleted once the host takes it (P43).
    await eventually(async () => expect(await httpProfiles(real.host!.url).get(oldAddress)).toBeUndefined());
    expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([]);
  });
});
