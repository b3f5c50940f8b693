/**
 * `npm run bench:search [-- --json] [-- --rounds N]`: message search over 10,000 messages
 * (README "Search"; the target is ≤ 100 ms per query).
 *
 * Runs the vault's own code in Node on fake-indexeddb (an in-memory IndexedDB): a real Engine
 * with an account, the conversation written through `putMessage` (so the index is built
 * incrementally, sealed under the data key, exactly as the worker writes it), then
 * `engine.searchMessages` — the vault method the page calls — timed per query. Queries of several
 * shapes (a rare word, a common prefix, two words, one letter) alternate round by round; the
 * summary is the median of all queries with its spread (p10, p90, min, max), per shape too.
 * Also timed: the lazy backfill of the same history from an empty index (the first search on a
 * vault from before the index), and what indexing adds to writing a message.
 * Chromium's IndexedDB (LevelDB on disk) differs in its constant factors: `npm run bench:search:browser`
 * times the same corpus (search-corpus.ts) on the app's real path.
 */
import 'fake-indexeddb/auto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Engine } from '../../workers/engine/engine';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { BACKFILL_META } from '../../workers/engine/search';
import { putMessage, toMessageRow } from '../../workers/storage/message-repo';
import { commit } from '../../workers/storage/vault';
import { CHATS, MESSAGES, message, queries } from './search-corpus';

const args = process.argv.slice(2);
const json = args.includes('--json');
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 15;
const BATCH = 500;
const log = (s: string) => {
  if (!json) console.log(s);
};

function stats(xs: number[]): { median: number; p10: number; p90: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { median: r(at(0.5)), p10: r(at(0.1)), p90: r(at(0.9)), min: r(s[0]!), max: r(s.at(-1)!) };
}

const host = new MemoryHost();
const engine = await Engine.open({ transport: host.transport(), dbName: `bench-search-${process.pid}`, locks: memoryLocks() });
await engine.createAccount('benchuser');
const vault = engine.ctx.vault;
const now = Date.now();

// Writing: the same rows with and without the index step, alternating batches.
const writeWith: number[] = [];
const writeWithout: number[] = [];
for (let from = 0; from < MESSAGES; from += BATCH) {
  const batch = Array.from({ length: BATCH }, (_, j) => message(from + j, now));
  const t0 = performance.now();
  await commit(vault, async (tx) => {
    for (const m of batch) await putMessage(tx, m);
  });
  writeWith.push((performance.now() - t0) / BATCH);
  // The bare row write (into a scratch key range that is deleted again), for comparison.
  const t1 = performance.now();
  await commit(vault, async (tx) => {
    for (const m of batch) await tx.objectStore('messages').put(toMessageRow(tx, { ...m, key: `scratch:${m.key}` }));
  });
  writeWithout.push((performance.now() - t1) / BATCH);
  await commit(vault, (tx) => tx.objectStore('messages').delete(IDBKeyRange.bound('scratch:', 'scratch:\uffff')));
}

// Warm once (the first search also checks the backfill progress row).
await engine.searchMessages('warmup');
const times: Record<string, number[]> = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
const cpu: number[] = [];
const totals: Record<string, number> = {};
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? Object.keys(queries) : Object.keys(queries).reverse();
  for (const name of order) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await engine.searchMessages(queries[name]!);
    times[name]!.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    totals[name] = result.total;
  }
}
if (totals.rare !== MESSAGES / 1000) throw new Error(`the rare word was found ${totals.rare} times, not ${MESSAGES / 1000}`);

// Backfill: the same history from an empty index, as the first search of an older vault.
const backfill: number[] = [];
const backfillCpu: number[] = [];
for (let r = 0; r < 3; r++) {
  await commit(vault, async (tx) => {
    await tx.objectStore('searchIndex').clear();
    await tx.objectStore('meta').delete(BACKFILL_META);
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await engine.searchMessages('marmalade');
  backfill.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  backfillCpu.push((c.user + c.system) / 1000);
  if (result.total !== MESSAGES / 1000) throw new Error('backfill lost messages');
}

const rows = await vault.db.getAll('searchIndex');
const indexBytes = rows.reduce((n, r) => n + r.sealed.ct.length + r.sealed.iv.length, 0);
const all = Object.values(times).flat();
const overall = stats(all);
const perQuery = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { query: queries[k], hits: totals[k], ...stats(v) }]));
const cpuStats = stats(cpu);
const w = stats(writeWith);
const wo = stats(writeWithout);

log(`load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores (wall times include waiting for a core)`);
log(`search over ${MESSAGES} messages in ${CHATS} chats (fake-indexeddb in Node, the vault's own code), ${ROUNDS} rounds`);
for (const [k, v] of Object.entries(perQuery)) log(`  ${k.padEnd(10)} ${String(v.query).padEnd(16)} ${String(v.hits).padStart(5)} hits  median ${v.median} ms  p10 ${v.p10}  p90 ${v.p90}  min ${v.min}  max ${v.max}`);
log(`  all        median ${overall.median} ms  p10 ${overall.p10}  p90 ${overall.p90}  max ${overall.max}`);
log(`  CPU time per query (this process, all threads): median ${cpuStats.median} ms  p10 ${cpuStats.p10}  p90 ${cpuStats.p90}`);
log(`  backfill of ${MESSAGES} messages: ${backfill.map((b) => Math.round(b)).join(', ')} ms (CPU ${backfillCpu.map((b) => Math.round(b)).join(', ')} ms)`);
log(`  write per message: ${w.median} ms with the index, ${wo.median} ms without (medians of ${writeWith.length} batches)`);
log(`  index: ${rows.length} sealed buckets, ${Math.round(indexBytes / 1024)} KiB`);
if (json) {
  console.log(
    JSON.stringify({
      messages: MESSAGES,
      queryMs: overall.median,
      queryP10Ms: overall.p10,
      queryP90Ms: overall.p90,
      queryMaxMs: overall.max,
      queryCpuMs: cpuStats.median,
      rounds: ROUNDS,
      perQuery,
      backfillMs: backfill.map((b) => Math.round(b)),
      backfillCpuMs: backfillCpu.map((b) => Math.round(b)),
      writeMsWithIndex: w.median,
      writeMsWithout: wo.median,
      indexBuckets: rows.length,
      indexKiB: Math.round(indexBytes / 1024),
      storage: 'fake-indexeddb (Node)',
      loadAverage: os.loadavg()[0]!
    })
  );
}
await engine.close();
process.exit(0);
