/**
 * The name seal of a test host on SQLite (its `name.key` in DATA_DIR), so tests that read the
 * host's rows directly can read names, which are stored sealed (README "Usernames at rest").
 */
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
