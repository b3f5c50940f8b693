/**
 * SECURITY.md P46 (the app lock drops every key this worker holds) for the sealed-sender secrets
 * kept in worker memory outside the vault (workers/engine/memory-secrets.ts): the static-static
 * X25519 secrets of SealedSenderCache and the delivery tokens of sealed-recipients.ts. They are
 * per engine context in module memos the engine object does not reach, so the lock must wipe them
 * by name; after unlocking they refill and sealed messaging works. Real host (sealed sender).
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { x25519 } from '../../src/lib/crypto/primitives';
import { profileKey } from '../../workers/engine/profile-key';
import { sealedRecipients } from '../../workers/engine/sealed-recipients';
import { sealedCache } from '../../workers/engine/sealed-state';
import { enginesOnRealHost, eventually, texts } from './real-host-support';
import { TEST_LOCK_KDF, TEST_LOCK_PASS } from '../support/app-lock-fixtures';

const { user } = enginesOnRealHost('parley-memory-secrets-');

/** Every Uint8Array reachable from `root` through own properties, Maps, Sets and arrays. */
function arrays(root: unknown): Uint8Array[] {
  const seen = new Set<unknown>();
  const out: Uint8Array[] = [];
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Uint8Array) {
      out.push(v);
      continue;
    }
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    for (const k of Reflect.ownKeys(v)) stack.push((v as Record<PropertyKey, unknown>)[k]);
  }
  return out;
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const holds = (root: unknown, secret: Uint8Array) => arrays(root).some((v) => same(v, secret));

describe('P46 worker-memory secrets', () => {
  test('P46 P41 locking wipes the sealed-sender secrets kept in worker memory (static DH secrets, delivery tokens); after unlocking they refill and sealed texts flow', async () => {
    const alice = await user('alice', { appLockKdf: TEST_LOCK_KDF });
    const bob = await user('bob');
    await alice.locks.enableLock(TEST_LOCK_PASS, 5);
    await alice.sendText('bob', 'first, to a stranger');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first, to a stranger']));
    // Bob's reply goes sealed (he holds alice's profile key now): alice's opener remembers the pair's static secret.
    await bob.sendText('alice', 'sealed reply');
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['first, to a stranger', 'sealed reply']));
    const ctx = alice.ctx;
    const staticSecret = x25519(ctx.me!.identity.dh.privateKey, bob.ctx.me!.identity.dh.publicKey);
    const cache = (await sealedCache(ctx))!;
    const memo = (await sealedRecipients(ctx, [asUsername('bob')]))!;
    const token = memo.tokens[0]!;
    // The checks can fail: before the lock the cache holds the static secret, the memo bob's token.
    expect(holds(cache, staticSecret)).toBe(true);
    expect(same(token, deliveryToken(await profileKey(bob.ctx), 'bob'))).toBe(true);

    await alice.locks.lockNow();
    expect(ctx.vault.locked).toBe(true);
    expect(holds(cache, staticSecret)).toBe(false);
    // What is left is the pinned trust root (public), no secret of any kind.
    expect(arrays(cache).every((a) => same(a, cache.trust.root))).toBe(true);
    expect(same(token, new Uint8Array(token.length))).toBe(true);

    await alice.locks.unlock(TEST_LOCK_PASS);
    await alice.sendText('bob', 'after unlocking');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first, to a stranger', 'sealed reply', 'after unlocking']));
    await bob.sendText('alice', 'sealed again');
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['first, to a stranger', 'sealed reply', 'after unlocking', 'sealed again']));
    const refilled = (await sealedCache(ctx))!;
    expect(refilled).not.toBe(cache);
    expect(holds(refilled, staticSecret)).toBe(true);
  });
});
