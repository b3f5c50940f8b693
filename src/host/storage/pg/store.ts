/**
 * The HostStore on PostgreSQL (port.ts): for several stateless host instances sharing one
 * database (DATABASE_URL, open.ts). Migrates on open (schema.ts; instances starting together
 * migrate once), then serves the directory (directory.ts), authentication and rate windows
 * (auth.ts), the mailbox (mailbox.ts) and account records (records.ts) from one pool.
 *
 * Durability: a 'stored' reply follows a commit, and PostgreSQL's defaults (fsync on,
 * synchronous_commit on) flush the WAL before a commit returns, so confirmed envelopes survive a
 * database crash or restart. Knows nothing of HTTP or crypto.
 */
import { createPool, migrate, type PoolOptions } from './client';
import { pgAuth } from './auth';
import { pgDirectory } from './directory';
import { pgMailbox } from './mailbox';
import { pgRecords } from './records';
import { HOST_MIGRATIONS, HOST_SCHEMA_TRACK } from './schema';
import type { HostStore } from '../port';

export async function openPgStore(url: string, o: PoolOptions = {}): Promise<HostStore> {
  const pool = createPool(url, o);
  let schemaVersion: number;
  try {
    schemaVersion = await migrate(pool, HOST_SCHEMA_TRACK, HOST_MIGRATIONS);
  } catch (e) {
    await pool.end();
    throw e;
  }
  const mailbox = pgMailbox(pool);
  return {
    backend: 'postgres',
    schemaVersion,
    ...pgDirectory(pool),
    ...pgAuth(pool),
    records: pgRecords(pool),
    applyMailboxBatch: mailbox.applyMailboxBatch,
    pendingEnvelopes: mailbox.pendingEnvelopes,
    mailboxUsage: mailbox.mailboxUsage,
    sweep: mailbox.sweep,
    async close() {
      await mailbox.idle();
      await pool.end();
    }
  };
}
