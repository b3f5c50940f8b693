/**
 * Owed deletes of owner-written blobs (workers/engine/retired-blobs.ts). SECURITY.md P43: blocking
 * moves our profile to a new key's address, and the old blob, which the blocked person can still
 * find and open, must go. Private discovery: a reset username link must stop naming us. A delete
 * the host does not take (down, rate-limited) stays owed in the vault and goes on the next
 * connect; one refused for good is crossed off. Real host on loopback, real blob transports.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { profileAddress } from '../../src/lib/crypto/profile';
import { PROFILE_PATH } from '../../src/lib/wire/profile-api';
import { USERNAME_LINK_PATH } from '../../src/lib/wire/username-link-api';
import type { Engine } from '../../workers/engine/engine';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { profileKey } from '../../workers/engine/profile-key';
import { MAX_RETIRED, retiredBlobs, txRetireBlob } from '../../workers/engine/retired-blobs';
import { commit } from '../../workers/storage/vault';
import { enginesOnRealHost, eventually, texts } from './real-host-support';

const { real, user } = enginesOnRealHost('parley-retired-blobs-');

/** While `answer` is set, a DELETE is answered with it instead of by the host; `asked` counts those. */
interface Refuse {
  answer?: () => Response;
  asked: number;
}

/** Requests over the real fetch, except the DELETEs under `path` that `refuse` answers. */
function deletes(refuse: Refuse, path = PROFILE_PATH): typeof fetch {
  return (input, init = {}) => {
    if (!refuse.answer || init.method !== 'DELETE' || !String(input).includes(path)) return globalThis.fetch(input, init);
    refuse.asked++;
    return Promise.resolve(refuse.answer());
  };
}

const refusal = (status: number, code: string) => () => new Response(JSON.stringify({ error: { code, message: 'refused' } }), { status, headers: { 'Content-Type': 'application/json' } });

/** alice with a profile, and carol holding alice's profile key. */
async function aliceAndCarol(refuse: Refuse): Promise<{ alice: Engine; carol: Engine; oldAddress: Uint8Array }> {
  const alice = await user('alice', { profiles: deletes(refuse) });
  const carol = await user('carol', { profiles: true });
  await alice.setProfile({ displayName: 'Alice', about: 'before the block', avatar: null });
  await alice.lookupUser('carol');
  await alice.sendText('carol', 'hi'); // carries alice's profile key (P43)
  await eventually(async () => expect(await texts(carol, 'alice')).toEqual(['hi']));
  return { alice, carol, oldAddress: profileAddress(await profileKey(alice.ctx), 'alice') };
}

describe('a reset username link', () => {
  test('the old link stops naming us once the host takes the delete, though it did not at the reset', async () => {
    const refuse: Refuse = { answer: refusal(503, 'Unavailable'), asked: 0 };
    const alice = await user('alice', { usernameLinks: deletes(refuse, USERNAME_LINK_PATH) });
    const bob = await user('bob', { usernameLinks: true });
    const old = await alice.usernameLink();
    expect(await bob.openUsernameLink(old)).toEqual({ username: 'alice' });

    const fresh = await alice.resetUsernameLink();
    expect(await bob.openUsernameLink(fresh)).toEqual({ username: 'alice' });
    // The host did not take the delete: the old link still names alice, and the vault owes it.
    expect(await bob.openUsernameLink(old)).toEqual({ username: 'alice' });
    expect(await retiredBlobs(alice.ctx, 'link')).toHaveLength(1);

    refuse.answer = undefined;
    alice.disconnect();
    alice.connect();
    await eventually(async () => expect(await retiredBlobs(alice.ctx, 'link')).toEqual([]));
    await expect(bob.openUsernameLink(old)).rejects.toMatchObject({ code: 'NoSuchUser' });
    expect(await bob.openUsernameLink(fresh)).toEqual({ username: 'alice' });
    expect(await alice.usernameLink()).toBe(fresh);
  });
});

describe('P43 the old profile blob after a block', () => {
  test('a delete the host does not take stays owed: the old blob is still there after the block, nothing is asked offline, and the next connect deletes it', async () => {
    const refuse: Refuse = { answer: refusal(503, 'Unavailable'), asked: 0 };
    const { alice, oldAddress } = await aliceAndCarol(refuse);
    const host = httpProfiles(real.host!.url);

    await alice.block('carol');
    expect(await host.get(oldAddress), 'the old blob, still on the host').toBeDefined();
    expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([oldAddress]);

    // Offline nothing is retried; the next connect deletes it.
    alice.disconnect();
    refuse.answer = undefined;
    await new Promise((r) => setTimeout(r, 300));
    expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([oldAddress]);
    alice.connect();
    await eventually(async () => expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([]));
    expect(await host.get(oldAddress), 'the old blob, once the host took the delete').toBeUndefined();
    // The new profile is where the new key finds it.
    expect(await host.get(profileAddress(await profileKey(alice.ctx), 'alice'))).toBeDefined();
  });

  test('while the socket stays up, a delete the host does not take is tried again on the backoff until it goes', async () => {
    const refuse: Refuse = { answer: refusal(429, 'RateLimited'), asked: 0 };
    const { alice, oldAddress } = await aliceAndCarol(refuse);
    await alice.block('carol');
    await eventually(() => expect(refuse.asked).toBeGreaterThan(2));
    expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([oldAddress]);
    refuse.answer = undefined;
    await eventually(async () => expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([]));
    expect(await httpProfiles(real.host!.url).get(oldAddress)).toBeUndefined();
    expect(alice.ctx.connection).toBe('online');
  });

  test('a delete refused for good (not ours) is crossed off and not asked again', async () => {
    const refuse: Refuse = { answer: refusal(403, 'Unauthorized'), asked: 0 };
    const { alice } = await aliceAndCarol(refuse);
    await alice.block('carol');
    expect(refuse.asked).toBe(1);
    expect(await retiredBlobs(alice.ctx, 'profile')).toEqual([]);
    alice.disconnect();
    alice.connect();
    await eventually(async () => expect(alice.ctx.connection).toBe('online'));
    await new Promise((r) => setTimeout(r, 300));
    expect(refuse.asked).toBe(1);
  });

  test('the owed list keeps each address once, and only the newest MAX_RETIRED', async () => {
    const alice = await user('alice', { profiles: true });
    const address = (i: number) => new Uint8Array(32).fill(i);
    await commit(alice.ctx.vault, async (tx) => {
      for (let i = 0; i < MAX_RETIRED + 6; i++) await txRetireBlob(tx, 'profile', address(i));
      await txRetireBlob(tx, 'profile', address(MAX_RETIRED + 5));
    });
    const owed = await retiredBlobs(alice.ctx, 'profile');
    expect(owed).toHaveLength(MAX_RETIRED);
    expect(owed[0]).toEqual(address(6));
    expect(owed.at(-1)).toEqual(address(MAX_RETIRED + 5));
  });
});
