/**
 * Chooses the storage adapter from the environment (README "Host configuration"): with
 * DATABASE_URL (`postgres://…`) the host and its realm run on PostgreSQL, shareable by several
 * host instances, with the side stores (profiles, group blobs, discovery, sealed sender,
 * attachment blobs) beside it; without it,
 * on SQLite files under DATA_DIR (one process). Anything else in
 * DATABASE_URL is a startup error, never a silent fallback to SQLite. Given a name key (`names`),
 * every store opened here seals usernames at rest (name-seal.ts, sealed-names.ts), and given an
 * envelope seal (`bodies`) every mailbox body (envelope-seal.ts, sealed-bodies.ts); `bindNameKey`
 * and then `bindEnvelopeKey` must have run first.
 */
import { mkdirSync } from 'node:fs';
import type { InstanceBus } from './bus-port';
import { localBus } from './local-bus';
import { openPgBus } from './pg/bus';
import { openPgRealmStore } from './pg/realm';
import { openPgStore } from './pg/store';
import type { HostStore } from './port';
import type { RealmStorage } from './realm-port';
import { openSqliteRealmStorage } from './sqlite-realm';
import { openSqliteStore } from './sqlite-store';
import type { DiscoveryIndex } from './discovery-port';
import type { GroupBlobStore } from './group-blob-port';
import type { OwnedBlobStores } from './profile-port';
import { existingAccounts, openSqliteDiscovery } from './sqlite-discovery';
import { openSqliteGroupBlobs } from './sqlite-group-blobs';
import { openSqliteProfiles } from './sqlite-profiles';
import { createPool } from './pg/client';
import { openPgDiscovery, pgAccounts } from './pg/discovery';
import { openPgGroupBlobs } from './pg/group-blobs';
import { openPgOwnedBlobs } from './pg/owned-blobs';
import type { BlobStore } from './blob-port';
import type { SealedStore } from './sealed-port';
import { openPgBlobs } from './pg/blobs';
import { openPgSealed } from './pg/sealed';
import { openSqliteBlobs } from './sqlite-blobs';
import { openSqliteSealed } from './sqlite-sealed';
import type { EnvelopeSeal } from './envelope-seal';
import type { NameSeal } from './name-seal';
import { bindPgRealmIds, bindSqliteRealmIds, keyedRealmIds, type RealmIdKey } from './realm-ids';
import { sealPgBodies, sealSqliteBodies } from './seal-stored-bodies';
import { sealPgNames, sealSqliteNames } from './seal-stored-names';
import { sealBodiesInStore } from './sealed-bodies';
import { sealNamesInBlobs, sealNamesInBus, sealNamesInSealedStore, sealNamesInStore } from './sealed-names';

export interface StoreLocation {
  /** postgres:// or postgresql:// URL; absent: SQLite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** Seals usernames at rest (README "Usernames at rest"); absent only in adapter-level tests. */
  names?: NameSeal;
  /** Seals mailbox bodies at rest (README "Envelopes at rest"); absent only in adapter-level tests. */
  bodies?: EnvelopeSeal;
}

/** Limits the stores enforce themselves (limits.ts). */
export interface StoreLimits {
  maxDatabaseBytes?: number;
  maxChallenges?: number;
  sweepChunk?: number;
}

function postgresUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
  return url;
}

export function storeLocationFromEnv(env: Record<string, string | undefined>, dataDir: string): StoreLocation {
  return { databaseUrl: postgresUrl(env.DATABASE_URL), dataDir };
}

/**
 * Binds the database to the name key and seals what an older host left in clear
 * (seal-stored-names.ts); before any store opens. Returns how many values it sealed.
 */
export async function bindNameKey(at: StoreLocation, names: NameSeal): Promise<number> {
  const url = postgresUrl(at.databaseUrl);
  if (!url) {
    mkdirSync(at.dataDir, { recursive: true });
    return sealSqliteNames(at.dataDir, names);
  }
  const pool = createPool(url, { max: 1, applicationName: 'parley-host-names' });
  try {
    return await sealPgNames(pool, names);
  } finally {
    await pool.end();
  }
}

/**
 * Binds the database to the envelope key and seals the bodies an older host left in clear
 * (seal-stored-bodies.ts); after `bindNameKey`, before any store opens. Returns how many it sealed.
 */
export async function bindEnvelopeKey(at: StoreLocation, bodies: EnvelopeSeal): Promise<number> {
  const url = postgresUrl(at.databaseUrl);
  if (!url) {
    mkdirSync(at.dataDir, { recursive: true });
    return sealSqliteBodies(at.dataDir, bodies);
  }
  const pool = createPool(url, { max: 1, applicationName: 'parley-host-envelopes' });
  try {
    return await sealPgBodies(pool, bodies);
  } finally {
    await pool.end();
  }
}

/** Bodies are sealed below the names: the adapter sees both sealed, the host above neither. */
function sealedIf(store: HostStore, at: StoreLocation, log?: (line: string) => void): HostStore {
  const bodied = at.bodies ? sealBodiesInStore(store, at.bodies, log) : store;
  return at.names ? sealNamesInStore(bodied, at.names) : bodied;
}

export async function openHostStore(at: StoreLocation, limits: StoreLimits = {}, log?: (line: string) => void): Promise<HostStore> {
  const url = postgresUrl(at.databaseUrl);
  const store = url ? await openPgStore(url, { sweepChunk: limits.sweepChunk }) : await openSqliteStore(at.dataDir, { maxBytes: limits.maxDatabaseBytes, maxChallenges: limits.maxChallenges, sweepChunk: limits.sweepChunk });
  return sealedIf(store, at, log);
}

/** The store and the bus of one host instance: on PostgreSQL the store NOTIFYs under the bus's origin. */
export async function openHostBackend(at: StoreLocation, limits: StoreLimits = {}, log?: (line: string) => void): Promise<{ store: HostStore; bus: InstanceBus }> {
  const url = postgresUrl(at.databaseUrl);
  if (!url) return { store: await openHostStore(at, limits, log), bus: localBus() };
  const raw = await openPgBus(url, log);
  const bus = at.names ? sealNamesInBus(raw, at.names, log) : raw;
  try {
    return { store: sealedIf(await openPgStore(url, { origin: bus.origin, sweepChunk: limits.sweepChunk }), at, log), bus };
  } catch (e) {
    await bus.close();
    throw e;
  }
}

/**
 * A realm's storage; with `idKey` its rows are keyed by HMAC of the user id (realm-ids.ts), the
 * database bound to that key first (rows of an older realm rekeyed).
 */
export async function openRealmStorage(at: StoreLocation, idKey?: RealmIdKey): Promise<RealmStorage> {
  const url = postgresUrl(at.databaseUrl);
  if (idKey && !url) {
    mkdirSync(at.dataDir, { recursive: true });
    bindSqliteRealmIds(at.dataDir, idKey);
  } else if (idKey && url) {
    const pool = createPool(url, { max: 1, applicationName: 'parley-realm-ids' });
    try {
      await bindPgRealmIds(pool, idKey);
    } finally {
      await pool.end();
    }
  }
  const storage = url ? await openPgRealmStore(url) : await openSqliteRealmStorage(at.dataDir);
  return idKey ? keyedRealmIds(storage, idKey) : storage;
}

/**
 * The stores beside the host's own: profiles and username links, group state blobs, discovery,
 * sealed sender's access records and keys (P41), attachment blobs.
 */
export interface SideStores {
  owned: OwnedBlobStores;
  groupBlobs: GroupBlobStore;
  discovery: DiscoveryIndex;
  sealed: SealedStore;
  blobs: BlobStore;
  /** The host store's accounts (name, encoded identity), for filling the discovery index. */
  accounts(): Promise<{ username: string; identity: Uint8Array }[]>;
  close(): Promise<void>;
}

/**
 * On PostgreSQL the side stores share one small pool and the host's database, so every instance
 * serves the same profiles, group states and discovery answers; on SQLite each has its own file
 * in dataDir. Called after the host store opened (its accounts table exists).
 */
export async function openSideStores(at: StoreLocation): Promise<SideStores> {
  const side = await openRawSideStores(at);
  const n = at.names;
  if (!n) return side;
  return {
    ...side,
    sealed: sealNamesInSealedStore(side.sealed, n),
    blobs: sealNamesInBlobs(side.blobs, n),
    accounts: async () => (await side.accounts()).map((a) => ({ ...a, username: n.open(a.username) }))
  };
}

async function openRawSideStores(at: StoreLocation): Promise<SideStores> {
  const url = postgresUrl(at.databaseUrl);
  if (!url) {
    const owned = openSqliteProfiles(at.dataDir);
    const groupBlobs = openSqliteGroupBlobs(at.dataDir);
    const discovery = openSqliteDiscovery(at.dataDir);
    const sealed = openSqliteSealed(at.dataDir);
    const blobs = openSqliteBlobs(at.dataDir);
    return {
      owned,
      groupBlobs,
      discovery,
      sealed,
      blobs,
      accounts: async () => existingAccounts(at.dataDir),
      async close() {
        sealed.close();
        await Promise.all([owned.close(), groupBlobs.close(), discovery.close(), blobs.close()]);
      }
    };
  }
  // Attachment parts (up to 4 MiB each) go through this pool too: a few more connections.
  const pool = createPool(url, { max: 6, applicationName: 'parley-host-side' });
  try {
    return {
      owned: await openPgOwnedBlobs(pool),
      groupBlobs: await openPgGroupBlobs(pool),
      discovery: await openPgDiscovery(pool),
      sealed: await openPgSealed(pool),
      blobs: await openPgBlobs(pool),
      accounts: () => pgAccounts(pool),
      close: () => pool.end()
    };
  } catch (e) {
    await pool.end();
    throw e;
  }
}
