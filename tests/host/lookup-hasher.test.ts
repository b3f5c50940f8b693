/**
 * The host's hashing thread (src/host/lookup-hasher.ts; README "Design: private discovery", P40):
 * the same hash as the crypto core's, computed off the event loop (the loop keeps turning while a
 * hash runs), with a bounded wait list, and nothing left pending after close.
 */
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { initSodium } from '../../src/lib/crypto/sodium';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { startLookupHasher, type LookupHasher } from '../../src/host/lookup-hasher';

let hasher: LookupHasher | undefined;
beforeAll(() => initSodium());
afterEach(async () => {
  await hasher?.close();
  hasher = undefined;
});

describe('lookup hasher', () => {
  test("answers the crypto core's hash for each name, in any order of arrival", async () => {
    hasher = startLookupHasher();
    const names = ['alice', 'bob', 'carol_99'];
    const got = await Promise.all(names.map((n) => hasher!.hash(n)));
    expect(got).toEqual(names.map((n) => usernameLookupHash(n)));
  });

  test('P40 the event loop keeps turning while hashes run', async () => {
    hasher = startLookupHasher();
    await hasher.hash('warmup');
    let turns = 0;
    const tick = setInterval(() => turns++, 1);
    // Eight hashes take at least 8 × ~20 ms on the thread; on the loop they would allow no turn.
    await Promise.all(Array.from({ length: 8 }, (_, i) => hasher!.hash(`name${i}`)));
    clearInterval(tick);
    expect(turns).toBeGreaterThan(8);
  });

  test('P40 more than the wait list holds is refused at once, not queued; the rest still answer', async () => {
    hasher = startLookupHasher({ maxWaiting: 2 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => hasher!.hash(`user${i}`)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ status: 503, code: 'Unavailable' });
    expect((results[0] as PromiseFulfilledResult<Uint8Array>).value).toEqual(usernameLookupHash('user0'));
  });

  test('a name that is not canonical is refused, and the thread goes on', async () => {
    hasher = startLookupHasher();
    await expect(hasher.hash('Not Canonical')).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await hasher.hash('fine')).toEqual(usernameLookupHash('fine'));
  });

  test('close refuses what waits and what comes after', async () => {
    hasher = startLookupHasher();
    const waiting = expect(hasher.hash('late')).rejects.toThrow(/closed/);
    await hasher.close();
    await waiting;
    await expect(hasher.hash('later')).rejects.toThrow(/closed/);
    hasher = undefined;
  });
});
