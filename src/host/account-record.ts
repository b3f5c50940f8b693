/**
 * The account-record endpoint (DESIGN.md §7, SECURITY.md P26; routes in
 * src/lib/wire/account-record-api.ts): the host keeps each user's SEALED, bucket-padded record
 * and the SHA-256 of an access key derived from the master secret, never the key itself, so a
 * database dump neither opens a record nor lets anyone fetch one elsewhere.
 *
 * - PUT needs the account holder's bearer token (challenge auth), the access key and the takeover
 *   public key: the first PUT sets the key hash and the takeover key, later ones must match both
 *   (a signed-in browser cannot swap in a takeover key of its own). DELETE needs bearer + key.
 * - GET needs only the access key: a new browser has no identity until it opens the record.
 *   Wrong keys answer 404 like a missing record, and GETs are rate-limited per IP.
 * - Takeover (P37): a restored browser signs a fresh challenge with the identity key AND with the
 *   takeover key derived from the master secret (takeover-key.ts); the identity key alone, which
 *   an old or stolen browser still holds, is not enough. Then ONE storage transaction replaces
 *   every prekey and token of the old browser and sets the device gate (HostStorage.replaceDevice);
 *   its sockets are closed with SIGNED_OUT_CLOSE_CODE. The identity (and so every safety number)
 *   is unchanged.
 * - Realm tokens (P38): the signed-in holder gets, per pinned realm, a short-lived token signed by
 *   this host's issuer key; a realm accepts a first registration only with one, so nobody can
 *   squat another user's slot. The issuer key is made once and kept in this file's database; its
 *   public half is written to DATA_DIR/realm-issuer.pub for the operators of standalone realms.
 *
 * Records live in their own SQLite file next to the host's (own table, own migrations), so this
 * module adds nothing to the mailbox's hot path. Knows nothing of PINs or record contents.
 */
import Database from 'better-sqlite3';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { systemDeps } from '../lib/crypto/deps';
import { ed25519KeyPair } from '../lib/crypto/primitives';
import { realmUserId } from '../lib/crypto/pin/realm-auth';
import { REALM_TOKEN_TTL_S, issueRealmToken } from '../lib/crypto/pin/realm-token';
import { TAKEOVER_PUBLIC_KEY_LEN, verifyTakeover } from '../lib/crypto/pin/takeover-key';
import { readIdentityPublic } from '../lib/crypto/identity';
import { verifyKemPreKey, verifySignedPreKey } from '../lib/crypto/prekeys';
import {
  ACCOUNT_RECORD_PATH,
  MAX_SEALED_RECORD_BYTES,
  RECORD_ACCESS_KEY_LEN,
  RECORD_KEY_HEADER,
  SIGNED_OUT_CLOSE_CODE,
  TAKEOVER_KEY_HEADER,
  decodeRealmTokenRequest,
  decodeTakeoverRequest,
  encodeRealmTokenResponse,
  isSealedRecordLength
} from '../lib/wire/account-record-api';
import { fromBase64Url, toBase64Url } from '../lib/codec/base64url';
import { ByteReader } from '../lib/codec/bytes';
import { HostLimits, encodeTokenResponse, type LoginRequest } from '../lib/wire/host-api';
import { isUsername } from '../lib/codec/username';
import type { Auth } from './auth';
import { HostError, bearer, clientIp, readBody, readJson, sendJson } from './http-util';
import { createLimiter, type Limiter } from './rate-limit';
import type { HostStorage } from './storage/types';

export const RECORDS_FILE = 'account-records.sqlite';
/** The issuer's public key, base64url, for `npm run realm -- --issuer`. */
export const ISSUER_PUBLIC_FILE = 'realm-issuer.pub';

export interface AccountRecordDeps {
  dataDir: string;
  auth: Auth;
  storage: HostStorage;
  clock: () => number;
  /** Closes the user's live sockets (ws.ts closeUser). */
  closeUser(username: string, code: number, reason: string): void;
  /** Per-IP limiter for GET and takeover (defaults to 30 a minute). */
  perIp?: Limiter;
}

export interface AccountRecords {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Login gate: after a takeover only the browser holding the device secret may log in. */
  checkDevice(username: string, device: Uint8Array | undefined): void;
  /** The key realms must trust for registration tokens (give it to `createRealm({ issuers })`). */
  issuerPublicKey: Uint8Array;
  /**
   * The directory's login with the device gate AFTER the signature check, so only the key
   * holder learns that it was signed out.
   */
  login(r: LoginRequest): { token: Uint8Array; expiresAt: number };
  close(): void;
}

const MIGRATIONS = [
  `CREATE TABLE account_records (
     username TEXT PRIMARY KEY,
     key_hash BLOB NOT NULL,
     record BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE devices (
     username TEXT PRIMARY KEY,
     device_hash BLOB NOT NULL
   );`,
  // v2 (P37, P38): the takeover public key fixed with the record, and the realm-token issuer key.
  // The device gate moved into the host storage (beside the prekeys); old rows here are still read.
  `ALTER TABLE account_records ADD COLUMN takeover_key BLOB;
   CREATE TABLE issuer (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     private_key BLOB NOT NULL,
     public_key BLOB NOT NULL
   );`
];

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

function takeoverKey(req: IncomingMessage): Uint8Array {
  const h = req.headers[TAKEOVER_KEY_HEADER];
  let key: Uint8Array | undefined;
  try {
    key = typeof h === 'string' ? fromBase64Url(h, TAKEOVER_PUBLIC_KEY_LEN) : undefined;
  } catch {
    key = undefined;
  }
  if (!key || key.length !== TAKEOVER_PUBLIC_KEY_LEN) throw new HostError(400, 'BadRequest', `missing or malformed ${TAKEOVER_KEY_HEADER} header`);
  return key;
}

function accessKeyHash(req: IncomingMessage): Buffer {
  const h = req.headers[RECORD_KEY_HEADER];
  let key: Uint8Array | undefined;
  try {
    key = typeof h === 'string' ? fromBase64Url(h, RECORD_ACCESS_KEY_LEN) : undefined;
  } catch {
    key = undefined;
  }
  if (!key || key.length !== RECORD_ACCESS_KEY_LEN) throw new HostError(401, 'Unauthorized', `missing or malformed ${RECORD_KEY_HEADER} header`);
  return sha256(key);
}

export function createAccountRecords(d: AccountRecordDeps): AccountRecords {
  mkdirSync(d.dataDir, { recursive: true });
  const db = new Database(join(d.dataDir, RECORDS_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) throw new Error(`account-record schema ${version} is newer than this host`);
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  const q = {
    get: db.prepare('SELECT key_hash, record, takeover_key FROM account_records WHERE username = ?'),
    insert: db.prepare('INSERT INTO account_records (username, key_hash, record, updated_at, takeover_key) VALUES (?, ?, ?, ?, ?)'),
    update: db.prepare('UPDATE account_records SET record = ?, updated_at = ?, takeover_key = ? WHERE username = ?'),
    remove: db.prepare('DELETE FROM account_records WHERE username = ?'),
    legacyDevice: db.prepare('SELECT device_hash FROM devices WHERE username = ?').pluck(),
    issuer: db.prepare('SELECT private_key, public_key FROM issuer WHERE id = 1'),
    setIssuer: db.prepare('INSERT INTO issuer (id, private_key, public_key) VALUES (1, ?, ?)')
  };
  const perIp = d.perIp ?? createLimiter({ max: 30, windowMs: 60_000 }, d.clock);
  type Row = { key_hash: Buffer; record: Buffer; takeover_key: Buffer | null };
  const matches = (row: Row, hash: Buffer): boolean => row.key_hash.length === hash.length && timingSafeEqual(row.key_hash, hash);
  const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

  const issuer = db.transaction(() => {
    const row = q.issuer.get() as { private_key: Buffer; public_key: Buffer } | undefined;
    if (row) return { privateKey: new Uint8Array(row.private_key), publicKey: new Uint8Array(row.public_key) };
    const kp = ed25519KeyPair(systemDeps);
    q.setIssuer.run(kp.privateKey, kp.publicKey);
    return kp;
  }).immediate();
  writeFileSync(join(d.dataDir, ISSUER_PUBLIC_FILE), toBase64Url(issuer.publicKey) + '\n');

  function limitIp(req: IncomingMessage): void {
    const wait = perIp.hit(clientIp(req));
    if (wait) throw new HostError(429, 'RateLimited', 'too many requests from this address', wait);
  }

  function owner(req: IncomingMessage, username: string): void {
    if (d.auth.requireUser(bearer(req)) !== username) throw new HostError(403, 'Unauthorized', 'only the account holder may change its record');
  }

  const put = db.transaction((username: string, hash: Buffer, record: Uint8Array, takeover: Uint8Array): boolean => {
    const row = q.get.get(username) as Row | undefined;
    if (!row) {
      q.insert.run(username, hash, record, d.clock(), takeover);
      return true;
    }
    if (!matches(row, hash)) return false;
    // Fixed at creation; a record from before P37 (no key yet) gets it from its holder's next upload.
    if (row.takeover_key && !sameKey(row.takeover_key, takeover)) return false;
    q.update.run(record, d.clock(), takeover, username);
    return true;
  });

  function signingKeyOf(username: string): Uint8Array {
    const enc = d.storage.identity(username);
    if (!enc) throw new HostError(404, 'NoSuchUser', 'no such user');
    return readIdentityPublic(new ByteReader(enc, 'stored identity')).signingKey;
  }

  function checkDevice(username: string, device: Uint8Array | undefined): void {
    const want = d.storage.deviceHash(username) ?? (q.legacyDevice.get(username) as Buffer | undefined);
    if (!want) return;
    const have = device ? sha256(device) : undefined;
    if (!have || !timingSafeEqual(have, want)) throw new HostError(403, 'SignedOut', 'this account is now used on another browser');
  }

  async function takeover(req: IncomingMessage, res: ServerResponse, username: string): Promise<void> {
    limitIp(req);
    let r;
    try {
      r = decodeTakeoverRequest(await readJson(req, HostLimits.maxJsonBytes));
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'malformed takeover');
    }
    if (r.login.username !== username) throw new HostError(400, 'BadRequest', 'takeover username does not match the path');
    const signingKey = signingKeyOf(username);
    d.auth.verifyChallenge(username, r.login.challenge, r.login.signature, signingKey);
    // P37: the identity key is not enough; the master secret must be proven too.
    const row = q.get.get(username) as Row | undefined;
    if (!row?.takeover_key) throw new HostError(403, 'Unauthorized', 'this account has no takeover key; restore is not possible');
    if (!verifyTakeover(new Uint8Array(row.takeover_key), r.proof, r.login.challenge, username, r.login.device!)) {
      throw new HostError(401, 'Unauthorized', 'the takeover proof does not verify under the account record key');
    }
    try {
      verifySignedPreKey(signingKey, r.prekeys.signedPreKey!);
      for (const k of r.prekeys.kemPreKeys) verifyKemPreKey(signingKey, k);
    } catch (e) {
      throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'bad prekey signature');
    }
    if (r.prekeys.oneTimePreKeys.length > 200 || r.prekeys.kemPreKeys.length > 100) throw new HostError(413, 'QuotaExceeded', 'too many prekeys in a takeover');
    // One transaction: new prekeys, old tokens gone, device gate set (P37).
    d.storage.replaceDevice(username, r.prekeys, sha256(r.login.device!));
    d.closeUser(username, SIGNED_OUT_CLOSE_CODE, 'signed-out');
    sendJson(res, 200, encodeTokenResponse(d.auth.issueToken(username)));
  }

  async function realmTokens(req: IncomingMessage, res: ServerResponse, username: string): Promise<void> {
    owner(req, username);
    let ids: Uint8Array[];
    try {
      ids = decodeRealmTokenRequest(await readJson(req, HostLimits.maxJsonBytes));
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'malformed token request');
    }
    const userId = realmUserId(username);
    const expiresAt = Math.floor(d.clock() / 1000) + REALM_TOKEN_TTL_S;
    sendJson(res, 200, encodeRealmTokenResponse(ids.map((realmId) => issueRealmToken(issuer.privateKey, { realmId, userId, expiresAt }))));
  }

  async function serve(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const [name, action, ...extra] = rest.split('/');
    if (name === undefined || !isUsername(name) || extra.length > 0) throw new HostError(400, 'BadRequest', 'not a canonical username');
    if (action === 'takeover' && req.method === 'POST') return takeover(req, res, name);
    if (action === 'realm-tokens' && req.method === 'POST') return realmTokens(req, res, name);
    if (action !== undefined) throw new HostError(404, 'NotFound', 'no such endpoint');
    if (req.method === 'GET') {
      limitIp(req);
      const hash = accessKeyHash(req);
      const row = q.get.get(name) as Row | undefined;
      // A wrong key looks exactly like no record: the endpoint is no oracle for who has one.
      if (!row || !matches(row, hash)) throw new HostError(404, 'NotFound', 'no record for this key');
      const body = new Uint8Array(row.record);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    if (req.method === 'PUT') {
      owner(req, name);
      const hash = accessKeyHash(req);
      const takeover = takeoverKey(req);
      const body = await readBody(req, MAX_SEALED_RECORD_BYTES);
      if (!isSealedRecordLength(body.length)) throw new HostError(400, 'BadRequest', `a record of ${body.length} bytes is not a sealed bucket`);
      if (!put.immediate(name, hash, body, takeover)) throw new HostError(403, 'Unauthorized', 'the access key or takeover key does not match the stored record');
      return sendJson(res, 200, { stored: body.length });
    }
    if (req.method === 'DELETE') {
      owner(req, name);
      const hash = accessKeyHash(req);
      const row = q.get.get(name) as Row | undefined;
      if (row && !matches(row, hash)) throw new HostError(403, 'Unauthorized', 'the access key does not match the stored record');
      q.remove.run(name);
      return sendJson(res, 200, { deleted: row ? 1 : 0 });
    }
    throw new HostError(405, 'BadRequest', 'method not allowed here');
  }

  return {
    checkDevice,
    issuerPublicKey: issuer.publicKey.slice(),
    login(r) {
      d.auth.verifyChallenge(r.username, r.challenge, r.signature, signingKeyOf(r.username));
      checkDevice(r.username, r.device);
      return d.auth.issueToken(r.username);
    },
    async handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (!path.startsWith(ACCOUNT_RECORD_PATH)) return false;
      await serve(req, res, path.slice(ACCOUNT_RECORD_PATH.length));
      return true;
    },
    close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  };
}
