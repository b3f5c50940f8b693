/**
 * The host's stores as the rest of the host sees them, with every username sealed on the way in
 * and opened on the way out (name-seal.ts; README "Usernames at rest"). The adapters below never
 * see a username in clear, so neither do their files; the host above never sees a sealed one.
 * Rate-limit keys (which embed names and addresses) are keyed hashes.
 */
import type { InstanceBus } from './bus-port';
import type { BlobStore } from './blob-port';
import type { NameSeal } from './name-seal';
import type { AccountRecordStore, HostStore } from './port';
import type { PushStore } from './push-port';
import type { SealedStore } from './sealed-port';
import type { StoredEnvelope } from './types';

export function sealNamesInStore(inner: HostStore, n: NameSeal): HostStore {
  const records: AccountRecordStore = {
    getRecord: (u) => inner.records.getRecord(n.seal(u)),
    putRecord: (u, keyHash, record, takeoverKey, now) => inner.records.putRecord(n.seal(u), keyHash, record, takeoverKey, now),
    deleteRecord: (u, keyHash) => inner.records.deleteRecord(n.seal(u), keyHash),
    deviceHash: (u) => inner.records.deviceHash(n.seal(u)),
    issuerKey: (make) => inner.records.issuerKey(make)
  };
  const openEnvelope = (e: StoredEnvelope): StoredEnvelope => ({ ...e, recipient: n.open(e.recipient), sender: n.open(e.sender) });
  return {
    backend: inner.backend,
    schemaVersion: inner.schemaVersion,
    records,
    accountExists: (u) => inner.accountExists(n.seal(u)),
    identity: (u) => inner.identity(n.seal(u)),
    createAccount: (a) => inner.createAccount({ ...a, username: n.seal(a.username) }),
    addPreKeys: (u, keys) => inner.addPreKeys(n.seal(u), keys),
    preKeyCounts: (u) => inner.preKeyCounts(n.seal(u)),
    takeBundle: (u, oneTime) => inner.takeBundle(n.seal(u), oneTime),
    putChallenge: (c, expiresAt) => inner.putChallenge(c, expiresAt),
    takeChallenge: (c, now) => inner.takeChallenge(c, now),
    putToken: (hash, u, expiresAt) => inner.putToken(hash, n.seal(u), expiresAt),
    tokenUser: async (hash, now) => {
      const u = await inner.tokenUser(hash, now);
      return u === undefined ? undefined : n.open(u);
    },
    takeOverDevice: (u, keys, deviceHash) => inner.takeOverDevice(n.seal(u), keys, deviceHash),
    applyMailboxBatch: (inserts, acks, quota) =>
      inner.applyMailboxBatch(
        inserts.map((e) => ({ ...e, recipient: n.seal(e.recipient), sender: n.seal(e.sender) })),
        acks.map((a) => ({ ...a, username: n.seal(a.username) })),
        quota
      ),
    pendingEnvelopes: async (u, afterId, limit, maxBytes) => (await inner.pendingEnvelopes(n.seal(u), afterId, limit, maxBytes)).map(openEnvelope),
    mailboxUsage: (u) => inner.mailboxUsage(n.seal(u)),
    hitRate: (key, window, now, weight) => inner.hitRate(n.rateKey(key), window, now, weight),
    sweep: (before, now) => inner.sweep(before, now),
    close: () => inner.close()
  };
}

/** Mailbox and sign-out hints come from the store's NOTIFYs, so they carry sealed names. */
export function sealNamesInBus(inner: InstanceBus, n: NameSeal, log?: (line: string) => void): InstanceBus {
  const opened = (names: string[]): string[] =>
    names.flatMap((s) => {
      try {
        return [n.open(s)];
      } catch {
        log?.('bus: a mailbox hint with a name this key did not seal was ignored');
        return [];
      }
    });
  return {
    origin: inner.origin,
    onMailboxes: (f) => inner.onMailboxes((names) => f(opened(names))),
    onResync: (f) => inner.onResync(f),
    onSignOut: (f) => inner.onSignOut((s) => opened([s]).forEach(f)),
    close: () => inner.close()
  };
}

export function sealNamesInPush(inner: PushStore, n: NameSeal): PushStore {
  return {
    getVapidKeys: () => inner.getVapidKeys(),
    putVapidKeysIfAbsent: (k) => inner.putVapidKeysIfAbsent(k),
    putSubscription: (u, endpoint, now, max) => inner.putSubscription(n.seal(u), endpoint, now, max),
    deleteSubscription: (u, endpoint) => inner.deleteSubscription(n.seal(u), endpoint),
    dropEndpoint: (endpoint) => inner.dropEndpoint(endpoint),
    subscriptions: (u) => inner.subscriptions(n.seal(u)),
    close: () => inner.close()
  };
}

export function sealNamesInSealedStore(inner: SealedStore, n: NameSeal): SealedStore {
  return {
    getAccess: (u) => inner.getAccess(n.seal(u)),
    putAccess: (u, access, now) => inner.putAccess(n.seal(u), access, now),
    getCertificateKey: () => inner.getCertificateKey(),
    putCertificateKey: (key, replaces) => inner.putCertificateKey(key, replaces),
    getDevelopmentRoot: () => inner.getDevelopmentRoot(),
    putDevelopmentRoot: (key) => inner.putDevelopmentRoot(key),
    close: () => inner.close()
  };
}

export function sealNamesInBlobs(inner: BlobStore, n: NameSeal): BlobStore {
  return {
    create: (id, owner, size, now, releases) => inner.create(id, n.seal(owner), size, now, releases),
    get: async (id) => {
      const b = await inner.get(id);
      return b && { ...b, owner: n.open(b.owner) };
    },
    pending: (owner) => inner.pending(n.seal(owner)),
    append: (id, offset, bytes) => inner.append(id, offset, bytes),
    read: (id, start, end) => inner.read(id, start, end),
    release: (id, hash) => inner.release(id, hash),
    // Sealed as create sealed it, so the owner check compares like with like.
    addReleases: (id, owner, releases) => inner.addReleases(id, n.seal(owner), releases),
    remove: (id, owner) => inner.remove(id, n.seal(owner)),
    sweep: (before, incompleteBefore) => inner.sweep(before, incompleteBefore),
    close: () => inner.close()
  };
}
