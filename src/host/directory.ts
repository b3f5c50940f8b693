/**
 * The directory (DESIGN.md §4 "Identity", "Prekeys"): claim a username with proof of key
 * possession, publish and replenish prekeys, rotate the signed prekey, and hand out PQXDH
 * bundles with each one-time prekey served once (P9). Every prekey signature is checked here
 * before anything is stored, so the host never serves a bundle its owner did not sign.
 *
 * Lockouts (P40): fetches are limited per requester and per requester-target pair, which only
 * ever slows the one asking. Per target, only the hand-out of one-time prekeys is budgeted: past
 * the budget a target's bundles carry just its signed and last-resort prekeys, so draining
 * someone's pool never makes them unreachable. A prekey upload that rotates the last-resort KEM
 * key replaces it in one transaction, or changes nothing. The limits count in the shared store,
 * so they hold across host instances. Knows nothing of mailboxes or sockets.
 */
import { isProtocolError } from '../lib/codec/errors';
import { encodeIdentityPublic, readIdentityPublic } from '../lib/crypto/identity';
import { verifyKemPreKey, verifySignedPreKey } from '../lib/crypto/prekeys';
import { ByteReader } from '../lib/codec/bytes';
import { BUNDLE_VERSION, encodeBundle } from '../lib/crypto/bundle';
import type { LoginRequest, PreKeyUpload, RegisterRequest } from '../lib/wire/host-api';
import { canonicalUsername } from '../lib/codec/username';
import type { Auth } from './auth';
import { HostError } from './http-util';
import type { Limits } from './limits';
import { sharedLimiter } from './store-limiter';
import type { HostStore, PreKeyCounts } from './storage/port';

export interface Directory {
  availability(raw: string): Promise<{ username: string; available: boolean }>;
  register(req: RegisterRequest): Promise<{ token: Uint8Array; expiresAt: number }>;
  login(req: LoginRequest): Promise<{ token: Uint8Array; expiresAt: number }>;
  fetchBundle(requester: string, target: string): Promise<Uint8Array>;
  counts(username: string): Promise<PreKeyCounts>;
  upload(username: string, upload: PreKeyUpload): Promise<PreKeyCounts>;
}

function checkSignatures(signingKey: Uint8Array, upload: PreKeyUpload): void {
  try {
    if (upload.signedPreKey) verifySignedPreKey(signingKey, upload.signedPreKey);
    for (const k of upload.kemPreKeys) verifyKemPreKey(signingKey, k);
  } catch (e) {
    if (isProtocolError(e)) throw new HostError(400, 'BadRequest', e.message);
    throw e;
  }
  const lastResort = upload.kemPreKeys.filter((k) => k.lastResort).length;
  if (lastResort > 1) throw new HostError(400, 'BadRequest', `${lastResort} last-resort KEM prekeys; at most 1`);
  const kemIds = new Set(upload.kemPreKeys.map((k) => k.id));
  if (kemIds.size !== upload.kemPreKeys.length) throw new HostError(400, 'BadRequest', 'KEM prekey ids repeat within the upload');
}

export function createDirectory(storage: HostStore, auth: Auth, limits: Limits, clock: () => number): Directory {
  const perRequester = sharedLimiter(storage, 'bundle-requester', limits.bundlePerRequester, clock);
  const perPair = sharedLimiter(storage, 'bundle-pair', limits.bundlePerPair, clock);
  const oneTimeBudget = sharedLimiter(storage, 'bundle-target', limits.oneTimePerTarget, clock);

  async function checkPoolCaps(username: string | undefined, upload: PreKeyUpload): Promise<void> {
    const have = username ? await storage.preKeyCounts(username) : { oneTime: 0, kem: 0 };
    const oneTime = have.oneTime + upload.oneTimePreKeys.length;
    const kem = have.kem + upload.kemPreKeys.filter((k) => !k.lastResort).length;
    if (oneTime > limits.maxOneTimePreKeys) throw new HostError(413, 'QuotaExceeded', `${oneTime} one-time prekeys exceed ${limits.maxOneTimePreKeys}`);
    if (kem > limits.maxKemPreKeys) throw new HostError(413, 'QuotaExceeded', `${kem} one-time KEM prekeys exceed ${limits.maxKemPreKeys}`);
  }

  async function signingKeyOf(username: string): Promise<Uint8Array> {
    const enc = await storage.identity(username);
    if (!enc) throw new HostError(404, 'NoSuchUser', 'no such user');
    const r = new ByteReader(enc, 'stored identity');
    return readIdentityPublic(r).signingKey;
  }

  return {
    async availability(raw) {
      const name = canonicalUsername(raw);
      if (typeof name !== 'string') throw new HostError(400, 'BadRequest', name.message);
      return { username: name, available: !(await storage.accountExists(name)) };
    },
    async register(req) {
      await auth.verifyChallenge(req.username, req.challenge, req.signature, req.identity.signingKey);
      checkSignatures(req.identity.signingKey, req);
      if (!req.kemPreKeys.some((k) => k.lastResort)) throw new HostError(400, 'BadRequest', 'registration needs a last-resort KEM prekey');
      await checkPoolCaps(undefined, req);
      // The decoder verified IKd's signature; store the canonical encoding.
      const created = await storage.createAccount({
        username: req.username,
        identity: encodeIdentityPublic(req.identity),
        createdAt: clock(),
        preKeys: { signedPreKey: req.signedPreKey, oneTimePreKeys: req.oneTimePreKeys, kemPreKeys: req.kemPreKeys }
      });
      if (!created) throw new HostError(409, 'UsernameTaken', `the username "${req.username}" is already taken`);
      return auth.issueToken(req.username);
    },
    async login(req) {
      await auth.verifyChallenge(req.username, req.challenge, req.signature, await signingKeyOf(req.username));
      return auth.issueToken(req.username);
    },
    async fetchBundle(requester, target) {
      const waitR = await perRequester.hit(requester);
      if (waitR) throw new HostError(429, 'RateLimited', 'too many bundle fetches by this account', waitR);
      // The pair key cannot collide: usernames never contain a space.
      const waitP = await perPair.hit(`${requester} ${target}`);
      if (waitP) throw new HostError(429, 'RateLimited', 'too many bundle fetches of this user by this account', waitP);
      const parts = await storage.takeBundle(target, (await oneTimeBudget.hit(target)) === 0);
      if (!parts) throw new HostError(404, 'NoSuchUser', 'no such user');
      const identity = readIdentityPublic(new ByteReader(parts.identity, 'stored identity'));
      return encodeBundle({
        version: BUNDLE_VERSION,
        username: target,
        identity,
        signedPreKey: parts.signedPreKey,
        kemPreKey: parts.kemPreKey,
        ...(parts.oneTimePreKey ? { oneTimePreKey: parts.oneTimePreKey } : {})
      });
    },
    counts(username) {
      return storage.preKeyCounts(username);
    },
    async upload(username, upload) {
      checkSignatures(await signingKeyOf(username), upload);
      await checkPoolCaps(username, upload);
      if (!(await storage.addPreKeys(username, upload))) {
        throw new HostError(400, 'BadRequest', 'the last-resort KEM prekey id is already in use by a one-time KEM prekey; nothing was stored');
      }
      return storage.preKeyCounts(username);
    }
  };
}
