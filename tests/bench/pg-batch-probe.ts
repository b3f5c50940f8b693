/**
 * Probe (not a target): wall time of ONE PostgreSQL group commit (`applyMailboxBatch`) against
 * its size, on a throwaway cluster, while the envelopes table grows from run to run. It found the
 * cached generic plan that pg/schema.ts v3 removes (tests/host/pg-batch-plan.test.ts):
 *
 *   node --import tsx tests/bench/pg-batch-probe.ts
 */
import { startPostgres } from '../support/postgres';
import { openPgStore } from '../../src/host/storage/pg/store';

const pg = await startPostgres();
try {
  const store = await openPgStore(await pg.createDatabase('probe'));
  const quota = { maxCount: 1e6, maxBytes: 1e12, senderMaxCount: 1e6, senderMaxBytes: 1e12 };
  const users = Array.from({ length: 1000 }, (_, i) => `u${i}`);
  await store.applyMailboxBatch(users.map((u) => ({ recipient: u, sender: 'x', receivedAt: Date.now(), body: new Uint8Array(600) })), [], quota);
  for (const [n, size] of [[250, 600], [1000, 600], [2000, 600], [4000, 100], [4000, 300], [1000, 2400], [2000, 1200], [3000, 600], [8000, 100]] as const) {
    const inserts = Array.from({ length: n }, (_, i) => ({ recipient: users[i % 1000]!, sender: users[(i * 7) % 1000]!, receivedAt: Date.now(), body: new Uint8Array(size).fill(i & 255) }));
    const t = performance.now();
    await store.applyMailboxBatch(inserts, [], quota);
    console.log(`${n} envelopes of ${size} bytes: ${(performance.now() - t).toFixed(0)} ms`);
  }
} finally {
  await pg.destroy();
}
