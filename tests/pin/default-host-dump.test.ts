/**
 * P38: a host dump of a single-operator deployment does not make the accepted secret guessable.
 *
 * The shipped default (`npm start`) runs ONE realm inside the host, on the app's own origin. Its
 * operator holds that realm's whole OPRF key, so the host's files ARE an offline test of a guess
 * (one Argon2id each): the positive control below finds the real secret that way. What keeps the
 * account safe is that the app never accepts a secret an offline search can reach:
 *  1. on this deployment every 4-6 digit PIN is refused (the real engine for a sample, and the
 *     acceptance rule for the whole space of 1 111 000 PINs, whose best estimate is that size);
 *  2. the secret the app accepted is not in that space and its estimate is >= 10^14 guesses;
 *  3. every file of the host (databases, WAL, shm, issuer key) is dumped; a search with the REAL
 *     Argon2id parameters over PINs from that space (the most common ones and the ones refused
 *     here) against what the dump holds finds nothing, and the dump holds no secret-derived
 *     plaintext to shortcut it. A search of the rest of the space cannot do better: a match means
 *     the candidate's commitment equals the record's, i.e. (except with probability 2^-256) it IS
 *     the secret, and the secret is not in the space (2). Searching all of it with the real
 *     parameters would take ~50 core-hours here and prove nothing more.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createHost, type RunningHost } from '../../src/host/server';
import { DEFAULT_REALM_CONFIG, pinnedRealmEndpoints, realmIndependence } from '../../src/lib/config/realms';
import { evaluate } from '../../src/lib/crypto/pin/oprf';
import * as K from '../../src/lib/crypto/pin/keys';
import { normalizePin } from '../../src/lib/crypto/pin/normalize';
import { decodeRealmRecord, type RealmRecord } from '../../src/lib/crypto/pin/record';
import { realmSetId, stretchPin } from '../../src/lib/crypto/pin/stretch';
import { MIN_PASSPHRASE_GUESSES_LOG10, checkRecoverySecret } from '../../src/lib/crypto/pin/secret-policy';
import { constantTimeEqual } from '../../src/lib/crypto/pin/group';
import { REALM_DB_FILE } from '../../src/host/realm/store';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { estimateGuessesLog10 } from '../../workers/engine/pin/strength';
import { filesUnder, scanDataDir } from '../support/scan-data-dir';

const PASSPHRASE = 'violet tractor umbrella quantum';
/** The most common 4-digit PINs (DataGenetics' analysis of leaked PINs) and 6-digit ones. */
const COMMON = ['1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969', '123456', '111111', '000000', '654321'];
const REFUSED_HERE = ['4829', '0713', '30571', '582913'];

let host: RunningHost | undefined;
let dataDir = '';
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await host?.close();
  host = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** The attacker's test of one guess against a realm record it holds in full (t = 1). */
function offlineTest(record: RealmRecord, username: string, setId: Uint8Array, guess: string): boolean {
  const { accessKey } = stretchPin(guess, username, setId);
  const unlockKey = K.unlockKey(evaluate(record.oprfKeyShare, accessKey), record.version);
  return constantTimeEqual(K.unlockCommitment(unlockKey, record.version), record.unlockCommitment);
}

describe('P38 the shipped default host', () => {
  test(
    'P38 a full dump of the default host does not make the accepted secret findable by an offline search of the PIN space',
    async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'parley-default-dump-'));
      host = await createHost({ port: 0, dataDir });
      // The engine exactly as the app opens it on this deployment: the pinned default realm list,
      // resolved against the host's origin, the REAL Argon2id (no test stretcher).
      const realms = pinnedRealmEndpoints(DEFAULT_REALM_CONFIG).map((r, i) => ({ ...r, url: new URL(r.url, host!.url).toString(), name: DEFAULT_REALM_CONFIG.realms[i]!.name }));
      const independent = realmIndependence(DEFAULT_REALM_CONFIG, host.url).independent;
      expect(independent).toBe(false);
      engine = await Engine.open({
        transport: new HostHttpTransport(host.url, WebSocket as unknown as WsCtor),
        dbName: `default-dump-${process.pid}`,
        locks: memoryLocks(),
        recovery: { realms, threshold: DEFAULT_REALM_CONFIG.threshold, independent, fetch: globalThis.fetch }
      });
      await engine.createAccount('alice');

      // 1. Every short PIN is refused here: a sample through the real engine ...
      for (const pin of REFUSED_HERE) await expect(engine.setupPin(pin)).rejects.toThrow(/could try every short PIN offline/);
      // ... and the whole 4-6 digit space by the rule, at the best estimate any such PIN can have.
      const spaceLog10 = Math.log10(1e4 + 1e5 + 1e6);
      let accepted = 0;
      for (const digits of [4, 5, 6]) {
        for (let n = 0; n < 10 ** digits; n++) {
          if (checkRecoverySecret(String(n).padStart(digits, '0'), { independent: false, guessesLog10: spaceLog10 }).ok) accepted++;
        }
      }
      expect(accepted).toBe(0);

      // 2. What was accepted: a passphrase outside that space, estimated beyond 10^14 guesses.
      expect(await engine.setupPin(PASSPHRASE)).toMatchObject({ enabled: true, kind: 'passphrase' });
      expect(normalizePin(PASSPHRASE)).not.toMatch(/^\d{4,6}$/);
      expect(await estimateGuessesLog10(PASSPHRASE, ['alice'])).toBeGreaterThanOrEqual(MIN_PASSPHRASE_GUESSES_LOG10);

      // 3. Dump every file of the host, then search from the copy alone.
      await engine.close();
      engine = undefined;
      await host.close();
      host = undefined;
      const dump = mkdtempSync(join(tmpdir(), 'parley-default-dump-copy-'));
      try {
        cpSync(dataDir, dump, { recursive: true });
        const files = filesUnder(dump).map((f) => f.slice(dump.length + 1)).sort();
        expect(files).toEqual(expect.arrayContaining(['account-records.sqlite', 'parley.sqlite', join('realm', REALM_DB_FILE), 'realm-issuer.pub']));
        const db = new Database(join(dump, 'realm', REALM_DB_FILE), { readonly: true });
        const rows = db.prepare('SELECT record FROM realm_users WHERE record IS NOT NULL').all() as { record: Buffer }[];
        db.close();
        expect(rows).toHaveLength(1);
        const record = decodeRealmRecord(new Uint8Array(rows[0]!.record));
        const setId = realmSetId(realms.map((r) => r.id), DEFAULT_REALM_CONFIG.threshold);

        // Positive control: the dump IS an offline test with the real parameters (why short PINs are refused).
        expect(offlineTest(record, 'alice', setId, PASSPHRASE)).toBe(true);
        // The search over the PIN space: the common PINs and those tried here, real Argon2id each.
        const found = [...COMMON, ...REFUSED_HERE].filter((pin) => offlineTest(record, 'alice', setId, pin));
        expect(found).toEqual([]);

        // No shortcut in the dump: the secret, its normal form and its Argon2 output appear nowhere.
        const { accessKey, encryptionKeySeed } = stretchPin(PASSPHRASE, 'alice', setId);
        const utf8 = (s: string) => new TextEncoder().encode(s);
        const hits = scanDataDir(dump, { passphrase: PASSPHRASE, normalised: utf8(normalizePin(PASSPHRASE)), accessKey, encryptionKeySeed });
        expect(hits).toEqual([]);
        // Positive control for the scan: the record's own share is found where it lies.
        expect(scanDataDir(dump, { share: record.oprfKeyShare }).length).toBeGreaterThan(0);
        expect(readFileSync(join(dump, 'realm-issuer.pub'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      } finally {
        rmSync(dump, { recursive: true, force: true });
      }
    },
    180_000
  );
});
