/**
 * `npm run realm` as independent operators run it (DESIGN.md §7, README "Running realms"): three
 * PIN realms, each its own process with its own PostgreSQL database (--database /
 * REALM_DATABASE_URL, realm-port.ts), register a PIN and recover the secret; a realm restarted on
 * its database keeps its rows (P23: its counters survive), and no realm's database holds another's.
 */
import pg from 'pg';
import { expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { recoverWithPin, registerPin } from '../../workers/engine/recovery/recovery';
import { postgresPerFile } from '../support/postgres-per-file';
import { spawnRealmProcess } from '../pin/realm-harness';
import { fastStretch, testTokens } from '../pin/support';
import { tempDir } from './support';

const cluster = postgresPerFile({ fsync: false });

async function rows(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::integer AS n FROM realm_users')).rows[0]!.n;
  } finally {
    await c.end();
  }
}

test('P23 three realms as their own processes on their own PostgreSQL databases: register, restart one, recover', async () => {
  const names = ['realm-a', 'realm-b', 'realm-c'];
  const urls = await Promise.all(names.map((n) => cluster.createDatabase(n.replace('-', '_'))));
  const dirs = names.map(() => tempDir('parley-realm-'));
  const procs = await Promise.all(names.map((n, i) => spawnRealmProcess(n, dirs[i]!, { REALM_DATABASE_URL: urls[i]! })));
  try {
    const endpoints = names.map((n, i) => ({ id: realmIdFromName(n), url: procs[i]!.url }));
    const secret = await registerPin({ username: 'alice', pin: '2580-71', realms: endpoints, threshold: 2, tokens: testTokens('alice', endpoints) }, systemDeps, fetch, { stretch: fastStretch });
    // Each realm wrote its own row in its own database.
    for (const url of urls) expect(await rows(url)).toBe(1);
    // Restart realm-a on the same database: the registration is still there. (Its data directory
    // keeps the realm id key its rows are keyed by; a fresh one would be refused at startup.)
    await procs[0]!.stop();
    await expect(spawnRealmProcess(names[0]!, tempDir('parley-realm-'), { REALM_DATABASE_URL: urls[0]! })).rejects.toThrow(/another realm id key|exited/);
    procs[0] = await spawnRealmProcess(names[0]!, dirs[0]!, { REALM_DATABASE_URL: urls[0]! });
    endpoints[0] = { id: endpoints[0]!.id, url: procs[0].url };
    await procs[1]!.stop();
    // realm-b is down; a and c suffice for threshold 2.
    const out = await recoverWithPin({ username: 'alice', pin: '2580-71', realms: endpoints, threshold: 2 }, systemDeps, fetch, { stretch: fastStretch });
    expect('ok' in out && out.ok).toEqual(secret);
  } finally {
    for (const p of procs) await p.stop();
  }
}, 60_000);
