/**
 * The HostStore on PostgreSQL (port.ts): for several stateless host instances sharing one
 * database (DATABASE_URL, open.ts). Migrates on open (schema.ts; instances starting together
 * migrate once), then serves the directory (directory.ts), authentication and rate windows
 * (auth.ts), the mailbox (mailbox.ts) and account records (records.ts) from one pool.
 *
 * Durability: a 'stored' reply follows a commit, and PostgreSQL's defaults (fsync on,
 * synchronous_commit on) flush the WAL before a commit returns, so confirmed envelopes survive a
 * database crash or restart; a database set to synchronous_commit = off is refused at open.
 * Knows nothing of HTTP or crypto.
 */
import type pg from 'pg';
import { createPool, migrate, type PoolOptions } from './client';
import { pgAuth } from './auth';
import { pgDirectory } from './directory';
import { pgMailbox } from './mailbox';
import { MAILBOX_CHANNEL } from '../bus-port';
import { pgRecords } from './records';
import { HOST_MIGRATIONS, HOST_SCHEMA_TRACK } from './schema';
import type { HostStore } from '../port';

/**
 * With synchronous_commit = off, COMMIT returns before the WAL is flushed, and a crash of the
 * database processes alone loses recent commits the host already confirmed (P34). Any other
 * value (on, local, remote_write, remote_apply) waits for at least the local flush.
 */
async function requireDurableCommits(pool: pg.Pool): Promise<void> {
  const r = await pool.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s");
  if (r.rows[0]!.s === 'off') throw new Error('PostgreSQL synchronous_commit is off: confirmed envelopes could be lost in a crash; set it to on');
}

export interface PgStoreOptions extends PoolOptions {
  /** This instance's bus origin (pg/bus.ts): mailbox batches NOTIFY with it. Absent: no NOTIFY. */
  origin?: string;
  /** Envelope rows per sweep transaction (limits.ts sweepChunk). */
  sweepChunk?: number;
}

export async function openPgStore(url: string, o: PgStoreOptions = {}): Promise<HostStore> {
  const pool = createPool(url, o);
  let schemaVersion: number;
  try {
    await requireDurableCommits(pool);
    schemaVersion = await migrate(pool, HOST_SCHEMA_TRACK, HOST_MIGRATIONS);
  } catch (e) {
    await pool.end();
    throw e;
  }
  // Batches get connections of their own: a commit never queues behind replay page reads.
  const writers = createPool(url, { max: 2, applicationName: `${o.applicationName ?? 'parley-host'}-writer` });
  const mailbox = pgMailbox(pool, writers, o.origin === undefined ? undefined : { channel: MAILBOX_CHANNEL, origin: o.origin }, o.sweepChunk);
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
      await Promise.all([pool.end(), writers.end()]);
    }
  };
}
