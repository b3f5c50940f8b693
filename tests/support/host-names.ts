/**
 * The name seal of a test host on SQLite (its `name.key` in DATA_DIR), so tests that read the
 * host's rows directly can read names, which are stored sealed (README "Usernames at rest").
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { envelopeSeal, type EnvelopeSeal } from '../../src/host/storage/envelope-seal';
import { nameKeyInDataDir } from '../../src/host/storage/name-key';
import { nameSeal, type NameSeal } from '../../src/host/storage/name-seal';
import { DB_FILE } from '../../src/host/storage/sqlite';

export function hostNames(dataDir: string): NameSeal {
  return nameSeal(nameKeyInDataDir(dataDir));
}

/** Envelope rows as names: recipient opened, sender opened (empty for sealed sender). */
export function openedRows<T extends { recipient: string; sender: string }>(dataDir: string, rows: T[]): T[] {
  const n = hostNames(dataDir);
  return rows.map((r) => ({ ...r, recipient: n.open(r.recipient), sender: n.open(r.sender) }));
}

/** The envelope seal of a test host on SQLite, for tests that read stored bodies directly (README "Envelopes at rest"). */
export function hostBodies(dataDir: string): EnvelopeSeal {
  return envelopeSeal(nameKeyInDataDir(dataDir));
}

/** A stored body as the client sent it; throws if it is not in the sealed format. */
export function openedBody(dataDir: string, stored: Uint8Array): Uint8Array {
  const [o] = hostBodies(dataDir).open([new Uint8Array(stored)]);
  if (!o) throw new Error('a stored body that is not sealed at rest');
  return o.body;
}

/** A waiting envelope row as a test host's SQLite file holds it (names and body sealed). */
export interface StoredRow {
  id: number;
  recipient: string;
  sender: string;
  receivedAt: number;
  body: Uint8Array;
}

/** The waiting envelope rows of a test host on SQLite, oldest first. */
export function storedRows(dataDir: string): StoredRow[] {
  const db = new Database(join(dataDir, DB_FILE), { readonly: true });
  try {
    const rows = db.prepare('SELECT id, recipient, sender, received_at, body FROM envelopes ORDER BY id').all() as { id: number; recipient: string; sender: string; received_at: number; body: Buffer }[];
    return rows.map((r) => ({ id: r.id, recipient: r.recipient, sender: r.sender, receivedAt: r.received_at, body: new Uint8Array(r.body) }));
  } finally {
    db.close();
  }
}
