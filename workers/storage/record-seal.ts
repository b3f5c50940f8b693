/**
 * User data and session state at rest (DESIGN.md §8, SECURITY.md P32): message bodies, chat
 * previews, outbox content, contacts' private fields, sessions (heads and skipped-key rows,
 * session-repo.ts) and private prekeys (prekey-repo.ts) are sealed with XChaCha20-Poly1305 under
 * the vault's DATA KEY.
 *
 * Why a second key: the repositories read, change and write these rows INSIDE one readwrite
 * transaction (a chat preview is updated in the same transaction that stores the message), and
 * sessions are sealed on every message. WebCrypto is async — awaiting it there would let
 * IndexedDB auto-commit half-done, and each call costs a thread-pool round trip — so rows use
 * libsodium, which is synchronous. The data key is stored only sealed under the
 * non-extractable wrapping key (seal.ts); its raw bytes live in this worker's memory, as the
 * identity and session keys already do.
 *
 * The data key travels with the database connection (bound once by vault.ts), so `put*(tx, …)`
 * keep their signatures. The associated data binds each value to its store and record key: a
 * sealed body cannot be moved to another row. A value that does not open is StorageLost (P33).
 * Knows nothing of what the rows mean.
 */
import { unwrap } from 'idb';
import { isCodedError, isProtocolError } from '../../src/lib/codec/errors';
import { Labels } from '../../src/lib/crypto/labels';
import { aeadDecrypt, aeadEncrypt } from '../../src/lib/crypto/primitives';
import type { Sealed, Tx, VaultDb } from './schema';
import { engineFail } from '../engine/errors';

export const DATA_KEY_LEN = 32;
const NONCE_LEN = 24;

/** Raw connection -> data key. A connection without one (a lost vault) can neither seal nor open. */
const dataKeys = new WeakMap<IDBDatabase, Uint8Array>();

/** Either side of a connection: a transaction (inside commit) or the database (plain reads). */
export type Conn = Tx | VaultDb;

function rawDb(c: Conn): IDBDatabase {
  return 'mode' in c ? unwrap(c).db : unwrap(c);
}

export function bindDataKey(db: VaultDb, key: Uint8Array): void {
  dataKeys.set(unwrap(db), key);
}

/** Forgets the connection's data key and overwrites its bytes (P46: a locked vault holds none). */
export function unbindDataKey(db: VaultDb): void {
  dataKeys.get(unwrap(db))?.fill(0);
  dataKeys.delete(unwrap(db));
}

function keyOf(c: Conn): Uint8Array {
  const key = dataKeys.get(rawDb(c));
  if (!key) engineFail('StorageLost', 'the vault has no usable data key');
  return key;
}

const utf8 = new TextEncoder();

function ad(store: string, recordKey: string): Uint8Array {
  return utf8.encode(`${Labels.vaultRecord}\u0000${store}\u0000${recordKey}`);
}

/**
 * Random nonces, drawn from the system RNG a pool at a time: sealing runs on every message, and
 * one getRandomValues call costs more than the XChaCha20-Poly1305 seal of a session head. Each
 * nonce is still 24 fresh random bytes, used once.
 */
const NONCE_POOL = 128;
let pool = new Uint8Array(0);
let poolAt = 0;

function freshNonce(): Uint8Array {
  if (poolAt >= pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN * NONCE_POOL));
    poolAt = 0;
  }
  const iv = pool.slice(poolAt, poolAt + NONCE_LEN);
  pool.fill(0, poolAt, poolAt + NONCE_LEN);
  poolAt += NONCE_LEN;
  return iv;
}

export function sealBytes(c: Conn, store: string, recordKey: string, plaintext: Uint8Array): Sealed {
  const iv = freshNonce();
  return { iv, ct: aeadEncrypt(keyOf(c), iv, plaintext, ad(store, recordKey)) };
}

export function openBytes(c: Conn, store: string, recordKey: string, sealed: Sealed): Uint8Array {
  const key = keyOf(c);
  if (!(sealed?.iv instanceof Uint8Array) || sealed.iv.length !== NONCE_LEN || !(sealed.ct instanceof Uint8Array)) {
    engineFail('StorageLost', `a ${store} row holds no sealed value`);
  }
  try {
    return aeadDecrypt(key, sealed.iv, sealed.ct, ad(store, recordKey));
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return engineFail('StorageLost', `a sealed ${store} value of ${sealed.ct.length} bytes does not open`);
  }
}

export function sealText(c: Conn, store: string, recordKey: string, text: string): Sealed {
  return sealBytes(c, store, recordKey, utf8.encode(text));
}

export function openText(c: Conn, store: string, recordKey: string, sealed: Sealed): string {
  return new TextDecoder().decode(openBytes(c, store, recordKey, sealed));
}

/**
 * Where each data store's rows keep the record key their associated data binds (the repositories'
 * choice: the outbox binds the recipient, its own key being an auto-increment seq). A store that
 * seals rows with the data key must be listed here, or `resealRows` refuses to rotate the key
 * (tests/engine/app-lock.test.ts checks every store of the schema).
 */
export const SEALED_ROW_KEYS: Readonly<Record<string, string>> = Object.freeze({
  messages: 'key',
  chats: 'id',
  contacts: 'username',
  outbox: 'to',
  sessions: 'username',
  skippedKeys: 'key',
  groups: 'id',
  groupMessages: 'key',
  searchIndex: 'id',
  avatars: 'username',
  prekeys: 'key'
});

/**
 * Stores that hold no data-key rows: keys under the wrapping key, or nothing secret. `files`
 * (file-repo.ts) holds blobs already sealed under each file's own key, which lives only in the
 * sealed message row, so rotating the data key re-seals that key with the row. `meta` is
 * the exception handled apart: besides wrapping-key records it holds a few values sealed with the
 * data key under their own out-of-line key (our profile key and profile, the username link, the
 * sealed-sender access state and the privacy settings), and `resealRows` re-seals those too.
 */
export const UNSEALED_STORES: readonly string[] = Object.freeze(['meta', 'legacySessions', 'failures', 'files']);

const isSealed = (v: unknown): v is Sealed =>
  typeof v === 'object' && v !== null && (v as Sealed).iv instanceof Uint8Array && (v as Sealed).iv.length === NONCE_LEN && (v as Sealed).ct instanceof Uint8Array;

/** `meta` values sealed with the data key (AD: 'meta' and the value's key); others do not open and stay. */
async function resealMeta(tx: Tx, old: Uint8Array, next: Uint8Array): Promise<number> {
  const os = tx.objectStore('meta');
  const keys = await os.getAllKeys();
  const values = (await os.getAll()) as unknown[];
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    const key = keys[i];
    if (!isSealed(value) || typeof key !== 'string') continue;
    let plain: Uint8Array;
    try {
      plain = aeadDecrypt(old, value.iv, value.ct, ad('meta', key));
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      continue;
    }
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN));
    await os.put({ iv, ct: aeadEncrypt(next, iv, plain, ad('meta', key)) } as never, key);
    plain.fill(0);
    count++;
  }
  return count;
}

/**
 * Data key rotation (P46, turning the app lock on): inside `tx`, every row sealed with the
 * connection's data key is opened and sealed again under `next`, synchronously. A row that does
 * not open stays as it is (it never opened). The caller binds `next` once `tx` commits.
 */
export async function resealRows(tx: Tx, next: Uint8Array): Promise<number> {
  const old = keyOf(tx);
  let count = tx.objectStoreNames.contains('meta') ? await resealMeta(tx, old, next) : 0;
  for (const store of Array.from(tx.objectStoreNames)) {
    if (UNSEALED_STORES.includes(store)) continue;
    const field = SEALED_ROW_KEYS[store];
    const os = tx.objectStore(store);
    for (const row of (await os.getAll()) as Record<string, unknown>[]) {
      const sealed = row.sealed as Sealed | undefined;
      if (!(sealed?.iv instanceof Uint8Array) || sealed.iv.length !== NONCE_LEN) continue;
      if (!field) return engineFail('StorageLost', `store ${store} holds sealed rows the data key rotation does not know`);
      const recordKey = String(row[field]);
      let plain: Uint8Array;
      try {
        plain = aeadDecrypt(old, sealed.iv, sealed.ct, ad(store, recordKey));
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        continue;
      }
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN));
      await os.put({ ...row, sealed: { iv, ct: aeadEncrypt(next, iv, plain, ad(store, recordKey)) } } as never);
      plain.fill(0);
      count++;
    }
  }
  return count;
}


/** For small records of plain JSON values (contacts' private fields). */
export function sealJson(c: Conn, store: string, recordKey: string, value: unknown): Sealed {
  return sealText(c, store, recordKey, JSON.stringify(value));
}

export function openJson<T>(c: Conn, store: string, recordKey: string, sealed: Sealed): T {
  try {
    return JSON.parse(openText(c, store, recordKey, sealed)) as T;
  } catch (e) {
    if (isCodedError(e)) throw e;
    return engineFail('StorageLost', `a sealed ${store} value is not JSON`);
  }
}
