/**
 * The name seal of a test host on SQLite (its `name.key` in DATA_DIR), so tests that read the
 * host's rows directly can read names, which are stored sealed (README "Usernames at rest").
 */
import { envelopeSeal, type EnvelopeSeal } from '../../src/host/storage/envelope-seal';
import { nameKeyInDataDir } from '../../src/host/storage/name-key';
import { nameSeal, type NameSeal } from '../../src/host/storage/name-seal';

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
