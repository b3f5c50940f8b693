/**
 * Versioned SQLite schema for the host (DESIGN.md §5, §9), run by sqlite-file.ts: `PRAGMA
 * user_version` records how many migrations ran; each runs once, in order, inside one transaction
 * with its version bump. Append new migrations; never edit one that has shipped.
 *
 * Envelope ids use AUTOINCREMENT so an id is never reused after a delete: clients ack by id and
 * the host redelivers in id order, so a reused id could confuse an ack or reorder a mailbox.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE accounts (
     username TEXT PRIMARY KEY,
     identity BLOB NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE signed_prekeys (
     username TEXT PRIMARY KEY REFERENCES accounts(username),
     key_id INTEGER NOT NULL,
     public_key BLOB NOT NULL,
     signature BLOB NOT NULL
   );
   CREATE TABLE one_time_prekeys (
     username TEXT NOT NULL REFERENCES accounts(username),
     key_id INTEGER NOT NULL,
     public_key BLOB NOT NULL,
     PRIMARY KEY (username, key_id)
   );
   CREATE TABLE kem_prekeys (
     username TEXT NOT NULL REFERENCES accounts(username),
     key_id INTEGER NOT NULL,
     last_resort INTEGER NOT NULL,
     public_key BLOB NOT NULL,
     signature BLOB NOT NULL,
     PRIMARY KEY (username, key_id)
   );
   CREATE TABLE tokens (
     hash BLOB PRIMARY KEY,
     username TEXT NOT NULL REFERENCES accounts(username),
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX tokens_expiry ON tokens(expires_at);
   CREATE TABLE envelopes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     recipient TEXT NOT NULL,
     sender TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     body BLOB NOT NULL
   );
   CREATE INDEX envelopes_mailbox ON envelopes(recipient, id);
   CREATE INDEX envelopes_age ON envelopes(received_at);`,
  // v2: the age index cost every insert and ack a second b-tree update on the hot path, for a
  // sweep that runs hourly; the sweep now scans instead (the table is bounded by mailbox quotas).
  `DROP INDEX envelopes_age;`,
  // v3 (P37): the device gate lives beside the prekeys it guards, so a takeover sets both in one
  // transaction.
  `CREATE TABLE device_gates (
     username TEXT PRIMARY KEY REFERENCES accounts(username),
     device_hash BLOB NOT NULL
   );`
];
