/**
 * The client's side of a lookup's proof of work (src/lib/crypto/lookup-work.ts): the search runs
 * in slices with a turn of the worker's event loop between them, so a second or two of hashing
 * never holds up decrypting what arrives meanwhile. A challenge harder than MAX_LOOKUP_WORK_BITS,
 * or a search that has not found a proof in 8 times the expected tries, gives up (undefined):
 * the lookup then stays refused, and the user is told to wait.
 */
import { MAX_LOOKUP_WORK_BITS, searchLookupWork } from '../../src/lib/crypto/lookup-work';
import type { WorkChallenge } from '../../src/lib/wire/discovery-api';

const SLICE = 1 << 14;

export async function solveLookupWork(hash: Uint8Array, challenge: WorkChallenge, random32: () => number): Promise<Uint8Array | undefined> {
  if (challenge.bits > MAX_LOOKUP_WORK_BITS) return undefined;
  const first = random32();
  const limit = 2 ** (challenge.bits + 3);
  for (let start = 0; start < limit; start += SLICE) {
    const nonce = searchLookupWork(hash, challenge.slot, challenge.bits, first, start, SLICE);
    if (nonce) return nonce;
    await new Promise((turn) => setTimeout(turn, 0));
  }
  return undefined;
}
