/**
 * One throwaway PostgreSQL cluster (postgres.ts) for the tests of a file or a describe block:
 * started before them, destroyed after. The answer forwards to the running cluster, so a test
 * file declares it once at the top and uses it as the cluster itself.
 */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PgCluster, type PgClusterOptions } from './postgres';

export function postgresPerFile(options: PgClusterOptions = {}): PgCluster {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres(options);
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);
  const live = (): PgCluster => {
    if (!cluster) throw new Error('the PostgreSQL cluster is not running (used outside its tests?)');
    return cluster;
  };
  return {
    get port() {
      return live().port;
    },
    url: (database) => live().url(database),
    createDatabase: (name) => live().createDatabase(name),
    stop: (mode) => live().stop(mode),
    crash: () => live().crash(),
    start: () => live().start(),
    destroy: () => live().destroy(),
    logTail: () => live().logTail()
  };
}
