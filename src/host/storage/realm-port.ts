/**
 * The asynchronous port of a PIN realm's storage (DESIGN.md §7, SECURITY.md P23/P24), beside the
 * host's (port.ts) because a realm is a separate service with its own operator and database:
 * one row per user id with the auth verifier, the realm record (gone once destroyed), the
 * wrong-guess counter and whether an evaluation is pending.
 *
 * `transact` runs read -> pure `fn` -> write for ONE user as one transaction that excludes every
 * other transaction on the same user, in this process or any other sharing the database, so a
 * guess counter never loses an update (P23: 50 concurrent wrong guesses never exceed the limit).
 * Adapters: SQLite (sqlite-realm.ts, over realm/store.ts; the default, with secure deletion) and
 * PostgreSQL (pg/realm.ts). Knows nothing of HTTP, request codecs or PINs.
 */
import type { UserRow } from '../realm/store';

export type { UserRow };

export interface RealmStorage {
  readonly backend: 'sqlite' | 'postgres';
  /** Applies `fn` to the user's row atomically; `fn` returns the row to write (or none) and a result. */
  transact<T>(userId: Uint8Array, fn: (row: UserRow | undefined) => { write?: UserRow; result: T }): Promise<T>;
  /**
   * Best effort to remove old images of destroyed records from the storage files. SQLite truncates
   * its WAL (its freed cells are zeroed by secure_delete); PostgreSQL can only VACUUM, which makes
   * dead row versions reusable but does not overwrite them (README: realms and PostgreSQL).
   */
  scrub(): Promise<void>;
  close(): Promise<void>;
}
