/**
 * P24: a full dump of one realm allows no offline PIN test.
 *
 * After a scripted session (register with the pinned Argon2id, one wrong guess, one right
 * recovery) every file in realm a's data directory is read as it lies on disk — realm.sqlite,
 * realm.sqlite-wal, realm.sqlite-shm — while the realm is still running. What a realm stores per
 * user (store.ts): an opaque user id (a hash of the username), the auth verifier (a hash of a key
 * from the random master secret), the counter and pending flag, and the realm record: its OPRF key
 * share, the unlock commitment and tag (MACs keyed by the OPRF output, which needs t realms), the
 * masked share of the secret-key scalar, the encrypted master secret and the share commitment.
 * The test shows that no PIN, no normalised PIN, no plain hash of the PIN, no Argon2 output (or
 * its hash), no username and no master secret appears in any file, and that a guess loop over the
 * dumped record cannot recognise the right PIN. Destroyed records are really gone from the files.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { sha256, sha512 } from '../../src/lib/crypto/primitives';
import { evaluate } from '../../src/lib/crypto/pin/oprf';
import * as K from '../../src/lib/crypto/pin/keys';
import { normalizePin } from '../../src/lib/crypto/pin/normalize';
import { decodeRealmRecord, type RealmRecord } from '../../src/lib/crypto/pin/record';
import { realmSetId, stretchPin } from '../../src/lib/crypto/pin/stretch';
import { constantTimeEqual } from '../../src/lib/crypto/pin/group';
import { REALM_DB_FILE } from '../../src/host/realm/store';
import { recoverWithPin, registerPin } from '../../workers/engine/recovery/recovery';
import { startRealms, type RunningRealm } from './realm-harness';
import { fastStretch, leapingClock, testTokens } from './support';

const USERNAME = 'alice';
const PIN = ' 47 91 ';
const utf8 = (s: string) => new TextEncoder().encode(s);

let realms: RunningRealm[];
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ realms, cleanup } = await startRealms(3, { clock: leapingClock() }));
});
afterEach(() => cleanup());

const endpoints = () => realms.map((r) => r.endpoint);
const tokens = () => testTokens(USERNAME, endpoints());

/** Every file of a data dir, as bytes. */
function dump(dataDir: string): Map<string, Buffer> {
  return new Map(readdirSync(dataDir).map((f) => [f, readFileSync(join(dataDir, f))]));
}

/** Names of the forbidden values found in any dumped file (any 8-byte window of each value). */
function leaks(files: Map<string, Buffer>, forbidden: Record<string, Uint8Array>): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(forbidden)) {
    const windows = value.length <= 8 ? [value] : Array.from({ length: value.length - 7 }, (_, o) => value.subarray(o, o + 8));
    for (const [file, bytes] of files) if (windows.some((w) => bytes.includes(Buffer.from(w)))) found.push(`${name} in ${file}`);
  }
  return found;
}

function recordsIn(dataDir: string): RealmRecord[] {
  const db = new Database(join(dataDir, REALM_DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT record FROM realm_users WHERE record IS NOT NULL').all() as { record: Buffer }[]).map((r) => decodeRealmRecord(new Uint8Array(r.record)));
  } finally {
    db.close();
  }
}

describe('P24 no offline brute force from one realm dump', () => {
  test('P24 every file of a realm holds no PIN, PIN hash, Argon2 output, username or master secret', async () => {
    const base = { username: USERNAME, realms: endpoints(), threshold: 2 };
    const secret = await registerPin({ ...base, pin: PIN, tokens: tokens() }, systemDeps, fetch);
    await recoverWithPin({ ...base, pin: '8642' }, systemDeps, fetch);
    expect('ok' in (await recoverWithPin({ ...base, pin: PIN }, systemDeps, fetch))).toBe(true);

    const files = dump(realms[0]!.dataDir);
    expect([...files.keys()].sort()).toEqual([REALM_DB_FILE, `${REALM_DB_FILE}-shm`, `${REALM_DB_FILE}-wal`]);
    expect(files.get(`${REALM_DB_FILE}-wal`)!.length).toBeGreaterThan(0);
    const setId = realmSetId(endpoints().map((e) => e.id), 2);
    const { accessKey, encryptionKeySeed } = stretchPin(PIN, USERNAME, setId);
    const normal = utf8(normalizePin(PIN));
    const forbidden: Record<string, Uint8Array> = {
      pin: utf8(PIN),
      normalisedPin: normal,
      sha256Pin: sha256(normal),
      sha512Pin: sha512(normal),
      argon2AccessKey: accessKey,
      argon2Seed: encryptionKeySeed,
      sha256AccessKey: sha256(accessKey),
      sha512AccessKey: sha512(accessKey),
      username: utf8(USERNAME),
      masterSecret: secret
    };
    expect(leaks(files, forbidden)).toEqual([]);
    // The search itself works: the stored record's own bytes are found in the dump.
    const [record] = recordsIn(realms[0]!.dataDir);
    expect(leaks(files, { oprfKeyShare: record!.oprfKeyShare })).not.toEqual([]);
  });

  test("P24 a guess loop over one realm's dumped record cannot recognise the right PIN", async () => {
    const base = { username: USERNAME, realms: endpoints(), threshold: 2 };
    await registerPin({ ...base, pin: PIN, tokens: tokens() }, systemDeps, fetch, { stretch: fastStretch });
    const setId = realmSetId(endpoints().map((e) => e.id), 2);
    const candidates = ['4791', '1379', '8642', '0000', '5555'];
    for (const r of realms) {
      const [rec] = recordsIn(r.dataDir);
      // Best offline use of one share: evaluate the guess with it and test the unlock commitment.
      const matches = candidates.filter((p) => {
        const out = evaluate(rec!.oprfKeyShare, fastStretch(p, USERNAME, setId).accessKey);
        return constantTimeEqual(K.unlockCommitment(K.unlockKey(out, rec!.version), rec!.version), rec!.unlockCommitment);
      });
      expect(matches).toEqual([]);
    }
  });

  test('P23 P24 a destroyed record leaves none of its bytes in the database, the WAL or the shm file', async () => {
    const base = { username: USERNAME, realms: endpoints(), threshold: 2 };
    await registerPin({ ...base, pin: PIN, tokens: tokens() }, systemDeps, fetch, { stretch: fastStretch });
    const [record] = recordsIn(realms[0]!.dataDir);
    const stored = {
      oprfKeyShare: record!.oprfKeyShare,
      unlockCommitment: record!.unlockCommitment,
      unlockTag: record!.unlockTag,
      encryptedSecretShare: record!.encryptedSecretShare,
      encryptedSecret: record!.encryptedSecret,
      commitment: record!.commitment
    };
    expect(leaks(dump(realms[0]!.dataDir), stored)).not.toEqual([]);
    for (let i = 0; i < 10; i++) await recoverWithPin({ ...base, pin: '8642' }, systemDeps, fetch, { stretch: fastStretch });
    expect(recordsIn(realms[0]!.dataDir)).toEqual([]);
    expect(leaks(dump(realms[0]!.dataDir), stored)).toEqual([]);
  });
});
