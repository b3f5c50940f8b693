/**
 * The vault's side of a lookup's proof of work (workers/engine/lookup-work.ts; P40): it solves the
 * host's challenge, refuses one harder than MAX_LOOKUP_WORK_BITS, and its give-up cap is the
 * hardest challenge's, not the challenge's own, so an easy challenge whose proof lies far out is
 * still found (a cap of 8 times the challenge's own tries failed about one lookup in 3,000).
 */
import { beforeAll, expect, test } from 'vitest';
import { checkLookupWork, lookupWorkSlot, searchLookupWork, MAX_LOOKUP_WORK_BITS } from '../../src/lib/crypto/lookup-work';
import { initSodium } from '../../src/lib/crypto/sodium';
import { solveLookupWork } from '../../workers/engine/lookup-work';

const hash = new Uint8Array(32).fill(9);
const slot = lookupWorkSlot(1_800_000_000_000);

beforeAll(async () => {
  await initSodium();
});

test('a challenge is solved with a proof the host accepts for that hash and minute', async () => {
  const nonce = await solveLookupWork(hash, { bits: 12, slot }, () => 0xdeadbeef);
  expect(nonce).toBeDefined();
  expect(checkLookupWork(hash, slot, nonce!, 12)).toBe(true);
  expect(checkLookupWork(hash, slot + 1, nonce!, 12)).toBe(false);
});

test('a challenge harder than the client takes is refused at once, with no search', async () => {
  // The search draws its starting nonce first: a refusal before any search never draws one.
  let drawn = 0;
  expect(await solveLookupWork(hash, { bits: MAX_LOOKUP_WORK_BITS + 1, slot }, () => ++drawn)).toBeUndefined();
  expect(drawn).toBe(0);
});

test('an easy challenge whose first proof lies past 8 times its expected tries is still solved', async () => {
  // 11 bits: 8 times its tries is 2^14, one slice of the search, so the old cap stopped there.
  const bits = 11;
  // A start of the nonce range with no proof in its first 2^(bits+3) tries: the old cap's miss.
  let first = 0;
  while (searchLookupWork(hash, slot, bits, first, 0, 2 ** (bits + 3))) first++;
  const nonce = await solveLookupWork(hash, { bits, slot }, () => first);
  expect(nonce).toBeDefined();
  expect(checkLookupWork(hash, slot, nonce!, bits)).toBe(true);
  expect(new DataView(nonce!.buffer, nonce!.byteOffset).getUint32(4)).toBeGreaterThanOrEqual(2 ** (bits + 3));
});
