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
 *   every prekey and token of the old browser and sets the device gate (HostStore.takeOverDevice);
 *   its sockets are closed with SIGNED_OUT_CLOSE_CODE, on every instance (bus-port.ts). The
 *   identity (and so every safety number) is unchanged.
 * - Realm tokens (P38): the signed-in holder gets, per pinned realm, a short-lived token signed by
 *   this host's issuer key; a realm accepts a first registration only with one, so nobody can
 *   squat another user's slot. The issuer key is made once and kept in the store (one for every
 *   instance); its public half is written to DATA_DIR/realm-issuer.pub for the operators of
 *   standalone realms.
 *
 * Records live in the store's AccountRecordStore (port.ts; on SQLite their own file next to the
 * host's), so this module adds nothing to the mailbox's hot path. Knows nothing of PINs or record contents.
 */
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
import { addressBucket } from './client-address';
import { HostError, bearer, clientIp, readBody, readJson, sendJson } from './http-util';
import { sharedLimiter, type SharedLimiter } from './store-limiter';
import type { HostStore } from './storage/port';

export { RECORDS_FILE } from './storage/sqlite-records';
/** The issuer's public key, base64url, for `npm run realm -- --issuer`. */
export const ISSUER_PUBLIC_FILE = 'realm-issuer.pub';

export interface AccountRecordDeps {
  dataDir: string;
  auth: Auth;
  storage: HostStore;
  clock: () => number;
  /** Closes the user's live sockets on this instance (ws.ts closeUser); the store's takeover tells the others. */
  closeUser(username: string, code: number, reason: string): void;
  /** Per-IP limiter for GET and takeover (defaults to 30 a minute, shared by the instances). */
  perIp?: SharedLimiter;
}

export interface AccountRecords {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Login gate: after a takeover only the browser holding the device secret may log in. */
  checkDevice(username: string, device: Uint8Array | undefined): Promise<void>;
  /** The key realms must trust for registration tokens (give it to `createRealm({ issuers })`). */
  issuerPublicKey: Uint8Array;
  /**
   * The directory's login with the device gate AFTER the signature check, so only the key
   * holder learns that it was signed out.
   */
  login(r: LoginRequest): Promise<{ token: Uint8Array; expiresAt: number }>;
}

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

export async function createAccountRecords(d: AccountRecordDeps): Promise<AccountRecords> {
  mkdirSync(d.dataDir, { recursive: true });
  const store = d.storage.records;
  const perIp = d.perIp ?? sharedLimiter(d.storage, 'record-ip', { max: 30, windowMs: 60_000 }, d.clock);
  const matches = (keyHash: Uint8Array, hash: Buffer): boolean => keyHash.length === hash.length && timingSafeEqual(keyHash, hash);

  const issuer = await store.issuerKey(() => ed25519KeyPair(systemDeps));
  writeFileSync(join(d.dataDir, ISSUER_PUBLIC_FILE), toBase64Url(issuer.publicKey) + '\n');

  async function limitIp(req: IncomingMessage): Promise<void> {
    const wait = await perIp.hit(addressBucket(clientIp(req)));
    if (wait) throw new HostError(429, 'RateLimited', 'too many requests from this address', wait);
  }

  async function owner(req: IncomingMessage, username: string): Promise<void> {
    if ((await d.auth.requireUser(bearer(req))) !== username) throw new HostError(403, 'Unauthorized', 'only the account holder may change its record');
  }

  async function signingKeyOf(username: string): Promise<Uint8Array> {
    const enc = await d.storage.identity(username);
    if (!enc) throw new HostError(404, 'NoSuchUser', 'no such user');
    return readIdentityPublic(new ByteReader(enc, 'stored identity')).signingKey;
  }

  async function checkDevice(username: string, device: Uint8Array | undefined): Promise<void> {
    const want = await store.deviceHash(username);
    if (!want) return;
    const have = device ? sha256(device) : undefined;
    if (!have || have.length !== want.length || !timingSafeEqual(have, want)) throw new HostError(403, 'SignedOut', 'this account is now used on another browser');
  }

  async function takeover(req: IncomingMessage, res: ServerResponse, username: string): Promise<void> {
    await limitIp(req);
    let r;
    try {
      r = decodeTakeoverRequest(await readJson(req, HostLimits.maxJsonBytes));
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'malformed takeover');
    }
    if (r.login.username !== username) throw new HostError(400, 'BadRequest', 'takeover username does not match the path');
    const signingKey = await signingKeyOf(username);
    await d.auth.verifyChallenge(username, r.login.challenge, r.login.signature, signingKey);
    // P37: the identity key is not enough; the master secret must be proven too.
    const row = await store.getRecord(username);
    if (!row?.takeoverKey) throw new HostError(403, 'Unauthorized', 'this account has no takeover key; restore is not possible');
    if (!verifyTakeover(row.takeoverKey, r.proof, r.login.challenge, username, r.login.device!)) {
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
    await d.storage.takeOverDevice(username, r.prekeys, sha256(r.login.device!));
    d.closeUser(username, SIGNED_OUT_CLOSE_CODE, 'signed-out');
    sendJson(res, 200, encodeTokenResponse(await d.auth.issueToken(username)));
  }

  async function realmTokens(req: IncomingMessage, res: ServerResponse, username: string): Promise<void> {
    await owner(req, username);
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
      await limitIp(req);
      const hash = accessKeyHash(req);
      const row = await store.getRecord(name);
      // A wrong key looks exactly like no record: the endpoint is no oracle for who has one.
      if (!row || !matches(row.keyHash, hash)) throw new HostError(404, 'NotFound', 'no record for this key');
      const body = row.record;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    if (req.method === 'PUT') {
      await owner(req, name);
      const hash = accessKeyHash(req);
      const takeover = takeoverKey(req);
      const body = await readBody(req, MAX_SEALED_RECORD_BYTES);
      if (!isSealedRecordLength(body.length)) throw new HostError(400, 'BadRequest', `a record of ${body.length} bytes is not a sealed bucket`);
      if ((await store.putRecord(name, hash, body, takeover, d.clock())) !== 'stored') throw new HostError(403, 'Unauthorized', 'the access key or takeover key does not match the stored record');
      return sendJson(res, 200, { stored: body.length });
    }
    if (req.method === 'DELETE') {
      await owner(req, name);
      const hash = accessKeyHash(req);
      const outcome = await store.deleteRecord(name, hash);
      if (outcome === 'mismatch') throw new HostError(403, 'Unauthorized', 'the access key does not match the stored record');
      return sendJson(res, 200, { deleted: outcome === 'deleted' ? 1 : 0 });
    }
    throw new HostError(405, 'BadRequest', 'method not allowed here');
  }

  return {
    checkDevice,
    issuerPublicKey: issuer.publicKey.slice(),
    async login(r) {
      await d.auth.verifyChallenge(r.username, r.challenge, r.signature, await signingKeyOf(r.username));
      await checkDevice(r.username, r.device);
      return d.auth.issueToken(r.username);
    },
    async handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (!path.startsWith(ACCOUNT_RECORD_PATH)) return false;
      await serve(req, res, path.slice(ACCOUNT_RECORD_PATH.length));
      return true;
    }
  };
}
