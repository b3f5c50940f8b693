/**
 * The lookup's proof of work (src/lib/crypto/lookup-work.ts; P40, P49): a proof holds for its own
 * hash, minute and difficulty only, and the count of leading zero bits is exact at every boundary.
 */
import { describe, expect, test } from 'vitest';
import { checkLookupWork, hasLeadingZeroBits, lookupWorkSlot, searchLookupWork, LOOKUP_WORK_SLOT_MS } from '../../src/lib/crypto/lookup-work';
import { sodium } from '../../src/lib/crypto/sodium';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';

const hash = new Uint8Array(32).fill(7);
const SLOT = lookupWorkSlot(1_800_000_000_000);

function solve(h: Uint8Array, slot: number, bits: number): Uint8Array {
  const nonce = searchLookupWork(h, slot, bits, 0, 0, 2 ** (bits + 6));
  if (!nonce) throw new Error('no proof found');
  return nonce;
}

describe('leading zero bits', () => {
  test('exact at byte and bit boundaries', () => {
    expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x00, 0x80), 16)).toBe(true);
    expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x00, 0x80), 17)).toBe(false);
    expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x01), 15)).toBe(true);
    expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x01), 16)).toBe(false);
    expect(hasLeadingZeroBits(Uint8Array.of(0x1f), 3)).toBe(true);
    expect(hasLeadingZeroBits(Uint8Array.of(0x1f), 4)).toBe(false);
    expect(hasLeadingZeroBits(Uint8Array.of(0xff), 0)).toBe(true);
  });
});

describe('proofs', () => {
  test('a found proof holds, and its digest is BLAKE2b-256(L || hash || slot || nonce) as documented', () => {
    const nonce = solve(hash, SLOT, 12);
    expect(checkLookupWork(hash, SLOT, nonce, 12)).toBe(true);
    const slot = new Uint8Array(8);
    new DataView(slot.buffer).setBigUint64(0, BigInt(SLOT));
    const digest = sodium().crypto_generichash(32, new Uint8Array([...labelBytes(Labels.lookupWork), ...hash, ...slot, ...nonce]), null);
    expect(hasLeadingZeroBits(digest, 12)).toBe(true);
  });

  test('P40 a proof serves neither another name, nor another minute, nor a changed or cut nonce', () => {
    // Deterministic search: these inputs' outcomes are fixed (each could hold by chance, 2^-16).
    const nonce = solve(hash, SLOT, 16);
    expect(checkLookupWork(hash, SLOT, nonce, 16)).toBe(true);
    expect(checkLookupWork(new Uint8Array(32).fill(8), SLOT, nonce, 16)).toBe(false);
    expect(checkLookupWork(hash, SLOT + 1, nonce, 16)).toBe(false);
    expect(checkLookupWork(hash, SLOT - 1, nonce, 16)).toBe(false);
    const flipped = nonce.slice();
    flipped[7]! ^= 1;
    expect(checkLookupWork(hash, SLOT, flipped, 16)).toBe(false);
    expect(checkLookupWork(hash, SLOT, nonce.slice(0, 7), 16)).toBe(false);
  });

  test('the search gives up after its tries; slices from different starts find different proofs', () => {
    expect(searchLookupWork(hash, SLOT, 30, 0, 0, 64)).toBeUndefined();
    const a = searchLookupWork(hash, SLOT, 8, 1, 0, 1 << 16)!;
    const b = searchLookupWork(hash, SLOT, 8, 2, 0, 1 << 16)!;
    expect(a).not.toEqual(b);
    expect(checkLookupWork(hash, SLOT, a, 8) && checkLookupWork(hash, SLOT, b, 8)).toBe(true);
  });

  test('slots are minutes of the clock; bad arguments are refused', () => {
    expect(lookupWorkSlot(0)).toBe(0);
    expect(lookupWorkSlot(LOOKUP_WORK_SLOT_MS - 1)).toBe(0);
    expect(lookupWorkSlot(LOOKUP_WORK_SLOT_MS)).toBe(1);
    expect(() => checkLookupWork(new Uint8Array(31), SLOT, new Uint8Array(8), 12)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => checkLookupWork(hash, -1, new Uint8Array(8), 12)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => checkLookupWork(hash, SLOT, new Uint8Array(8), 33)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});
