/**
 * Sealed sender on the host (SECURITY.md P41; routes in src/lib/wire/sealed-api.ts; README
 * "Design: sealed sender and profiles"):
 *
 * - Trust: the host signs sender certificates with its certificate key, whose ServerCertificate
 *   the trust root signed. In production the operator gives both (`keys`, from
 *   SEALED_KEYS_FILE, main.ts) and the build pins the root (VITE_PARLEY_SEALED_ROOT). Without
 *   them (development, tests) the host makes a root in its data dir once, signs its own
 *   certificate key with it, writes the root's public key to DATA_DIR/sealed-root.pub and serves
 *   it at GET /api/v1/sealed/trust, where a client without a pinned root pins it on first use.
 * - Certificates: GET /certificate with a bearer token: a SenderCertificate for the account's
 *   identity on record (device 1, DESIGN.md §4), living `senderCertificateTtlMs`.
 * - Access: PUT /access with a bearer token sets the account's SealedAccess (the delivery-token
 *   verifier and the "sealed from anyone" flag).
 * - Sealed send: POST /messages/<recipient> with NO authentication. Admitted only with the
 *   recipient's delivery token (or its "sealed from anyone"), rate-limited per client address,
 *   stored in the mailbox with an EMPTY sender (the per-sender share of the quota then applies
 *   to all sealed mail together, an anonymous bucket). Nothing here logs, stores or keeps in
 *   memory who sent it; the request line is logged by server.ts as its route prefix only.
 *   A refusal says as little as possible: unknown recipient and wrong token are both 401, so
 *   this endpoint is not an oracle for which accounts exist.
 *
 * Knows nothing of envelopes' insides or of sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteReader } from '../lib/codec/bytes';
import { fromBase64Url, toBase64Url } from '../lib/codec/base64url';
import { isProtocolError } from '../lib/codec/errors';
import { isUsername } from '../lib/codec/username';
import { systemDeps } from '../lib/crypto/deps';
import {
  decodeServerCertificate,
  encodeSenderCertificate,
  encodeServerCertificate,
  generateServerSigningKey,
  generateTrustRoot,
  issueSenderCertificate,
  verifyServerCertificate,
  type SealedSenderTrust,
  type ServerSigningKey
} from '../lib/crypto/certificates';
import { DELIVERY_TOKEN_LEN, SEALED_ACCESS_LEN, decodeSealedAccess, mayDeliverSealed } from '../lib/crypto/delivery-token';
import { readIdentityPublic } from '../lib/crypto/identity';
import { DELIVERY_TOKEN_HEADER, SEALED_API, encodeCertificateResponse, encodeTrustResponse } from '../lib/wire/sealed-api';
import type { Auth } from './auth';
import { addressBucket } from './client-address';
import { HostError, bearer, clientIp, readBody, requestPath, sendJson } from './http-util';
import type { Limits } from './limits';
import type { Mailbox } from './mailbox';
import { createLimiter } from './rate-limit';
import type { SealedStore } from './storage/sealed-port';

/** The mailbox's sender for sealed envelopes: nobody (P41). */
export const SEALED_SENDER = '';
/** Public key of a development trust root, for `VITE_PARLEY_SEALED_ROOT=$(cat …) vite build`. */
export const SEALED_ROOT_PUB_FILE = 'sealed-root.pub';
/** A development certificate key lives this long, and is replaced (next key id) once expired. */
const DEV_SERVER_CERT_MS = 365 * 24 * 3600 * 1000;

export interface SealedKeys {
  server: ServerSigningKey;
  trust: SealedSenderTrust;
}

export interface SealedDeps {
  store: SealedStore;
  auth: Auth;
  mailbox: Mailbox;
  /** The encoded IdentityPublic the account registered (sync or async store). */
  identityOf(username: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  limits: Limits;
  clock: () => number;
  dataDir: string;
  /**
   * The per-address limiter of sealed sends; server.ts passes the store's shared one so every
   * instance counts against one window (P40). Default: this process's own.
   */
  perIp?: { hit(key: string): number | Promise<number> };
  /** Operator-provided keys (production); without them a development root is used. */
  keys?: SealedKeys;
  log?: (line: string) => void;
}

export interface SealedEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  readonly trust: SealedSenderTrust;
}

/** A development root and certificate key, made once in the data dir (never for production). */
async function developmentKeys(d: SealedDeps): Promise<SealedKeys> {
  let root = await d.store.getDevelopmentRoot();
  if (!root) {
    const kp = generateTrustRoot(systemDeps);
    await d.store.putDevelopmentRoot({ publicPart: kp.publicKey, privateKey: kp.privateKey });
    root = (await d.store.getDevelopmentRoot())!;
    d.log?.(`sealed sender: made a development trust root in the data dir; pin it in production builds (${SEALED_ROOT_PUB_FILE})`);
  }
  writeFileSync(join(d.dataDir, SEALED_ROOT_PUB_FILE), toBase64Url(root.publicPart) + '\n');
  const trust: SealedSenderTrust = { root: root.publicPart, revokedServerKeyIds: [] };
  const now = d.clock();
  // Instances sharing the store (PostgreSQL) may race here: each writes only if nothing (or the
  // key it read) is stored, then uses what is stored, so all sign with one key (sealed-port.ts).
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await d.store.getCertificateKey();
    const certificate = stored && decodeServerCertificate(stored.publicPart);
    if (stored && certificate) {
      try {
        verifyServerCertificate(certificate, trust, now + 24 * 3600 * 1000);
        return { server: { certificate, privateKey: stored.privateKey }, trust };
      } catch {
        // Expiring within a day (or made under another root): a new key with the next id.
      }
    }
    const next = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: (certificate?.keyId ?? 0) + 1, expires: now + DEV_SERVER_CERT_MS }, systemDeps);
    await d.store.putCertificateKey({ publicPart: encodeServerCertificate(next.certificate), privateKey: next.privateKey }, stored?.publicPart);
  }
  throw new Error('sealed sender: the stored certificate key stays invalid after renewal');
}

function canonicalRecipient(rest: string): string {
  let name: string;
  try {
    name = decodeURIComponent(rest);
  } catch {
    throw new HostError(400, 'BadRequest', 'malformed path');
  }
  if (!isUsername(name)) throw new HostError(400, 'BadRequest', 'not a canonical username');
  return name;
}

/** The presented delivery token, if any; a malformed header is a 400 (never a silent "none"). */
function presentedToken(req: IncomingMessage): Uint8Array | undefined {
  const h = req.headers[DELIVERY_TOKEN_HEADER];
  if (h === undefined) return undefined;
  if (typeof h !== 'string') throw new HostError(400, 'BadRequest', 'one delivery token header at most');
  let t: Uint8Array;
  try {
    t = fromBase64Url(h, DELIVERY_TOKEN_LEN);
  } catch {
    throw new HostError(400, 'BadRequest', 'delivery token is not base64url');
  }
  if (t.length !== DELIVERY_TOKEN_LEN) throw new HostError(400, 'BadRequest', `delivery token of ${t.length} bytes, expected ${DELIVERY_TOKEN_LEN}`);
  return t;
}

export async function createSealed(d: SealedDeps): Promise<SealedEndpoint> {
  const keys = d.keys ?? (await developmentKeys(d));
  // The operator's keys must hold together now, or every certificate would be refused.
  verifyServerCertificate(keys.server.certificate, keys.trust, d.clock());
  const sealedPerIp = d.perIp ?? createLimiter(d.limits.sealedSendPerIp, d.clock);
  const trustJson = encodeTrustResponse(keys.trust);

  async function certificate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const username = await d.auth.requireUser(bearer(req));
    const enc = await d.identityOf(username);
    if (!enc) throw new HostError(401, 'Unauthorized', 'no identity on record');
    const identity = readIdentityPublic(new ByteReader(enc, 'stored identity'));
    const lifetimeMs = Math.min(d.limits.senderCertificateTtlMs, 7 * 24 * 3600 * 1000);
    const cert = issueSenderCertificate({ server: keys.server, username, device: 1, identity, lifetimeMs }, { ...systemDeps, now: d.clock });
    sendJson(res, 200, encodeCertificateResponse(encodeSenderCertificate(cert)));
  }

  async function access(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const username = await d.auth.requireUser(bearer(req));
    const body = await readBody(req, SEALED_ACCESS_LEN);
    try {
      decodeSealedAccess(body);
    } catch (e) {
      throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : 'malformed sealed access');
    }
    await d.store.putAccess(username, body, d.clock());
    sendJson(res, 200, { ok: true });
  }

  async function send(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const wait = await sealedPerIp.hit(addressBucket(clientIp(req)));
    if (wait) throw new HostError(429, 'RateLimited', 'too many sealed sends from this address', wait);
    const recipient = canonicalRecipient(rest);
    const token = presentedToken(req);
    const stored = await d.store.getAccess(recipient);
    // No access set (or no such account): nobody may send it sealed mail, with any token.
    if (!stored || !mayDeliverSealed(decodeSealedAccess(stored), token)) {
      throw new HostError(401, 'Unauthorized', 'sealed delivery to this recipient needs its delivery token');
    }
    const body = await readBody(req, d.limits.maxEnvelopeBytes);
    const e = await d.mailbox.submit(SEALED_SENDER, recipient, body);
    sendJson(res, 201, { serverId: e.id, receivedAt: e.receivedAt });
  }

  return {
    trust: keys.trust,
    async handle(req, res) {
      const path = requestPath(req);
      if (!path.startsWith('/api/v1/sealed/')) return false;
      if (path === SEALED_API.trust && req.method === 'GET') sendJson(res, 200, trustJson);
      else if (path === SEALED_API.certificate && req.method === 'GET') await certificate(req, res);
      else if (path === SEALED_API.access && req.method === 'PUT') await access(req, res);
      else if (path.startsWith(SEALED_API.messages) && path.length > SEALED_API.messages.length && req.method === 'POST') {
        await send(req, res, path.slice(SEALED_API.messages.length));
      } else throw new HostError(404, 'NotFound', 'no such endpoint');
      return true;
    }
  };
}
