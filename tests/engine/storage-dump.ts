/**
 * Test support for the at-rest properties (P32, P33): dumps EVERY object store of EVERY IndexedDB
 * database in this process with the raw IDB API (not the repositories, so nothing is decoded on
 * the way), and searches the dump for text and byte needles.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';

export interface StoredValue {
  db: string;
  store: string;
  key: unknown;
  value: unknown;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export async function dumpAll(): Promise<StoredValue[]> {
  const out: StoredValue[] = [];
  for (const info of await indexedDB.databases()) {
    const db = await request(indexedDB.open(info.name!));
    for (const store of Array.from(db.objectStoreNames)) {
      const os = db.transaction(store, 'readonly').objectStore(store);
      const [keys, values] = await Promise.all([request(os.getAllKeys()), request(os.getAll())]);
      keys.forEach((key, i) => out.push({ db: info.name!, store, key, value: values[i] }));
    }
    db.close();
  }
  return out;
}

function hasBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  for (let i = 0; i + needle.length <= hay.length; i++) if (bytesEqual(hay.subarray(i, i + needle.length), needle)) return true;
  return false;
}

/** Where in the dump `needle` occurs: as a substring of any string, or inside any byte array. */
export function findNeedle(dump: StoredValue[], needle: string | Uint8Array): string[] {
  const bytes = typeof needle === 'string' ? new TextEncoder().encode(needle) : needle;
  const hits: string[] = [];
  const walk = (v: unknown, at: string): void => {
    if (typeof v === 'string') {
      if (typeof needle === 'string' && v.includes(needle)) hits.push(at);
    } else if (v instanceof Uint8Array) {
      if (hasBytes(v, bytes)) hits.push(at);
    } else if (v instanceof ArrayBuffer) {
      if (hasBytes(new Uint8Array(v), bytes)) hits.push(at);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}[${i}]`));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    }
  };
  for (const r of dump) {
    const at = `${r.db}/${r.store}/${String(r.key)}`;
    walk(r.key, `${at}#key`);
    walk(r.value, at);
  }
  return hits;
}
