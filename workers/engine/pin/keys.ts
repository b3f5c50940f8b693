/**
 * What a browser keeps of the master secret (SECURITY.md P37): only keys derived from it, one per
 * job, never the secret itself.
 *
 *   recordKey          seals the account record (account-record.ts accountRecordKey)
 *   accessKey          lets the host hand the record out (record.ts recordAccessKey)
 *   realmAuthKeys[i]   authorise replacing or deleting realm i's registration (realm-auth.ts)
 *   takeoverPublicKey  registered with the record; its private half is NOT kept
 *
 * The takeover key (takeover-key.ts) is what a restored browser must prove to take the account
 * over; it derives only from the master secret, which needs the PIN and t realms. So a browser
 * that was restored away from, or a stolen laptop, holds every key above and the identity key and
 * still cannot take the account back. Changing the PIN therefore asks for the current one (the
 * secret is recovered, used and wiped). Pure derivations; no storage, no network.
 */
import { accountRecordKey } from '../../../src/lib/crypto/account-record';
import { realmAuthKey } from '../../../src/lib/crypto/pin/realm-auth';
import { takeoverKeyPair } from '../../../src/lib/crypto/pin/takeover-key';
import { wipe } from '../../../src/lib/crypto/primitives';
import type { RealmEndpoint } from '../recovery/realm-client';
import { recordAccessKey } from './record';

export interface RecoveryKeys {
  recordKey: Uint8Array;
  accessKey: Uint8Array;
  realmAuthKeys: Uint8Array[];
  takeoverPublicKey: Uint8Array;
}

export function deriveRecoveryKeys(masterSecret: Uint8Array, username: string, realms: readonly RealmEndpoint[]): RecoveryKeys {
  const takeover = takeoverKeyPair(masterSecret, username);
  wipe(takeover.privateKey);
  return {
    recordKey: accountRecordKey(masterSecret),
    accessKey: recordAccessKey(masterSecret),
    realmAuthKeys: realms.map((r) => realmAuthKey(masterSecret, r.id, username)),
    takeoverPublicKey: takeover.publicKey
  };
}
