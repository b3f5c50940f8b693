/**
 * SECURITY.md P46 app lock (workers/engine/app-lock.ts, workers/storage/app-lock-repo.ts,
 * src/lib/crypto/app-lock.ts): with the lock on, the database and every CryptoKey the browser
 * stores with it do not open the vault; a wrong or tampered secret opens nothing and loses
 * nothing; a locked engine refuses every vault method but the lock's own with Locked and holds no
 * key; the right passphrase brings everything back; turning the lock off re-wraps with a browser
 * key; sign out and remove leave this browser without the account.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, test } from 'vitest';
import { WHILE_LOCKED, VAULT_METHODS, type VaultMethod } from '../../src/lib/vault/contract';
import { serveVault } from '../../src/lib/vault/remote';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { VaultService } from '../../workers/engine/vault-api';
import { APP_LOCK_KEY, type AppLockRow } from '../../workers/storage/app-lock-repo';
import { bindDataKey, openBytes, SEALED_ROW_KEYS, sealBytes, UNSEALED_STORES } from '../../workers/storage/record-seal';
import { ALL_STORES, Meta, type Sealed, type VaultDb } from '../../workers/storage/schema';
import { unseal } from '../../workers/storage/seal';
import { dumpAll } from './storage-dump';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';
import { profileKey } from '../../workers/engine/profile-key';
import { SEALED_ACCESS_META_KEY, sealedFromAnyone, setSealedFromAnyone } from '../../workers/engine/sealed-access';

/** Cheap Argon2id for tests (the production cost is pinned in crypto/app-lock.ts). */
const kdf = { opslimit: 1, memlimitBytes: 8192 };
const PASS = 'velvet tundra quiz marmalade osprey 93';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function pair(lockAlice = true) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice', { appLockKdf: kdf });
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'before the lock 4711');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'a reply 0815');
  await settle(alice, bob);
  if (lockAlice) await alice.engine.locks.enableLock(PASS, 5);
  return { host, alice, bob };
}

async function reopen(host: MemoryHost, u: User, extra = {}): Promise<User> {
  await u.engine.close();
  open = open.filter((x) => x !== u);
  const again = await openUser(host, u.name, { appLockKdf: kdf, ...extra }, u.dbName);
  open.push(again);
  return again;
}

async function rawMeta(dbName: string, key: string): Promise<unknown> {
  const db = await openDB(dbName);
  const v = await db.get('meta', key);
  db.close();
  return v;
}

async function putRawMeta(dbName: string, key: string, value: unknown): Promise<void> {
  const db = await openDB(dbName);
  await db.put('meta', value, key);
  db.close();
}

async function snapshot(dbName: string) {
  return (await dumpAll()).filter((r) => r.db === dbName).map((r) => ({ store: r.store, key: r.key, value: r.value }));
}

async function opens(key: CryptoKey, sealed: Sealed): Promise<boolean> {
  return unseal(key, sealed).then(
    () => true,
    () => false
  );
}

/** Every object reachable from `root` through own properties, Maps, Sets and arrays. */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Uint8Array || v instanceof CryptoKey || v instanceof ArrayBuffer) continue;
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    if (typeof v === 'object') for (const k of Reflect.ownKeys(v)) stack.push((v as Record<PropertyKey, unknown>)[k]);
  }
  return [...seen];
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('P46 app lock', () => {
  test('P46 app lock: with the lock on, the stored database and the CryptoKey a profile copy held do not open the vault', async () => {
    const { alice } = await pair(false);
    // What a copy of the browser profile taken now would hold: the browser-stored wrapping key.
    const browserKey = (await rawMeta(alice.dbName, Meta.wrapKey)) as CryptoKey;
    expect(browserKey).toBeInstanceOf(CryptoKey);
    expect(await opens(browserKey, (await rawMeta(alice.dbName, Meta.dataKey)) as Sealed)).toBe(true);

    await alice.engine.locks.enableLock(PASS, 5);
    const dump = await snapshot(alice.dbName);
    // No key of any kind is stored any more: the wrapping key row is gone and nothing is a CryptoKey.
    expect(dump.filter((r) => r.value instanceof CryptoKey)).toEqual([]);
    expect(dump.some((r) => r.store === 'meta' && r.key === Meta.wrapKey)).toBe(false);
    // Every record sealed under a wrapping key was re-sealed: the old browser key opens none of them.
    const wrapSealed = dump.flatMap((r) => {
      const v = r.value as { iv?: Uint8Array; sealed?: Sealed };
      if (v?.iv instanceof Uint8Array && v.iv.length === 12) return [v as Sealed];
      if (v?.sealed?.iv instanceof Uint8Array && v.sealed.iv.length === 12) return [v.sealed];
      return [];
    });
    expect(wrapSealed.length).toBeGreaterThanOrEqual(2); // identity, data key (prekeys are under the data key, rotated below)
    for (const s of wrapSealed) expect(await opens(browserKey, s)).toBe(false);
    // The app itself still works in this tab after turning the lock on.
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815']);
  });

  test('P46 app lock: reopened, the vault is locked; a wrong passphrase says so and changes nothing; the right one brings the chats back and messaging works', async () => {
    const { host, alice: a0, bob } = await pair();
    const alice = await reopen(host, a0);
    const api = serveVault(new VaultService(async () => alice.engine));
    expect(await api.lockStatus()).toMatchObject({ ok: true, value: { enabled: true, locked: true, idleMinutes: 5, username: 'alice' } });
    expect(await api.account()).toMatchObject({ ok: false, error: { code: 'Locked' } });

    const before = await snapshot(alice.dbName);
    expect(await api.unlock('velvet tundra quiz marmalade osprey 94')).toMatchObject({ ok: false, error: { code: 'WrongPassphrase' } });
    expect(await snapshot(alice.dbName)).toEqual(before);
    expect(alice.engine.ctx.vault.locked).toBe(true);

    expect(await api.unlock(PASS)).toEqual({ ok: true, value: undefined });
    expect(await api.account()).toEqual({ ok: true, value: { username: 'alice' } });
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815']);
    await alice.engine.connect();
    await alice.engine.sendText('bob', 'after unlocking');
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toContain('after unlocking');
    await bob.engine.sendText('alice', 'still reaches you');
    await settle(alice, bob);
    expect(await texts(alice, 'bob')).toContain('still reaches you');
  });

  test('P46 app lock: a tampered wrapped key or lowered Argon2id cost does not open, and the intact record still does', async () => {
    const { host, alice: a0 } = await pair();
    await a0.engine.close();
    open = open.filter((x) => x !== a0);
    const row = (await rawMeta(a0.dbName, APP_LOCK_KEY)) as AppLockRow;
    const flipped = row.passphrase.ct.slice();
    flipped[3]! ^= 0x40;
    await putRawMeta(a0.dbName, APP_LOCK_KEY, { ...row, passphrase: { ...row.passphrase, ct: flipped } });
    let alice = await openUser(host, 'alice', { appLockKdf: kdf }, a0.dbName);
    open.push(alice);
    await expect(alice.engine.locks.unlock(PASS)).rejects.toMatchObject({ code: 'WrongPassphrase' });
    expect(alice.engine.ctx.vault.locked).toBe(true);

    // A cheaper cost written into the record is refused before any work (the build's floor).
    await putRawMeta(a0.dbName, APP_LOCK_KEY, { ...row, passphrase: { ...row.passphrase, opslimit: 1 } });
    alice = await reopen(host, alice, { appLockKdf: { opslimit: 2, memlimitBytes: 8192 } });
    await expect(alice.engine.locks.unlock(PASS)).rejects.toMatchObject({ code: 'InvalidArgument' });

    await putRawMeta(a0.dbName, APP_LOCK_KEY, row);
    alice = await reopen(host, alice);
    await alice.engine.locks.unlock(PASS);
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815']);
  });

  test('P46 app lock: a locked engine refuses every other vault method with Locked and holds no key', async () => {
    const { host, alice } = await pair();
    expect(host.sinks.has('alice')).toBe(true);
    const api = serveVault(new VaultService(async () => alice.engine));
    const vault = alice.engine.ctx.vault;
    const identity = alice.engine.ctx.me!.identity;
    const secrets = [identity.signing.privateKey.slice(), identity.dh.privateKey.slice(), await unseal(vault.key, (await rawMeta(alice.dbName, Meta.dataKey)) as Sealed)];
    const holdsSecret = (root: unknown) =>
      reachable(root).some((v) => v instanceof Uint8Array && secrets.some((s) => s.length >= 32 && v.length >= 32 && sameBytes(v.subarray(0, s.length), s)));
    // The check can fail: unlocked, the identity's private keys are reachable from the engine.
    expect(holdsSecret(alice.engine)).toBe(true);

    expect(await api.lockNow()).toEqual({ ok: true, value: undefined });
    expect(vault.locked).toBe(true);
    expect(alice.engine.ctx.me).toBeUndefined();
    expect(holdsSecret(alice.engine)).toBe(false);
    // The data key is unbound and zeroed; the only CryptoKey reachable opens nothing stored.
    expect(() => sealBytes(vault.db, 'messages', 'x', new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'StorageLost' }));
    expect(sameBytes(secrets[2]!, new Uint8Array(32))).toBe(false);
    const keys = reachable(alice.engine).filter((v): v is CryptoKey => v instanceof CryptoKey);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(await opens(k, (await rawMeta(alice.dbName, Meta.dataKey)) as Sealed)).toBe(false);
    // The socket to the host is closed: nothing arrives for a vault that could not open it.
    expect(host.sinks.has('alice')).toBe(false);
    expect(alice.engine.ctx.driver).toBe(false);

    const refused: VaultMethod[] = [];
    for (const m of VAULT_METHODS) {
      if (WHILE_LOCKED.includes(m)) continue;
      const call = api[m] as (...a: unknown[]) => Promise<{ ok: boolean; error?: { code: string } }>;
      const r = await call('bob', 'x', 1);
      if (!r.ok && r.error?.code === 'Locked') refused.push(m);
    }
    expect(refused).toEqual(VAULT_METHODS.filter((m) => !WHILE_LOCKED.includes(m)));
    expect(refused).toContain('listMessages');
  });

  test('P46 app lock: a weak passphrase is refused; turning the lock off needs the passphrase and re-wraps with a browser key', async () => {
    const { host, alice: a0 } = await pair(false);
    await expect(a0.engine.locks.enableLock('password1', 5)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await rawMeta(a0.dbName, APP_LOCK_KEY)).toBeUndefined();
    await a0.engine.locks.enableLock(PASS, 0);
    await expect(a0.engine.locks.disableLock('not it at all, sorry')).rejects.toMatchObject({ code: 'WrongPassphrase' });
    expect(await rawMeta(a0.dbName, APP_LOCK_KEY)).toBeDefined();
    await a0.engine.locks.disableLock(PASS);
    expect(await rawMeta(a0.dbName, APP_LOCK_KEY)).toBeUndefined();
    expect(await rawMeta(a0.dbName, Meta.wrapKey)).toBeInstanceOf(CryptoKey);
    const alice = await reopen(host, a0);
    expect(alice.engine.ctx.vault.locked).toBeUndefined();
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815']);
  });

  test('P46 app lock: turning the lock on rotates the data key: the one a pre-lock profile copy held opens no row', async () => {
    const { alice } = await pair(false);
    const browserKey = (await rawMeta(alice.dbName, Meta.wrapKey)) as CryptoKey;
    const oldDataKey = await unseal(browserKey, (await rawMeta(alice.dbName, Meta.dataKey)) as Sealed);
    const attacker = (await openDB(alice.dbName)) as unknown as VaultDb;
    bindDataKey(attacker, oldDataKey);
    const openable = async () => {
      const stores = new Set<string>();
      for (const store of ALL_STORES) {
        const field = SEALED_ROW_KEYS[store];
        if (!field) continue;
        for (const row of (await attacker.getAll(store as never)) as Record<string, unknown>[]) {
          const sealed = row.sealed as Sealed | undefined;
          if (!sealed) continue;
          try {
            openBytes(attacker, store, String(row[field]), sealed);
            stores.add(store);
          } catch {
            // does not open with the old data key
          }
        }
      }
      return [...stores].sort();
    };
    // The check can fail: before the lock, the old data key opens messages, chats, contacts,
    // sessions and the private prekeys.
    expect(await openable()).toEqual(expect.arrayContaining(['chats', 'contacts', 'messages', 'prekeys', 'sessions']));
    await alice.engine.locks.enableLock(PASS, 5);
    await alice.engine.sendText('bob', 'written after the lock');
    expect(await openable()).toEqual([]);
    attacker.close();
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815', 'written after the lock']);
  });

  test('P46 P41 P42 P43 app lock: the data key rotation re-seals the meta values sealed with the data key (profile key, privacy settings, sealed access), which still read after unlocking', async () => {
    const { host, alice: a0 } = await pair(false);
    const rows = ['profileKey', 'privacySettings', SEALED_ACCESS_META_KEY];
    await a0.engine.setPrivacySettings({ callsOnlyFromContacts: true });
    await setSealedFromAnyone(a0.engine.ctx, true);
    const key = await profileKey(a0.engine.ctx);
    const browserKey = (await rawMeta(a0.dbName, Meta.wrapKey)) as CryptoKey;
    const oldDataKey = await unseal(browserKey, (await rawMeta(a0.dbName, Meta.dataKey)) as Sealed);
    const attacker = (await openDB(a0.dbName)) as unknown as VaultDb;
    bindDataKey(attacker, oldDataKey);
    const openable = async () => {
      const out: string[] = [];
      for (const k of rows) {
        try {
          openBytes(attacker, 'meta', k, (await attacker.get('meta', k)) as Sealed);
          out.push(k);
        } catch {
          // not there, or does not open with the old data key
        }
      }
      return out;
    };
    // The check can fail: before the lock, the old data key opens all three rows.
    expect(await openable()).toEqual(rows);
    await a0.engine.locks.enableLock(PASS, 5);
    expect(await openable()).toEqual([]);
    attacker.close();
    const alice = await reopen(host, a0);
    const api = serveVault(new VaultService(async () => alice.engine));
    expect(await api.unlock(PASS)).toEqual({ ok: true, value: undefined });
    expect(await alice.engine.privacySettings()).toEqual({ callsOnlyFromContacts: true, typingIndicators: true, readReceipts: true, sealedFromAnyone: true, relayCalls: false, notifications: 'off' });
    expect(await sealedFromAnyone(alice.engine.ctx)).toBe(true);
    expect(sameBytes(await profileKey(alice.engine.ctx), key)).toBe(true);
  });

  test('P46 app lock: every store is known to the data key rotation (a new sealed store must be listed)', () => {
    const unknown = ALL_STORES.filter((s) => !UNSEALED_STORES.includes(s) && !(s in SEALED_ROW_KEYS));
    expect(unknown).toEqual([]);
  });

  test('P46 app lock: Lock now in one tab locks the other tab of the account', async () => {
    const host = new MemoryHost();
    const locks = memoryLocks();
    const tab1 = await newUser(host, 'carol', { appLockKdf: kdf, locks });
    const tab2 = await openUser(host, 'carol', { appLockKdf: kdf, locks }, tab1.dbName);
    open.push(tab1, tab2);
    await tab1.engine.locks.enableLock(PASS, 5);
    await new Promise((r) => setTimeout(r, 50));
    // tab2's key was the browser key the lock replaced: it locked itself on the news.
    expect(tab2.engine.ctx.vault.locked).toBe(true);
    await tab2.engine.locks.unlock(PASS);
    expect(tab2.engine.ctx.vault.locked).toBeUndefined();
    await tab1.engine.locks.lockNow();
    await new Promise((r) => setTimeout(r, 50));
    expect(tab1.engine.ctx.vault.locked).toBe(true);
    expect(tab2.engine.ctx.vault.locked).toBe(true);

    // Turned off in one tab: the other, unlocked with the old lock key, reopens with the new browser key.
    await tab1.engine.locks.unlock(PASS);
    await tab2.engine.locks.unlock(PASS);
    await tab1.engine.locks.disableLock(PASS);
    await new Promise((r) => setTimeout(r, 100));
    expect(tab2.engine.ctx.vault.locked).toBeUndefined();
    expect(await tab2.engine.listChats()).toEqual([]);
    expect(await tab2.engine.account()).toEqual({ username: 'carol' });
  });

  test('P46 app lock: a passkey PRF output wraps the lock key; another output does not open it', async () => {
    const { host, alice: a0 } = await pair();
    const prfOutput = new Uint8Array(32).fill(9);
    const credentialId = new Uint8Array([1, 2, 3, 4]);
    await a0.engine.locks.addLockPasskey(PASS, { credentialId, prfSalt: new Uint8Array(32).fill(5), prfOutput });
    const alice = await reopen(host, a0);
    expect((await alice.engine.locks.lockStatus()).passkeys).toHaveLength(1);
    await expect(alice.engine.locks.unlockWithPasskey(credentialId, new Uint8Array(32).fill(8))).rejects.toMatchObject({ code: 'WrongPassphrase' });
    await expect(alice.engine.locks.unlockWithPasskey(new Uint8Array([9]), prfOutput)).rejects.toMatchObject({ code: 'WrongPassphrase' });
    await alice.engine.locks.unlockWithPasskey(credentialId, prfOutput);
    expect(await texts(alice, 'bob')).toEqual(['before the lock 4711', 'a reply 0815']);
  });

  test('P46 app lock: sign out erases every local record and key; remove deletes the database, also while locked', async () => {
    const { host, alice: a0 } = await pair(false);
    await a0.engine.locks.signOut();
    expect(await a0.engine.account()).toBeNull();
    const left = (await snapshot(a0.dbName)).filter((r) => !(r.store === 'meta' && (r.key === Meta.wrapKey || r.key === Meta.dataKey)));
    expect(left).toEqual([]);

    const { alice: b0 } = await pair();
    const alice = await reopen(host, b0);
    expect(alice.engine.ctx.vault.locked).toBe(true);
    await alice.engine.locks.removeAccount();
    expect((await indexedDB.databases()).map((d) => d.name)).not.toContain(alice.dbName);
    const api = serveVault(new VaultService(async () => alice.engine));
    expect(await api.listChats()).toMatchObject({ ok: false, error: { code: 'NoAccount' } });
  });
});
