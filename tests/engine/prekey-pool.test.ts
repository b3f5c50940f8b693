/**
 * Prekey upkeep (DESIGN.md §4: replenish one-time prekeys, rotate the signed prekey): the pool is
 * refilled on connect when it runs low, and the signed prekey rotates weekly while messages
 * addressed to the previous one still decrypt. A host that lies about the counts on every
 * reconnect gets at most one refill a minute, and the vault keeps a bounded number of unused keys.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { MemoryHost } from '../../workers/engine/memory-host';
import { KEM_KEEP, ONE_TIME_KEEP, ONE_TIME_LOW, REFILL_MIN_INTERVAL_MS, SIGNED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS } from '../../workers/engine/prekey-pool';
import { hostAuth, KEM_TARGET, ONE_TIME_TARGET } from '../../workers/engine/account';
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

  test('P9 a host that reports empty pools on every reconnect gets one refill a minute, and the vault keeps a bounded number of unused keys', async () => {
    const host = new MemoryHost();
    const deps = clockDeps();
    const bob = await newUser(host, 'bob', { deps });
    open.push(bob);
    await settle(bob);
    const held = async (kind: 'oneTime' | 'kem') => (await bob.engine.ctx.vault.db.getAllFromIndex('prekeys', 'byKind', kind)).filter((r) => !r.lastResort).map((r) => r.id).sort((a, b) => a - b);
    const lastResorts = async () => (await bob.engine.ctx.vault.db.getAllFromIndex('prekeys', 'byKind', 'kem')).filter((r) => r.lastResort).length;
    const uploaded = () => host.accounts.get('bob')!.oneTime.length;
    expect((await held('oneTime')).length).toBe(ONE_TIME_TARGET);
    // The host says every pool is empty, whatever it holds.
    bob.engine.ctx.transport.preKeyCounts = () => Promise.resolve({ oneTime: 0, kem: 0 });
    const reconnect = async () => {
      bob.engine.disconnect();
      bob.engine.connect();
      await settle(bob);
    };
    await reconnect();
    expect((await held('oneTime')).length).toBe(2 * ONE_TIME_TARGET);
    const afterOne = uploaded();
    // Within the minute: however often it reconnects, nothing is made or uploaded.
    for (let i = 0; i < 3; i++) await reconnect();
    // (This clock also runs with real time: a margin for the steps above.)
    deps.advance(REFILL_MIN_INTERVAL_MS - 10_000);
    await reconnect();
    expect((await held('oneTime')).length).toBe(2 * ONE_TIME_TARGET);
    expect(uploaded()).toBe(afterOne);
    // A minute later, once each time: the unused keys stop at the cap, the newest kept.
    for (let i = 0; i < 12; i++) {
      deps.advance(REFILL_MIN_INTERVAL_MS);
      await reconnect();
    }
    const oneTime = await held('oneTime');
    const kem = await held('kem');
    expect(oneTime.length).toBe(ONE_TIME_KEEP);
    expect(kem.length).toBe(KEM_KEEP);
    expect(oneTime.at(-1)! - oneTime[0]!).toBe(ONE_TIME_KEEP - 1);
    const { nextOneTimeId } = (await bob.engine.ctx.vault.db.get('meta', 'account')) as { nextOneTimeId: number };
    expect(oneTime.at(-1)).toBe(nextOneTimeId - 1);
    expect(kem.length).toBeGreaterThanOrEqual(KEM_TARGET);
    // The last-resort key is never trimmed: one stays.
    expect(await lastResorts()).toBeGreaterThanOrEqual(1);
  });
});
