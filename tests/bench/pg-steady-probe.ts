/**
 * Probe (not a target): the PostgreSQL group commit (`applyMailboxBatch`) in the host's steady
 * state: each batch stores `n` envelopes (1,000 recipients, each from several senders) and acks
 * the previous batch's, as a loaded host does. Prints the median batch time with its spread over
 * the rounds, with a sender share (P40) far above the mailboxes' size and with one below it.
 *
 *   node --import tsx tests/bench/pg-steady-probe.ts [--rounds 40] [--n 2000]
 */
import { startPostgres } from '../support/postgres';
import { openPgStore } from '../../src/host/storage/pg/store';

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
const ROUNDS = opt('rounds', 40);
const N = opt('n', 2000);
const pg = await startPostgres();
try {
  for (const [label, senderMaxCount] of [['sender shares never reached', 1e6], ['sender shares kept (share of 2)', 2]] as const) {
    const store = await openPgStore(await pg.createDatabase(`probe_${senderMaxCount}`));
    const quota = { maxCount: 1e6, maxBytes: 1e12, senderMaxCount, senderMaxBytes: 1e12 };
    const users = Array.from({ length: 1000 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    let previous: { username: string; ids: number[] }[] = [];
    const times: number[] = [];
    for (let r = 0; r < ROUNDS + 5; r++) {
      const inserts = Array.from({ length: N }, (_, i) => ({ recipient: users[(i + r) % 1000]!, sender: users[(i * 7 + r) % 1000]!, receivedAt: Date.now(), body: new Uint8Array(512).fill(i & 255) }));
      const t = performance.now();
      const res = await store.applyMailboxBatch(inserts, previous, quota);
      if (r >= 5) times.push(performance.now() - t);
      const byUser = new Map<string, number[]>();
      res.ids.forEach((id, i) => {
        if (typeof id !== 'number') return;
        const u = inserts[i]!.recipient;
        byUser.set(u, [...(byUser.get(u) ?? []), id]);
      });
      previous = [...byUser].map(([username, ids]) => ({ username, ids }));
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
    console.log(`${label}: ${N} inserts + ${N} acks per batch: median ${q(0.5)} ms (p10 ${q(0.1)} .. p90 ${q(0.9)}, ${times.length} batches)`);
    await store.close();
  }
} finally {
  await pg.destroy();
}
