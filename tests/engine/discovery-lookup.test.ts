/**
 * "New chat" through private discovery (README "Design: private discovery", P49; workers/engine/
 * discover.ts): finding someone by name is one anonymous lookup by the name's memory-hard hash,
 * which names neither the asker nor, in clear, the name, and spends none of their one-time
 * prekeys; the identity it answers is checked (P1) and trusted on first use, and the bundle the
 * first message fetches must carry that same key or the chat shows a key change (P2, P3).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { toHex } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUsers, settle, statusOf, texts, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function people(host: MemoryHost, ...names: string[]): Promise<User[]> {
  const out = await newUsers(host, ...names);
  open.push(...out);
  return out;
}

describe('finding someone by name', () => {
  test('P49 the lookup is anonymous and by hash; no bundle is fetched and no prekey spent until the first message', async () => {
    const host = new MemoryHost();
    const [alice, bob] = (await people(host, 'alice', 'bob')) as [User, User];
    const prekeys = host.accounts.get('bob')!.oneTime.length;
    await alice.engine.lookupUser('Bob');
    expect(host.lookups).toEqual([toHex(usernameLookupHash('bob'))]);
    expect(host.bundleFetches).toEqual([]);
    expect(host.accounts.get('bob')!.oneTime.length).toBe(prekeys);
    // The chat exists and its safety number is the one bob sees, before anything is sent.
    expect((await alice.engine.listChats()).map((c) => c.username)).toEqual(['bob']);
    expect((await alice.engine.contactInfo('bob')).safetyNumber).toBe(await numberSeenBy(bob, 'alice'));

    await alice.engine.sendText('bob', 'found you');
    await settle(alice, bob);
    expect(host.bundleFetches).toEqual([{ by: 'alice', of: 'bob' }]);
    expect(await texts(bob, 'alice')).toEqual(['found you']);
    expect((await alice.engine.contactInfo('bob')).identityChanged).toBe(false);
  });

  test('a name nobody has is NoSuchUser, with no contact and no chat', async () => {
    const host = new MemoryHost();
    const [alice] = (await people(host, 'alice')) as [User];
    await expect(alice.engine.lookupUser('nobody')).rejects.toMatchObject({ code: 'NoSuchUser' });
    expect(await alice.engine.listChats()).toEqual([]);
    await expect(alice.engine.contactInfo('nobody')).rejects.toMatchObject({ code: 'NoSuchUser' });
  });

  test('P1 an answered identity whose signature does not hold is refused and nothing is stored', async () => {
    const host = new MemoryHost();
    const [alice] = (await people(host, 'alice', 'bob')) as [User, User];
    host.lookupHook = (_name, a) => {
      if (!a.exists || !a.identity) return a;
      const forged = a.identity.slice();
      forged[forged.length - 1]! ^= 1; // the identity's self-signature
      return { exists: true, identity: forged };
    };
    await expect(alice.engine.lookupUser('bob')).rejects.toMatchObject({ code: 'InvalidSignature' });
    await expect(alice.engine.contactInfo('bob')).rejects.toMatchObject({ code: 'NoSuchUser' });
    expect(await alice.engine.listChats()).toEqual([]);
  });

  test('P2 P3 a host that answers one key at lookup and serves another in the bundle shows a key change, and the first text is not sent to it', async () => {
    const host = new MemoryHost();
    const [alice, bob] = (await people(host, 'alice', 'bob')) as [User, User];
    const mallory = identityPublic(generateIdentity(systemDeps));
    host.lookupHook = (name, a) => (name === 'bob' ? { exists: true, identity: encodeIdentityPublic(mallory) } : a);
    await alice.engine.lookupUser('bob');
    const shown = await alice.engine.contactInfo('bob');
    const sentBefore = host.sent.length;
    const m = await alice.engine.sendText('bob', 'for the key I was shown');
    await settle(alice, bob);
    const after = await alice.engine.contactInfo('bob');
    expect(after.identityChanged).toBe(true);
    expect(after.safetyNumber).not.toBe(shown.safetyNumber);
    // P36: written for the key shown at lookup, it waits for the user, not for the host's bundle.
    expect(host.sent.length).toBe(sentBefore);
    expect(statusOf(await alice.engine.listMessages('bob'), m.id)).toBe('key-changed');
    expect(await texts(bob, 'alice')).toEqual([]);
  });

  test('adding people to a group takes the bundle path: they are sent the group at once, and many must not hit the lookup limit', async () => {
    const host = new MemoryHost();
    const [alice] = (await people(host, 'alice', 'bob', 'carol')) as [User, User, User];
    await alice.engine.createGroup('Hikers', '', [asUsername('bob'), asUsername('carol')]);
    expect(host.lookups).toEqual([]);
    expect(host.bundleFetches.map((f) => f.of).sort()).toEqual(['bob', 'carol']);
  });
});

/** The safety number `u` is shown for `other` (looked up first: the number is the same on both sides). */
async function numberSeenBy(u: User, other: string): Promise<string> {
  await u.engine.lookupUser(other);
  return (await u.engine.contactInfo(other)).safetyNumber;
}
