/**
 * What sealing mailbox bodies at rest costs the host per envelope (README "Envelopes at rest"):
 * `seal` of one batch (one keystream, two cipher objects) at batch sizes 1, 10 and 100, `open` of
 * a page (one CTR object per row), and the batch interleave, on 600-byte bodies (a padded 1:1
 * message). Each figure is the median of `runs` rounds of 20,000 envelopes, with min..max.
 * `node --import tsx tests/bench/envelope-seal-probe.ts [runs]` prints one JSON line.
 */
import { interleave } from '../../src/host/storage/envelope-batch';
import { envelopeSeal } from '../../src/host/storage/envelope-seal';

const runs = Number(process.argv[2] ?? 5);
const ENVELOPES = 20_000;
const s = envelopeSeal(new Uint8Array(32).fill(1));
const body = new Uint8Array(600).fill(7);

/** Microseconds per envelope of `work` done on batches of `n`: median, min, max over `runs`. */
function perEnvelope(n: number, work: () => void): { medianUs: number; minUs: number; maxUs: number } {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    for (let i = 0; i < ENVELOPES / n; i++) work();
    times.push(((performance.now() - t) / ENVELOPES) * 1000);
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { medianUs: round(times[Math.floor(times.length / 2)]!), minUs: round(times[0]!), maxUs: round(times.at(-1)!) };
}

const out: Record<string, unknown> = { bodyBytes: body.length, runs };
for (const n of [1, 10, 100]) {
  const rows = Array.from({ length: n }, (_, i) => ({ receivedAt: 1_800_000_000_000 + i, body }));
  const sealed = s.seal(rows);
  const keys = Array.from({ length: n }, (_, i) => `mailbox${i % Math.max(1, Math.floor(n / 2))}`);
  perEnvelope(n, () => s.seal(rows)); // warm-up
  out[`batch${n}`] = { seal: perEnvelope(n, () => s.seal(rows)), open: perEnvelope(n, () => s.open(sealed)), interleave: perEnvelope(n, () => interleave(keys)) };
}
console.log(JSON.stringify(out));
