/**
 * The client's side of a lookup's proof of work (src/lib/crypto/lookup-work.ts): the search runs
 * in slices with a turn of the worker's event loop between them, so a second or two of hashing
 * never holds up decrypting what arrives meanwhile. A challenge harder than MAX_LOOKUP_WORK_BITS
 * gives up at once (undefined), and any search stops after 8 times the expected tries of the
 * hardest challenge taken (2^25, about 15 s of one core): that is the most CPU a host can make a
 * lookup the user asked for cost. The cap is the same for every difficulty, so at the default 20
 * bits a search gives up only after 32 times its expected tries (e^-32; a cap of 8 times its own
 * difficulty failed about one lookup in 3,000, e^-8). The lookup then stays refused, and the user
 * is told to wait.
 */
import { MAX_LOOKUP_WORK_BITS, searchLookupWork } from '../../src/lib/crypto/lookup-work';
import type { WorkChallenge } from '../../src/lib/wire/discovery-api';

const SLICE = 1 << 14;

export async function solveLookupWork(hash: Uint8Array, challenge: WorkChallenge, random32: () => number): Promise<Uint8Array | undefined> {
  if (challenge.bits > MAX_LOOKUP_WORK_BITS) return undefined;
  const first = random32();
  const limit = 2 ** (MAX_LOOKUP_WORK_BITS + 3);
  for (let start = 0; start < limit; start += SLICE) {
    const nonce = searchLookupWork(hash, challenge.slot, challenge.bits, first, start, SLICE);
    if (nonce) return nonce;
    await new Promise((turn) => setTimeout(turn, 0));
  }
  return undefined;
}
