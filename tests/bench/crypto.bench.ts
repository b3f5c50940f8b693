/**
 * Parley's protocol core against libsignal, side by side in one process, on the same 1 KiB
 * random messages, every plaintext checked (harness.ts defines the metrics). Two Parley arms:
 *
 *   parley  the core on in-memory state (parley-driver.ts);
 *   stored  the same core on the vault worker's real per-message path: sessions loaded from,
 *           sealed and committed to IndexedDB (fake-indexeddb) through the real repositories
 *           and the receive loop's session page (session-page.ts; stored-driver.ts).
 *
 * The first four metrics send and deliver every message alone (one transaction each on the
 * stored arm: a message sent as it is written, to a receiver online). The last two run stream and
 * reverse-1000 as a BACKLOG: the stream's sender encrypts a page of queued messages as one outbox
 * run (outbox.ts, one transaction) and the receiver takes it as one page of the receive loop
 * (inbox.ts MAX_PAGE, one transaction); the reversed 1000 arrive in such pages, as a receiver
 * coming online finds its mailbox. For the in-memory arms a page is its messages one by one.
 *
 *   node --import tsx tests/bench/crypto.bench.ts [--json] [--seconds=1.5] [--rounds=5] [--cpu-time] [--webcrypto-rng] [--smoke]
 *
 * Every ratio is "Parley relative to libsignal" and is the MEDIAN of per-round ratios, printed
 * with its range: the arms run in `--rounds` rounds (at least 5) in alternating order, and round
 * r of each arm ran back to back, so each round's ratio compares like with like on a noisy
 * machine. Throughput ratios (handshakes, ping-pong, stream) are parley/libsignal: higher is
 * better. The reverse-1000 ratio is parley ms / libsignal ms: LOWER is better (<= 1x means
 * Parley takes at most libsignal's time).
 *
 * --smoke runs every workload for a handful of iterations only (tests/crypto/bench-smoke.test.ts
 * uses it so the benchmark cannot rot); its figures mean nothing.
 *
 * --webcrypto-rng runs the in-memory arm with crypto.getRandomValues instead of systemDeps' RNG.
 *
 * --cpu-time divides by the CPU time the process used (all threads) instead of wall-clock time: a
 * diagnostic for a machine shared with other work, where the scheduler's share, not the code,
 * decides wall time (harness.ts `measureCpuTime`). The targets are defined on wall time.
 *
 * With --json the last stdout line is exactly one JSON object
 * {"parley":{...},"libsignal":{...},"stored":{...},"ratios":{"parley":{...},"stored":{...}},
 *  "indexedDbFloor":{"bareCommitUs":…,"storedStreamRatioCap":…}}:
 * per arm handshakesPerSec, pingPongPairsPerSec, streamPairsPerSec, reverse1000Ms,
 * streamBacklogPairsPerSec and reverseBacklog1000Ms (medians
 * over rounds), per Parley arm and metric the ratio's {median, min, max}, and what one bare
 * IndexedDB commit costs with the stream ratio that cost alone leaves reachable.
 */
import { SEALED_MESSAGE_LEN, measureSealedArm } from './sealed-arm';
import 'fake-indexeddb/auto';
import { initSodium } from '../../src/lib/crypto/sodium';
import {
  MESSAGE_LEN,
  deliver,
  established,
  handshake,
  handshakes,
  measureCpuTime,
  measureRates,
  median,
  messageAt,
  pingPong,
  reverseDecryptMs,
  spread,
  stream,
  streamBacklog,
  timeLoop,
  type Driver,
  type Spread,
  type Workload
} from './harness';
import { MAX_PAGE } from '../../workers/engine/inbox';
import { libsignalDriver } from './libsignal-driver';
import { parleyDriver } from './parley-driver';
import { bareCommit, storedDriver } from './stored-driver';

await initSodium();

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const json = process.argv.includes('--json');
const smoke = process.argv.includes('--smoke');
const SECONDS = arg('seconds') !== undefined ? Number(arg('seconds')) : smoke ? 0.02 : 1.5;
if (!(SECONDS > 0)) throw new Error(`--seconds must be positive, got ${arg('seconds')}`);
const ROUNDS = arg('rounds') !== undefined ? Number(arg('rounds')) : 5;
if (!Number.isInteger(ROUNDS) || ROUNDS < 5) throw new Error(`--rounds must be an integer >= 5, got ${arg('rounds')}`);
const REVERSE_COUNT = smoke ? 20 : 1000;
const CPU_TIME = process.argv.includes('--cpu-time');
measureCpuTime(CPU_TIME);
const WARMUP_MS = smoke ? 5 : 400;
/** The receive loop's page (inbox.ts): a backlog pushed on connect is taken this many at a time. */
const PAGE = MAX_PAGE;

interface Metrics {
  handshakesPerSec: number;
  pingPongPairsPerSec: number;
  streamPairsPerSec: number;
  reverse1000Ms: number;
  /** The same two workloads as a backlog received in the receive loop's pages (harness.ts). */
  streamBacklogPairsPerSec: number;
  reverseBacklog1000Ms: number;
}
type Key = keyof Metrics;
type Arm = 'parley' | 'stored';

/** Targets on the parley/libsignal ratio per arm; higher is better except for the reverse-order time. */
const TARGETS: { key: Key; label: string; lowerIsBetter: boolean; ratio: Record<Arm, number> }[] = [
  { key: 'handshakesPerSec', label: 'handshakes / s', lowerIsBetter: false, ratio: { parley: 0.7, stored: 0.7 } },
  { key: 'pingPongPairsPerSec', label: 'ping-pong pairs / s', lowerIsBetter: false, ratio: { parley: 0.6, stored: 0.6 } },
  { key: 'streamPairsPerSec', label: 'stream pairs / s', lowerIsBetter: false, ratio: { parley: 5, stored: 3 } },
  { key: 'reverse1000Ms', label: `reverse ${REVERSE_COUNT} decrypt ms`, lowerIsBetter: true, ratio: { parley: 1.0, stored: 1.0 } },
  { key: 'streamBacklogPairsPerSec', label: `stream, pages of ${PAGE} / s`, lowerIsBetter: false, ratio: { parley: 5, stored: 3 } },
  { key: 'reverseBacklog1000Ms', label: `reverse ${REVERSE_COUNT}, pages of ${PAGE} ms`, lowerIsBetter: true, ratio: { parley: 1.0, stored: 1.0 } }
];

const log = (s = '') => console.log(s);
const libsignal = libsignalDriver();
const webcryptoRng = process.argv.includes('--webcrypto-rng');
const parley = parleyDriver({ webcryptoRng });
const stored = await storedDriver();
const drivers: Driver[] = [libsignal, parley, stored];
const arms: Record<Arm, Driver> = { parley, stored };

log(`warming up (${drivers.map((d) => d.name).join(', ')})…`);
for (const w of [handshakes, pingPong, stream, streamBacklog(PAGE)]) await measureRates(drivers, w, WARMUP_MS, 2);
for (const d of drivers) await reverseDecryptMs(d, smoke ? 10 : 200);

/** Per driver and metric, one figure per round. */
const perRound = new Map<Driver, Record<Key, number[]>>(
  drivers.map((d) => [
    d,
    { handshakesPerSec: [], pingPongPairsPerSec: [], streamPairsPerSec: [], reverse1000Ms: [], streamBacklogPairsPerSec: [], reverseBacklog1000Ms: [] }
  ])
);
const workloads = { handshakesPerSec: handshakes, pingPongPairsPerSec: pingPong, streamPairsPerSec: stream, streamBacklogPairsPerSec: streamBacklog(PAGE) } as const;
for (const [key, w] of Object.entries(workloads) as [keyof typeof workloads, Workload][]) {
  const rates = await measureRates(drivers, w, SECONDS * 1000, ROUNDS);
  for (const d of drivers) perRound.get(d)![key] = rates.get(d)!;
}
for (let r = 0; r < ROUNDS; r++) {
  for (const d of r % 2 === 0 ? drivers : [...drivers].reverse()) perRound.get(d)!.reverse1000Ms.push(await reverseDecryptMs(d, REVERSE_COUNT));
  for (const d of r % 2 === 0 ? drivers : [...drivers].reverse()) perRound.get(d)!.reverseBacklog1000Ms.push(await reverseDecryptMs(d, REVERSE_COUNT, PAGE));
}

const keys = TARGETS.map((t) => t.key);
const results = Object.fromEntries(
  drivers.map((d) => [d.name, Object.fromEntries(keys.map((k) => [k, median(perRound.get(d)![k])])) as unknown as Metrics])
) as Record<Driver['name'], Metrics>;
const ratios = Object.fromEntries(
  (Object.keys(arms) as Arm[]).map((arm) => [
    arm,
    Object.fromEntries(keys.map((k) => [k, spread(perRound.get(arms[arm])![k].map((x, r) => x / perRound.get(libsignal)![k][r]!))])) as Record<Key, Spread>
  ])
) as Record<Arm, Record<Key, Spread>>;

// ---- table ----
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const widths = [26, 10, 10, 10, 26, 10, 5];
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : c.padStart(widths[i] ?? 12))).join('');
const fmtSpread = (s: Spread) => `${s.median.toFixed(2)}x ${s.min.toFixed(2)}-${s.max.toFixed(2)}`;
log();
log(row(['metric', 'parley', 'stored', 'libsignal', 'ratio (range)', 'target', 'met']));
for (const t of TARGETS) {
  for (const arm of Object.keys(arms) as Arm[]) {
    const s = ratios[arm][t.key];
    const met = t.lowerIsBetter ? s.median <= t.ratio[arm] : s.median >= t.ratio[arm];
    const figures = arm === 'parley' ? [fmt(results.parley[t.key]), fmt(results.stored[t.key]), fmt(results.libsignal[t.key])] : ['', '', ''];
    log(row([arm === 'parley' ? t.label : '', ...figures, `${arm} ${fmtSpread(s)}`, `${t.lowerIsBetter ? '<=' : '>='} ${t.ratio[arm]}x`, met ? 'yes' : 'NO']));
  }
}
log(`(${SECONDS}s per metric per arm in ${ROUNDS} alternating rounds; figures and ratios are medians over rounds,`);
log(' the range is the lowest and highest per-round ratio; reverse ratio = parley ms / libsignal ms, lower is better)');
if (webcryptoRng) log('(parley RNG: crypto.getRandomValues, not systemDeps)');
if (CPU_TIME) log('(--cpu-time: rates and times use the CPU time of this process, all threads, not wall time)');
if (smoke) log('(--smoke: a handful of iterations each; these figures mean nothing)');

// ---- what IndexedDB alone costs the stored arm ----
// A stream pair is two messages, each committed by the sender and by the receiver: four commits
// no layout can avoid, so the stored stream ratio cannot exceed libsignal's pair time over
// (the in-memory pair time + four bare commits).
const commitStep = await bareCommit();
const commitUs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const { n, ms } = await timeLoop(commitStep, (SECONDS * 1000) / ROUNDS / 3);
  commitUs.push((ms * 1000) / n);
}
const floorUs = median(commitUs);
const streamCap = 1e6 / results.libsignal.streamPairsPerSec / (1e6 / results.parley.streamPairsPerSec + 4 * floorUs);
log();
log(`IndexedDB floor (fake-indexeddb): a bare commit of one head-sized row takes ${floorUs.toFixed(0)} µs (median of ${ROUNDS});`);
log(`with 4 per stream pair, no session layout can take the stored stream ratio past ${streamCap.toFixed(2)}x in this run`);

// ---- sizes ----
async function sizes(d: Driver) {
  const h = await handshake(d, messageAt(0));
  const afterHandshake = await h.conversation.stateSizes();
  const prekeyOverhead = h.firstMessage.bytes.length - MESSAGE_LEN;
  const pp = await established(d);
  let normalOverhead = 0;
  for (let i = 0; i < 50; i++) {
    normalOverhead = (await deliver(pp, 'a', messageAt(2 * i))).bytes.length - MESSAGE_LEN;
    await deliver(pp, 'b', messageAt(2 * i + 1));
  }
  const st = await established(d);
  for (let i = 0; i < 100; i++) await deliver(st, 'a', messageAt(i));
  return { afterHandshake, afterPingPong: await pp.stateSizes(), afterStream: await st.stateSizes(), prekeyOverhead, normalOverhead };
}
const sz = { parley: await sizes(parley), stored: await sizes(stored), libsignal: await sizes(libsignal) };
log();
log(row(['bytes', 'parley', 'stored', 'libsignal']));
const ab = (x: { a: number; b: number }) => `${x.a}/${x.b}`;
log(row(['state after handshake A/B', ab(sz.parley.afterHandshake), ab(sz.stored.afterHandshake), ab(sz.libsignal.afterHandshake)]));
log(row(['after 100 ping-pong A/B', ab(sz.parley.afterPingPong), ab(sz.stored.afterPingPong), ab(sz.libsignal.afterPingPong)]));
log(row(['after 100 one-way A/B', ab(sz.parley.afterStream), ab(sz.stored.afterStream), ab(sz.libsignal.afterStream)]));
log(row(['overhead prekey message', String(sz.parley.prekeyOverhead), String(sz.stored.prekeyOverhead), String(sz.libsignal.prekeyOverhead)]));
log(row(['overhead normal message', String(sz.parley.normalOverhead), String(sz.stored.normalOverhead), String(sz.libsignal.normalOverhead)]));
log(`(overhead = ciphertext bytes - ${MESSAGE_LEN} plaintext bytes; Parley's includes padding to a multiple of 160;`);
log(' stored = sealed bytes at rest for the session, every record it uses)');

// Sealed sender (P41): a 1 KiB message sealed and opened vs the same unsealed, same run, CPU time,
// alternating rounds (tests/bench/sealed-arm.ts). The target is a ratio of at most 1.5.
const SEALED_TARGET = 1.5;
const sealedArm = measureSealedArm(smoke ? { rounds: 2, perRound: 2, warmup: 0 } : {});
const sealed = {
  messageBytes: SEALED_MESSAGE_LEN,
  unsealedUs: sealedArm.unsealedUs,
  sealedUs: sealedArm.sealedUs,
  ratio: sealedArm.ratio,
  spread: sealedArm.spread.ratio,
  targetRatio: SEALED_TARGET,
  meetsTarget: sealedArm.ratio <= SEALED_TARGET,
  stream: { unsealedUs: sealedArm.stream.unsealedUs, sealedUs: sealedArm.stream.sealedUs, ratio: sealedArm.stream.ratio }
};
log();
log(`sealed sender, ${SEALED_MESSAGE_LEN}-byte message, CPU µs per message (median of ${sealedArm.rounds} alternating rounds, IQR):`);
log(`  reply  unsealed ${sealed.unsealedUs.toFixed(1)}  sealed ${sealed.sealedUs.toFixed(1)}  ratio ${sealed.ratio.toFixed(2)} [${sealed.spread.map((x) => x.toFixed(2)).join('–')}]  target ≤ ${SEALED_TARGET}: ${sealed.meetsTarget ? 'met' : 'NOT met'}`);
log(`  stream unsealed ${sealed.stream.unsealedUs.toFixed(1)}  sealed ${sealed.stream.sealedUs.toFixed(1)}  ratio ${sealed.stream.ratio.toFixed(2)}`);

if (json) {
  const indexedDbFloor = { bareCommitUs: floorUs, storedStreamRatioCap: streamCap };
  log(JSON.stringify({ parley: results.parley, libsignal: results.libsignal, stored: results.stored, ratios, indexedDbFloor, sealed }));
}
