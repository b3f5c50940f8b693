/**
 * The opened-prekey cache (workers/storage/prekey-repo.ts `preKeyLookup`; SECURITY.md P15, P33,
 * P46): the signed prekey and last-resort KEM keys a handshake needs are kept opened in memory,
 * but only for the exact sealed value stored: a replaced record is opened again, a one-time
 * prekey is never kept, and what a lookup hands out is a copy the handshake may wipe. Prekeys are
 * sealed with the data key; one sealed under the wrapping key by an older build still opens.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { decodeOneTimePreKey, encodeOneTimePreKey, generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, type OneTimePreKey } from '../../src/lib/crypto/prekeys';
import { initSodium } from '../../src/lib/crypto/sodium';
import { preKeyKey, putPreKeys, preKeyLookup, sealPreKeys } from '../../workers/storage/prekey-repo';
import { openBytes } from '../../workers/storage/record-seal';
import { seal } from '../../workers/storage/seal';
import { commit, loadVault } from '../../workers/storage/vault';

await initSodium();

describe('opened prekeys', () => {
  test('P33 P15 a lookup serves the stored value: a replaced record is opened again, and a wiped copy does not reach the next handshake', async () => {
    const vault = await loadVault(`prekey-cache-${process.pid}-${Date.now()}`);
    const id = generateIdentity(systemDeps);
    const header = { signedPreKeyId: 2, kemPreKeyId: 3, oneTimePreKeyId: 1, baseKey: new Uint8Array(32), kemCiphertext: new Uint8Array(0) };
    const store = async () => {
      const signed = generateSignedPreKey(id, 2, systemDeps);
      const [oneTime] = generateOneTimePreKeys(1, 1, systemDeps) as [OneTimePreKey];
      const kem = generateKemPreKey(id, 3, true, systemDeps);
      const records = sealPreKeys(vault, { signed, oneTime: [oneTime], kem: [kem] }, 0);
      await commit(vault, (tx) => putPreKeys(tx, records));
      return { signed, oneTime, kem };
    };
    const first = await store();
    const a = await preKeyLookup(vault, header);
    expect(a.signedPreKey(2)!.keyPair.privateKey).toEqual(first.signed.keyPair.privateKey);
    expect(a.kemPreKey(3)!.keyPair.privateKey).toEqual(first.kem.keyPair.privateKey);
    // The handshake wipes what it was handed; the next lookup still has the key.
    a.signedPreKey(2)!.keyPair.privateKey.fill(0);
    a.kemPreKey(3)!.keyPair.privateKey.fill(0);
    const b = await preKeyLookup(vault, header);
    expect(b.signedPreKey(2)!.keyPair.privateKey).toEqual(first.signed.keyPair.privateKey);
    expect(b.kemPreKey(3)!.keyPair.privateKey).toEqual(first.kem.keyPair.privateKey);
    b.signedPreKey(2)!.keyPair.privateKey.fill(0);
    const again = await preKeyLookup(vault, header);
    expect(again.signedPreKey(2)!.keyPair.privateKey).toEqual(first.signed.keyPair.privateKey);

    // The same ids now hold other keys (a restore, a rotation reusing ids): never the old ones.
    const second = await store();
    expect(second.signed.keyPair.privateKey).not.toEqual(first.signed.keyPair.privateKey);
    const c = await preKeyLookup(vault, header);
    expect(c.signedPreKey(2)!.keyPair.privateKey).toEqual(second.signed.keyPair.privateKey);
    expect(c.kemPreKey(3)!.keyPair.privateKey).toEqual(second.kem.keyPair.privateKey);
    expect(c.oneTimePreKey(1)!.keyPair.privateKey).toEqual(second.oneTime.keyPair.privateKey);
    vault.db.close();
  });

  test('P32 P15 new prekeys are sealed with the data key, bound to their record; one sealed under the wrapping key before still opens', async () => {
    const vault = await loadVault(`prekey-seal-${process.pid}-${Date.now()}`);
    const [fresh, legacy] = generateOneTimePreKeys(7, 2, systemDeps) as [OneTimePreKey, OneTimePreKey];
    const [rec] = sealPreKeys(vault, { oneTime: [fresh], kem: [] }, 0);
    // XChaCha20-Poly1305 under the data key (24-byte nonce), not the wrapping key's AES-GCM.
    expect(rec!.sealed.iv.length).toBe(24);
    expect(decodeOneTimePreKey(openBytes(vault.db, 'prekeys', rec!.key, rec!.sealed)).keyPair.privateKey).toEqual(fresh.keyPair.privateKey);
    // Bound to its record: moved to another prekey's row, it does not open.
    expect(() => openBytes(vault.db, 'prekeys', preKeyKey('oneTime', 8), rec!.sealed)).toThrow(/does not open/);
    // A record written before prekeys moved to the data key: AES-GCM under the wrapping key.
    const old = { key: preKeyKey('oneTime', 8), kind: 'oneTime' as const, id: 8, lastResort: false, createdAt: 0, sealed: await seal(vault.key, encodeOneTimePreKey(legacy)) };
    await commit(vault, (tx) => putPreKeys(tx, [rec!, old]));
    const header = (n: number) => ({ signedPreKeyId: 99, kemPreKeyId: 98, oneTimePreKeyId: n, baseKey: new Uint8Array(32), kemCiphertext: new Uint8Array(0) });
    expect((await preKeyLookup(vault, header(7))).oneTimePreKey(7)!.keyPair.privateKey).toEqual(fresh.keyPair.privateKey);
    expect((await preKeyLookup(vault, header(8))).oneTimePreKey(8)!.keyPair.privateKey).toEqual(legacy.keyPair.privateKey);
    vault.db.close();
  });
});
