/**
 * Parley's protocol core against libsignal, side by side in one process, on the same 1 KiB
 * random messages, every plaintext checked (harness.ts defines the metrics).
 *
 *   node --import tsx tests/bench/crypto.bench.ts [--json] [--seconds=1.5] [--webcrypto-rng] [--smoke]
 *
 * --smoke runs every workload for a handful of iterations only (tests/crypto/bench-smoke.test.ts
 * uses it so the benchmark cannot rot); its figures mean nothing.
 *
 * --webcrypto-rng runs Parley with crypto.getRandomValues instead of systemDeps' libsodium RNG
 * (an experiment: the default measures what the app ships).
 *
 * Prints a table with the ratio parley/libsignal and the targets, then Parley's session state
 * size and per-message overhead. With --json the last stdout line is exactly one JSON object
 * {"parley":{...},"libsignal":{...}} with handshakesPerSec, pingPongPairsPerSec,
 * streamPairsPerSec and reverse1000Ms.
 */
import { initSodium } from '../../src/lib/crypto/sodium';
import {
  MESSAGE_LEN,
  deliver,
  established,
  handshake,
  handshakes,
  measureRates,
  median,
  messageAt,
  pingPong,
  reverseDecryptMs,
  stream,
  type Driver
} from './harness';
import { libsignalDriver } from './libsignal-driver';
import { parleyDriver } from './parley-driver';

await initSodium();

const json = process.argv.includes('--json');
const secondsArg = process.argv.find((a) => a.startsWith('--seconds='));
const smoke = process.argv.includes('--smoke');
const SECONDS = secondsArg ? Number(secondsArg.slice('--seconds='.length)) : smoke ? 0.02 : 1.5;
if (!(SECONDS > 0)) throw new Error(`--seconds must be positive, got ${secondsArg}`);
const ROUNDS = 3;
const REVERSE_COUNT = smoke ? 20 : 1000;
const REVERSE_RUNS = 3;
const WARMUP_MS = smoke ? 5 : 400;

interface Metrics {
  handshakesPerSec: number;
  pingPongPairsPerSec: number;
  streamPairsPerSec: number;
  reverse1000Ms: number;
}

/** Targets: parley/libsignal ratio, higher is better except for the reverse-order time. */
const TARGETS: { key: keyof Metrics; label: string; ratio: number; lowerIsBetter: boolean }[] = [
  { key: 'handshakesPerSec', label: 'handshakes / s', ratio: 0.7, lowerIsBetter: false },
  { key: 'pingPongPairsPerSec', label: 'ping-pong pairs / s', ratio: 0.6, lowerIsBetter: false },
  { key: 'streamPairsPerSec', label: 'stream pairs / s', ratio: 5, lowerIsBetter: false },
  { key: 'reverse1000Ms', label: `reverse ${REVERSE_COUNT} decrypt ms`, ratio: 1.0, lowerIsBetter: true }
];

const log = (s = '') => console.log(s);
const libsignal = libsignalDriver();
const webcryptoRng = process.argv.includes('--webcrypto-rng');
const parley = parleyDriver({ webcryptoRng });
const drivers: Driver[] = [libsignal, parley];

log(`warming up (${drivers.map((d) => d.name).join(', ')})…`);
for (const w of [handshakes, pingPong, stream]) await measureRates(drivers, w, WARMUP_MS, 2);
for (const d of drivers) await reverseDecryptMs(d, smoke ? 10 : 200);

const results: Record<Driver['name'], Metrics> = {
  parley: { handshakesPerSec: 0, pingPongPairsPerSec: 0, streamPairsPerSec: 0, reverse1000Ms: 0 },
  libsignal: { handshakesPerSec: 0, pingPongPairsPerSec: 0, streamPairsPerSec: 0, reverse1000Ms: 0 }
};
const workloads = { handshakesPerSec: handshakes, pingPongPairsPerSec: pingPong, streamPairsPerSec: stream } as const;
for (const [key, w] of Object.entries(workloads) as [keyof typeof workloads, (typeof workloads)[keyof typeof workloads]][]) {
  const rates = await measureRates(drivers, w, SECONDS * 1000, ROUNDS);
  for (const d of drivers) results[d.name][key] = rates.get(d)!;
}
const reverse = new Map<Driver, number[]>(drivers.map((d) => [d, []]));
for (let r = 0; r < REVERSE_RUNS; r++) {
  for (const d of r % 2 === 0 ? drivers : [...drivers].reverse()) reverse.get(d)!.push(await reverseDecryptMs(d, REVERSE_COUNT));
}
for (const d of drivers) results[d.name].reverse1000Ms = median(reverse.get(d)!);

// ---- table ----
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(26) : c.padStart(12))).join('');
log();
log(row(['metric', 'parley', 'libsignal', 'ratio', 'target', 'met']));
for (const t of TARGETS) {
  const p = results.parley[t.key];
  const l = results.libsignal[t.key];
  const ratio = p / l;
  const met = t.lowerIsBetter ? ratio <= t.ratio : ratio >= t.ratio;
  log(row([t.label, fmt(p), fmt(l), `${ratio.toFixed(2)}x`, `${t.lowerIsBetter ? '<=' : '>='} ${t.ratio}x`, met ? 'yes' : 'NO']));
}
log(`(${SECONDS}s per metric per implementation in ${ROUNDS} interleaved rounds; reverse = median of ${REVERSE_RUNS})`);
if (webcryptoRng) log('(parley RNG: crypto.getRandomValues, not systemDeps)');
if (smoke) log('(--smoke: a handful of iterations each; these figures mean nothing)');

// ---- sizes ----
async function sizes(d: Driver) {
  const h = await handshake(d, messageAt(0));
  const afterHandshake = h.conversation.stateSizes();
  const prekeyOverhead = h.firstMessage.bytes.length - MESSAGE_LEN;
  const pp = await established(d);
  let normalOverhead = 0;
  for (let i = 0; i < 50; i++) {
    normalOverhead = (await deliver(pp, 'a', messageAt(2 * i))).bytes.length - MESSAGE_LEN;
    await deliver(pp, 'b', messageAt(2 * i + 1));
  }
  const st = await established(d);
  for (let i = 0; i < 100; i++) await deliver(st, 'a', messageAt(i));
  return { afterHandshake, afterPingPong: pp.stateSizes(), afterStream: st.stateSizes(), prekeyOverhead, normalOverhead };
}
const sz = { parley: await sizes(parley), libsignal: await sizes(libsignal) };
log();
log(row(['bytes', 'parley', 'libsignal']));
const ab = (x: { a: number; b: number }) => `${x.a}/${x.b}`;
log(row(['state after handshake A/B', ab(sz.parley.afterHandshake), ab(sz.libsignal.afterHandshake)]));
log(row(['after 100 ping-pong A/B', ab(sz.parley.afterPingPong), ab(sz.libsignal.afterPingPong)]));
log(row(['after 100 one-way A/B', ab(sz.parley.afterStream), ab(sz.libsignal.afterStream)]));
log(row(['overhead prekey message', String(sz.parley.prekeyOverhead), String(sz.libsignal.prekeyOverhead)]));
log(row(['overhead normal message', String(sz.parley.normalOverhead), String(sz.libsignal.normalOverhead)]));
log(`(overhead = ciphertext bytes - ${MESSAGE_LEN} plaintext bytes; Parley's includes padding to a multiple of 160)`);

if (json) log(JSON.stringify({ parley: results.parley, libsignal: results.libsignal }));
