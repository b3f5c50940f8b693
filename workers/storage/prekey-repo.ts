/**
 * Private prekeys at rest: the signed X25519 prekey, X25519 one-time prekeys and ML-KEM prekeys
 * (one-time and last-resort), each sealed with the vault's data key (record-seal.ts), as sessions
 * are, so a handshake opens its one-time prekey synchronously instead of awaiting WebCrypto
 * (records an older build sealed under the wrapping key still open, and the app lock re-keys
 * them, app-lock-repo.ts). `preKeyLookup` loads just the ids a PreKeyMessage names into the
 * synchronous lookup acceptSession wants; `deleteConsumed` runs in the same transaction that
 * stores the new session, so a used one-time private key never outlives it (P15).
 */
import type { ConsumedPreKeys, PqxdhHeader, PreKeyLookup } from '../../src/lib/crypto/pqxdh';
import {
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodeSignedPreKey,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodeSignedPreKey,
  type KemPreKey,
  type OneTimePreKey,
  type SignedPreKey
} from '../../src/lib/crypto/prekeys';
import type { PreKeyKind, PreKeyRecord, Tx, Vault } from './schema';
import { unseal } from './seal';
import { openBytes, sealBytes } from './record-seal';
import { bytesEqual } from '../../src/lib/codec/bytes';

/** A record sealed under the wrapping key (seal.ts, AES-GCM) has a 12-byte IV; the data key's nonce is 24. */
const WRAP_IV_LEN = 12;

export function preKeyKey(kind: PreKeyKind, id: number): string {
  return `${kind}:${id}`;
}

export interface NewPreKeys {
  signed?: SignedPreKey;
  oneTime: OneTimePreKey[];
  kem: KemPreKey[];
}

/** Seals every new private prekey with the data key (record-seal.ts; AD: 'prekeys' and the record key). */
export function sealPreKeys(vault: Vault, keys: NewPreKeys, now: number): PreKeyRecord[] {
  const out: PreKeyRecord[] = [];
  const add = (kind: PreKeyKind, id: number, bytes: Uint8Array, lastResort: boolean, createdAt: number) => {
    const key = preKeyKey(kind, id);
    out.push({ key, kind, id, lastResort, createdAt, sealed: sealBytes(vault.db, 'prekeys', key, bytes) });
    bytes.fill(0);
  };
  if (keys.signed) add('signed', keys.signed.id, encodeSignedPreKey(keys.signed), false, keys.signed.createdAt);
  for (const k of keys.oneTime) add('oneTime', k.id, encodeOneTimePreKey(k), false, now);
  for (const k of keys.kem) add('kem', k.id, encodeKemPreKey(k), k.lastResort, k.createdAt);
  return out;
}

/**
 * The private key bytes of a record: sealed with the data key (24-byte nonce, synchronous), or,
 * written before prekeys moved to it, with the wrapping key (12-byte IV, WebCrypto AES-GCM).
 */
async function openRecord(vault: Vault, rec: PreKeyRecord): Promise<Uint8Array> {
  return rec.sealed.iv.length === WRAP_IV_LEN ? unseal(vault.key, rec.sealed) : openBytes(vault.db, 'prekeys', rec.key, rec.sealed);
}

export async function putPreKeys(tx: Tx, records: PreKeyRecord[]): Promise<void> {
  const store = tx.objectStore('prekeys');
  for (const r of records) await store.put(r);
}

/**
 * Deletes the oldest unused one-time prekeys of `kind` beyond the newest `keep` (by id, the order
 * they were made and the host serves them in); last-resort KEM keys are neither counted nor
 * deleted. Answers how many went.
 */
export async function trimOneTimePreKeys(tx: Tx, kind: 'oneTime' | 'kem', keep: number): Promise<number> {
  const store = tx.objectStore('prekeys');
  const held = (await store.index('byKind').getAll(kind)).filter((r) => !r.lastResort).sort((a, b) => a.id - b.id);
  const extra = held.slice(0, Math.max(0, held.length - keep));
  for (const r of extra) await store.delete(r.key);
  return extra.length;
}

export async function countPreKeys(vault: Vault, kind: PreKeyKind): Promise<number> {
  return vault.db.countFromIndex('prekeys', 'byKind', kind);
}

/** Every stored record of one kind (metadata and sealed bytes). */
export async function listPreKeys(vault: Vault, kind: PreKeyKind): Promise<PreKeyRecord[]> {
  return vault.db.getAllFromIndex('prekeys', 'byKind', kind);
}

/**
 * Prekeys reused across handshakes (the signed prekey and last-resort KEM keys), as opened under
 * one wrapping key: record key -> the nonce of the sealed value opened and the decoded key. A
 * hit needs the stored record's nonce to be that one (a rewrapped or replaced record misses), and
 * a locked vault's new wrapping key (P46) reaches none of it. One-time prekeys are opened once
 * and deleted with the session that used them, so they are never kept here.
 */
const opened = new WeakMap<CryptoKey, Map<string, { iv: Uint8Array; value: unknown }>>();
const MAX_OPENED = 8;

function reused(rec: PreKeyRecord): boolean {
  return rec.kind === 'signed' || (rec.kind === 'kem' && rec.lastResort);
}

/** Forgets every opened prekey of this vault (the app lock, a reset). */
export function forgetPreKeys(vault: Vault): void {
  opened.delete(vault.key);
}

async function open<T>(vault: Vault, rec: PreKeyRecord | undefined, decode: (b: Uint8Array) => T): Promise<T | undefined> {
  if (!rec) return undefined;
  if (!reused(rec)) return decode(await openRecord(vault, rec));
  let cache = opened.get(vault.key);
  if (!cache) opened.set(vault.key, (cache = new Map()));
  const hit = cache.get(rec.key);
  // A copy: the handshake may wipe the key pairs it is handed.
  if (hit && bytesEqual(hit.iv, rec.sealed.iv)) return structuredClone(hit.value as T);
  const value = decode(await openRecord(vault, rec));
  cache.delete(rec.key);
  cache.set(rec.key, { iv: rec.sealed.iv, value: structuredClone(value) });
  if (cache.size > MAX_OPENED) cache.delete(cache.keys().next().value!);
  return value;
}

/**
 * A synchronous lookup holding only the prekeys `header` names (missing ones are undefined).
 * On the handshake path: the three records are read in one transaction and unsealed at once.
 */
export async function preKeyLookup(vault: Vault, header: PqxdhHeader): Promise<PreKeyLookup> {
  const tx = vault.db.transaction('prekeys', 'readonly');
  const get = (kind: PreKeyKind, id: number | undefined) => (id === undefined ? undefined : tx.store.get(preKeyKey(kind, id)));
  const [spkRec, opkRec, kemRec] = await Promise.all([
    get('signed', header.signedPreKeyId),
    get('oneTime', header.oneTimePreKeyId),
    get('kem', header.kemPreKeyId),
    tx.done
  ]);
  const [spk, opk, kem] = await Promise.all([
    open(vault, spkRec, decodeSignedPreKey),
    open(vault, opkRec, decodeOneTimePreKey),
    open(vault, kemRec, decodeKemPreKey)
  ]);
  return {
    signedPreKey: (id) => (spk && spk.id === id ? spk : undefined),
    oneTimePreKey: (id) => (opk && opk.id === id ? opk : undefined),
    kemPreKey: (id) => (kem && kem.id === id ? kem : undefined)
  };
}

/** Deletes the one-time prekeys a new session used; a last-resort KEM key stays. */
export async function deleteConsumed(tx: Tx, consumed: ConsumedPreKeys): Promise<void> {
  const store = tx.objectStore('prekeys');
  if (consumed.oneTimePreKeyId !== undefined) await store.delete(preKeyKey('oneTime', consumed.oneTimePreKeyId));
  if (!consumed.kemLastResort) await store.delete(preKeyKey('kem', consumed.kemPreKeyId));
}
