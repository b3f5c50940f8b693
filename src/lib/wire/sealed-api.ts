/**
 * The host's sealed-sender API (SECURITY.md P41; README "Design: sealed sender and profiles"):
 * routes, the delivery-token header and the strict JSON codecs both sides share.
 *
 *   GET  /api/v1/sealed/trust                 -> { root, revoked }          (no auth: public)
 *   GET  /api/v1/sealed/certificate  (bearer) -> { certificate }            a fresh SenderCertificate
 *   PUT  /api/v1/sealed/access       (bearer, binary SealedAccess, 34 bytes) -> { ok }
 *   POST /api/v1/sealed/messages/<recipient>  (NO auth; binary sealed envelope;
 *        header X-Parley-Delivery-Token: base64url(token), optional) -> { serverId, receivedAt }
 *
 * The sealed send names no sender anywhere: no bearer, no cookie, no username but the recipient's.
 * Binary fields are unpadded base64url. Knows nothing of servers, storage or sockets.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { ED25519_PUBLIC_LEN } from '../crypto/primitives';
import { SENDER_CERTIFICATE_MAX_LEN } from '../crypto/certificates';
import type { SealedSenderTrust } from '../crypto/certificates';

export const SEALED_API = {
  trust: '/api/v1/sealed/trust',
  certificate: '/api/v1/sealed/certificate',
  access: '/api/v1/sealed/access',
  messages: '/api/v1/sealed/messages/'
} as const;

/** The header a sealed send carries its delivery token in (never a query: queries end up in logs). */
export const DELIVERY_TOKEN_HEADER = 'x-parley-delivery-token';

/** Most revoked server key ids a trust answer may list. */
const MAX_REVOKED = 1024;

type Json = Record<string, unknown>;

function obj(v: unknown, what: string, keys: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', `${what}: expected an object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail('DecodeFailed', `${what}: unexpected field "${k.slice(0, 32)}"`);
  for (const k of keys) if (!(k in o)) fail('DecodeFailed', `${what}: missing field "${k}"`);
  return o;
}

function b64(v: unknown, what: string, max: number): Uint8Array {
  if (typeof v !== 'string') fail('DecodeFailed', `${what}: expected base64url`);
  const b = fromBase64Url(v, max);
  if (b.length > max) fail('DecodeFailed', `${what}: ${b.length} bytes exceeds ${max}`);
  return b;
}

export function encodeTrustResponse(t: SealedSenderTrust): Json {
  return { root: toBase64Url(t.root), revoked: [...t.revokedServerKeyIds] };
}

export function decodeTrustResponse(v: unknown): SealedSenderTrust {
  const o = obj(v, 'trust', ['root', 'revoked']);
  const root = b64(o.root, 'trust root', ED25519_PUBLIC_LEN);
  if (root.length !== ED25519_PUBLIC_LEN) fail('DecodeFailed', `trust root of ${root.length} bytes`);
  if (!Array.isArray(o.revoked) || o.revoked.length > MAX_REVOKED) fail('DecodeFailed', 'trust: revoked must be a list');
  const revoked = o.revoked.map((id: unknown) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffff_ffff) fail('DecodeFailed', 'trust: revoked ids are u32');
    return id;
  });
  return { root, revokedServerKeyIds: revoked };
}

export function encodeCertificateResponse(certificate: Uint8Array): Json {
  return { certificate: toBase64Url(certificate) };
}

/** The encoded SenderCertificate (certificates.ts decodes and the vault verifies it). */
export function decodeCertificateResponse(v: unknown): Uint8Array {
  const o = obj(v, 'certificate', ['certificate']);
  return b64(o.certificate, 'certificate', SENDER_CERTIFICATE_MAX_LEN);
}
