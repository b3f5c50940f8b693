/** A stored account for store-level tests: fixed keys, `oneTime` one-time and `kem` one-time KEM prekeys. */
import type { NewAccount } from '../../src/host/storage/types';

const key = (n: number, len = 32) => new Uint8Array(len).fill(n);

export function testAccount(username: string, o: { oneTime?: number; kem?: number } = {}): NewAccount {
  return {
    username,
    identity: key(9, 131),
    createdAt: 1,
    preKeys: {
      signedPreKey: { id: 1, publicKey: key(1), signature: key(2, 64) },
      oneTimePreKeys: Array.from({ length: o.oneTime ?? 1 }, (_, i) => ({ id: 5 + i, publicKey: key(5) })),
      kemPreKeys: [
        { id: 1, publicKey: key(7, 1184), lastResort: true, signature: key(3, 64) },
        ...Array.from({ length: o.kem ?? 0 }, (_, i) => ({ id: 100 + i, publicKey: key(8, 1184), lastResort: false, signature: key(3, 64) }))
      ]
    }
  };
}
