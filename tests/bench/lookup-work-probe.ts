/**
 * How long a lookup's proof of work takes on the client's search (workers/engine/lookup-work.ts,
 * the slices and yields the vault worker runs), here in Node's wasm libsodium: 20 searches at the
 * host's default difficulty, each a fresh hash. `node --import tsx tests/bench/lookup-work-probe.ts [bits]`
 */
import { initSodium } from '../../src/lib/crypto/sodium';
import { solveLookupWork } from '../../workers/engine/lookup-work';
import { DEFAULT_LIMITS } from '../../src/host/limits';

await initSodium();
const bits = Number(process.argv[2] ?? DEFAULT_LIMITS.discoveryWorkBits);
const ms: number[] = [];
for (let i = 0; i < 20; i++) {
  const hash = crypto.getRandomValues(new Uint8Array(32));
  const t = performance.now();
  const nonce = await solveLookupWork(hash, { bits, slot: 29_000_000 }, () => crypto.getRandomValues(new Uint32Array(1))[0]!);
  if (!nonce) throw new Error('no proof');
  ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(0);
console.log(JSON.stringify({ bits, runs: ms.length, medianMs: Number(q(0.5)), p90Ms: Number(q(0.9)), minMs: Number(q(0)), maxMs: Number(ms.at(-1)!.toFixed(0)) }));
