/**
 * Prekey upkeep (DESIGN.md §4: replenish one-time prekeys, rotate the signed prekey): the pool is
 * refilled on connect when it runs low, and the signed prekey rotates weekly while messages
 * addressed to the previous one still decrypt.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { MemoryHost } from '../../workers/engine/memory-host';
import { ONE_TIME_LOW, SIGNED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS } from '../../workers/engine/prekey-pool';
import { hostAuth, ONE_TIME_TARGET } from '../../workers/engine/account';
import { closeAll, newUser, settle, texts, type User } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

function clockDeps(): Deps & { advance(ms: number): void } {
  let offset = 0;
  return { rng: systemDeps.rng, now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

describe('prekey pool', () => {
  test('one-time prekeys are refilled on reconnect once the host runs low', async () => {
    const host = new MemoryHost();
    const bob = await newUser(host, 'bob');
    const alice = await newUser(host, 'alice');
    open.push(bob, alice);
    await settle(bob, alice);
    const pool = () => host.accounts.get('bob')!.oneTime.length;
    expect(pool()).toBe(ONE_TIME_TARGET);
    const auth = hostAuth(alice.engine.ctx.me!);
    for (let i = 0; i < ONE_TIME_TARGET - ONE_TIME_LOW + 1; i++) await host.transport().fetchBundle(auth, asUsername('bob'));
    expect(pool()).toBe(ONE_TIME_LOW - 1);
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(bob);
    expect(pool()).toBe(ONE_TIME_TARGET);
    // Every published one-time key has its private half in bob's vault.
    const stored = new Set((await bob.engine.ctx.vault.db.getAllFromIndex('prekeys', 'byKind', 'oneTime')).map((r) => r.id));
    for (const k of host.accounts.get('bob')!.oneTime) expect(stored.has(k.id)).toBe(true);
  });

  test('the signed prekey rotates; a message to the previous one still decrypts; expired ones are deleted', async () => {
    const host = new MemoryHost();
    const deps = clockDeps();
    const bob = await newUser(host, 'bob', { deps });
    const alice = await newUser(host, 'alice');
    open.push(bob, alice);
    host.autoPush = false;
    await alice.engine.lookupUser('bob'); // session on signed prekey 1
    deps.advance(SIGNED_PREKEY_ROTATE_MS);
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(bob);
    expect(host.accounts.get('bob')!.signedPreKey.id).toBe(2);
    await alice.engine.sendText('bob', 'to the old signed prekey');
    await settle(alice, bob);
    host.autoPush = true;
    host.push(asUsername('bob'));
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['to the old signed prekey']);

    deps.advance(SIGNED_PREKEY_KEEP_MS);
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(bob);
    const signedIds = (await bob.engine.ctx.vault.db.getAllFromIndex('prekeys', 'byKind', 'signed')).map((r) => r.id).sort();
    expect(signedIds).toEqual([2, 3]);
  });
});
