/**
 * The realm HTTP API's messages (DESIGN.md §7): strict, versioned binary codecs for every request
 * a client sends to a PIN-recovery realm and every response it gets back.
 *
 * Request  = version u8 | op u8 | realmId[16] | userId[32] | op fields (fixed sizes)
 * Response = version u8 | op u8 | status u8 | fields fixed by (op, status)
 *
 * The realm id travels in every request so a realm refuses a request meant for another one
 * (a misconfigured URL would otherwise burn guesses with tags that can never match). A register
 * request may carry the host's registration token (realm-token.ts), which a FIRST registration
 * needs (P38). An evaluation answer carries the DLEQ proof and the signed public key share
 * (P38); `tooSoon` refuses an evaluation during the per-user delay (guess-delay.ts) and `status`
 * reports the run of wrong guesses, so the owner's app can warn. The share is
 * released in the response to a correct unlock tag; there is no separate "fetch share" request,
 * because a second request would need its own authorisation and add nothing. Each (op, status)
 * pair has exactly one payload layout; anything else, trailing bytes included, is DecodeFailed.
 * This module knows nothing of HTTP, storage or how realms count guesses.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { ELEMENT_LEN, SCALAR_LEN, deserializeElement } from '../crypto/pin/group';
import { KEY_LEN, VERSION_LEN } from '../crypto/pin/keys';
import { ENCRYPTED_SECRET_LEN, KEY_SIGNATURE_LEN, REGISTRATION_KEY_LEN, decodeRealmRecord, encodeRealmRecord, type RealmRecord } from '../crypto/pin/record';
import { PROOF_LEN } from '../crypto/pin/dleq';
import { REALM_TOKEN_LEN } from '../crypto/pin/realm-token';
import { REALM_ID_LEN } from '../crypto/pin/stretch';
import { REALM_AUTH_KEY_LEN, REALM_USER_ID_LEN } from '../crypto/pin/realm-auth';
import type { EvaluationResponse, ShareResponse } from '../crypto/pin/realm';

/** 2: proofs and signed keys in evaluations, registration tokens, delays and health in status. */
export const REALM_API_VERSION = 2;
/** encodeRealmRecord's fixed size: format, version, five 32-byte fields, encrypted secret, limit, key, signature. */
export const REALM_RECORD_LEN = 1 + VERSION_LEN + 5 * 32 + ENCRYPTED_SECRET_LEN + 1 + REGISTRATION_KEY_LEN + KEY_SIGNATURE_LEN;
/** Bounds for the HTTP layer: the largest request (register, 580 bytes) and response fit easily. */
export const MAX_REQUEST_LEN = 1024;
export const MAX_RESPONSE_LEN = 512;

const OPS = ['none', 'register', 'evaluate', 'submitTag', 'delete', 'status'] as const;
export type RealmOp = (typeof OPS)[number];
const STATUSES = ['ok', 'wrongGuess', 'destroyed', 'notRegistered', 'unauthorized', 'noPendingEvaluation', 'wrongRealm', 'rateLimited', 'badRequest', 'tooSoon'] as const;
export type RealmStatus = (typeof STATUSES)[number];
const STATES = ['none', 'registered', 'destroyed'] as const;
export type RealmUserState = (typeof STATES)[number];

interface Addressed {
  realmId: Uint8Array;
  userId: Uint8Array;
}

export type RealmRequest = Addressed &
  (
    | {
        op: 'register';
        /** The new auth key (the realm stores its verifier). */
        authKey: Uint8Array;
        /** The current auth key; ignored on a first registration. */
        proof: Uint8Array;
        /** The host's registration token; required on a first registration (P38). */
        token?: Uint8Array;
        record: RealmRecord;
      }
    | { op: 'evaluate'; blindedElement: Uint8Array }
    | { op: 'submitTag'; unlockTag: Uint8Array }
    | { op: 'delete'; proof: Uint8Array }
    | { op: 'status' }
  );

type ErrorStatus = 'destroyed' | 'notRegistered' | 'unauthorized' | 'noPendingEvaluation' | 'wrongRealm' | 'rateLimited' | 'badRequest';

export type RealmResponse =
  | { op: 'register' | 'delete'; status: 'ok' }
  | { op: 'evaluate'; status: 'ok'; evaluation: EvaluationResponse }
  | { op: 'submitTag'; status: 'ok'; remaining: number; share: ShareResponse }
  | { op: 'submitTag'; status: 'wrongGuess'; remaining: number }
  | { op: 'evaluate'; status: 'tooSoon'; retryAfterMs: number }
  | {
      op: 'status';
      status: 'ok';
      state: RealmUserState;
      remaining: number;
      /** Wrong guesses since the last correct one (a pending evaluation counts). */
      wrongGuesses: number;
      /** When that run began (realm clock, ms), or null. */
      failingSince: number | null;
      /** How long an evaluation would be refused now. */
      retryAfterMs: number;
    }
  | { op: RealmOp; status: ErrorStatus };

/** Which error statuses each op may answer; any op may be refused for the realm, rate or format. */
const ERRORS_FOR: Record<RealmOp, readonly RealmStatus[]> = {
  none: [],
  register: ['unauthorized'],
  evaluate: ['destroyed', 'notRegistered'],
  submitTag: ['destroyed', 'notRegistered', 'noPendingEvaluation'],
  delete: ['unauthorized', 'notRegistered'],
  status: []
};
const ANY_OP_ERRORS: readonly RealmStatus[] = ['wrongRealm', 'rateLimited', 'badRequest'];

function indexOf<T extends string>(list: readonly T[], value: T, what: string): number {
  const i = list.indexOf(value);
  if (i < 0) fail('InvalidArgument', `unknown ${what}`);
  return i;
}

function readEnum<T extends string>(r: ByteReader, list: readonly T[], what: string): T {
  const v = r.u8();
  const out = list[v];
  if (out === undefined) fail('DecodeFailed', `realm ${what} ${v} unknown`);
  return out;
}

/** Delays travel as u32 milliseconds (the longest is 12 h, far below 2^32 ms). */
function clampMs(ms: number): number {
  return Math.min(0xffffffff, Math.max(0, Math.ceil(ms)));
}

function readVersion(r: ByteReader): void {
  const v = r.u8();
  if (v !== REALM_API_VERSION) fail('UnsupportedVersion', `realm API version ${v}, expected ${REALM_API_VERSION}`);
}

export function encodeRealmRequest(q: RealmRequest): Uint8Array {
  const w = new ByteWriter()
    .u8(REALM_API_VERSION)
    .u8(indexOf(OPS, q.op, 'op'))
    .fixed(q.realmId, REALM_ID_LEN)
    .fixed(q.userId, REALM_USER_ID_LEN);
  switch (q.op) {
    case 'register':
      w.fixed(q.authKey, REALM_AUTH_KEY_LEN).fixed(q.proof, REALM_AUTH_KEY_LEN);
      if (q.token) w.u8(1).fixed(q.token, REALM_TOKEN_LEN);
      else w.u8(0);
      return w.fixed(encodeRealmRecord(q.record), REALM_RECORD_LEN).finish();
    case 'evaluate':
      return w.fixed(q.blindedElement, ELEMENT_LEN).finish();
    case 'submitTag':
      return w.fixed(q.unlockTag, KEY_LEN).finish();
    case 'delete':
      return w.fixed(q.proof, REALM_AUTH_KEY_LEN).finish();
    case 'status':
      return w.finish();
  }
}

/** Strict decode; every malformed input is DecodeFailed (UnsupportedVersion for another version). */
export function decodeRealmRequest(bytes: Uint8Array): RealmRequest {
  if (bytes.length > MAX_REQUEST_LEN) fail('DecodeFailed', `realm request of ${bytes.length} bytes exceeds ${MAX_REQUEST_LEN}`);
  const r = new ByteReader(bytes, 'realm request');
  readVersion(r);
  const op = readEnum(r, OPS, 'op');
  const head = { realmId: r.fixed(REALM_ID_LEN), userId: r.fixed(REALM_USER_ID_LEN) };
  let q: RealmRequest;
  switch (op) {
    case 'register': {
      const authKey = r.fixed(REALM_AUTH_KEY_LEN);
      const proof = r.fixed(REALM_AUTH_KEY_LEN);
      const hasToken = r.u8();
      if (hasToken > 1) fail('DecodeFailed', `realm request: token flag ${hasToken}`);
      const token = hasToken === 1 ? r.fixed(REALM_TOKEN_LEN) : undefined;
      const record = decodeRealmRecord(r.fixed(REALM_RECORD_LEN));
      q = { ...head, op, authKey, proof, ...(token ? { token } : {}), record };
      break;
    }
    case 'evaluate': {
      const blindedElement = r.fixed(ELEMENT_LEN);
      try {
        deserializeElement(blindedElement, 'blinded element');
      } catch {
        fail('DecodeFailed', 'realm request: blinded element is not a valid ristretto255 element');
      }
      q = { ...head, op, blindedElement };
      break;
    }
    case 'submitTag':
      q = { ...head, op, unlockTag: r.fixed(KEY_LEN) };
      break;
    case 'delete':
      q = { ...head, op, proof: r.fixed(REALM_AUTH_KEY_LEN) };
      break;
    case 'status':
      q = { ...head, op };
      break;
    case 'none':
      fail('DecodeFailed', 'realm request without an op');
  }
  r.end();
  return q;
}

export function encodeRealmResponse(s: RealmResponse): Uint8Array {
  const w = new ByteWriter().u8(REALM_API_VERSION).u8(indexOf(OPS, s.op, 'op')).u8(indexOf(STATUSES, s.status, 'status'));
  if ('evaluation' in s) {
    const e = s.evaluation;
    return w
      .fixed(e.evaluatedElement, ELEMENT_LEN)
      .fixed(e.proof, PROOF_LEN)
      .fixed(e.publicKey, ELEMENT_LEN)
      .fixed(e.registrationKey, REGISTRATION_KEY_LEN)
      .fixed(e.keySignature, KEY_SIGNATURE_LEN)
      .fixed(e.unlockCommitment, KEY_LEN)
      .fixed(e.version, VERSION_LEN)
      .finish();
  }
  if (s.status === 'tooSoon' && 'retryAfterMs' in s) return w.u32(clampMs(s.retryAfterMs)).finish();
  if ('share' in s) {
    w.u8(s.remaining);
    return w.fixed(s.share.encryptedSecretShare, SCALAR_LEN).fixed(s.share.encryptedSecret, ENCRYPTED_SECRET_LEN).fixed(s.share.commitment, KEY_LEN).finish();
  }
  if ('state' in s) {
    return w
      .u8(indexOf(STATES, s.state, 'state'))
      .u8(s.remaining)
      .u8(Math.min(255, s.wrongGuesses))
      .u64(s.failingSince ?? 0)
      .u32(clampMs(s.retryAfterMs))
      .finish();
  }
  if ('remaining' in s) return w.u8(s.remaining).finish();
  return w.finish();
}

export function decodeRealmResponse(bytes: Uint8Array): RealmResponse {
  if (bytes.length > MAX_RESPONSE_LEN) fail('DecodeFailed', `realm response of ${bytes.length} bytes exceeds ${MAX_RESPONSE_LEN}`);
  const r = new ByteReader(bytes, 'realm response');
  readVersion(r);
  const op = readEnum(r, OPS, 'op');
  const status = readEnum(r, STATUSES, 'status');
  let s: RealmResponse;
  if (status === 'ok' && (op === 'register' || op === 'delete')) s = { op, status };
  else if (status === 'ok' && op === 'evaluate') {
    s = {
      op,
      status,
      evaluation: {
        evaluatedElement: r.fixed(ELEMENT_LEN),
        proof: r.fixed(PROOF_LEN),
        publicKey: r.fixed(ELEMENT_LEN),
        registrationKey: r.fixed(REGISTRATION_KEY_LEN),
        keySignature: r.fixed(KEY_SIGNATURE_LEN),
        unlockCommitment: r.fixed(KEY_LEN),
        version: r.fixed(VERSION_LEN)
      }
    };
  } else if (status === 'tooSoon' && op === 'evaluate') s = { op, status, retryAfterMs: r.u32() }; else if (status === 'ok' && op === 'submitTag') {
    const remaining = r.u8();
    s = { op, status, remaining, share: { encryptedSecretShare: r.fixed(SCALAR_LEN), encryptedSecret: r.fixed(ENCRYPTED_SECRET_LEN), commitment: r.fixed(KEY_LEN) } };
  } else if (status === 'wrongGuess' && op === 'submitTag') s = { op, status, remaining: r.u8() };
  else if (status === 'ok' && op === 'status') {
    const state = readEnum(r, STATES, 'user state');
    const remaining = r.u8();
    const wrongGuesses = r.u8();
    const since = r.u64();
    s = { op, status, state, remaining, wrongGuesses, failingSince: since === 0 ? null : since, retryAfterMs: r.u32() };
  } else if (status !== 'ok' && status !== 'wrongGuess' && status !== 'tooSoon' && (ERRORS_FOR[op].includes(status) || ANY_OP_ERRORS.includes(status))) s = { op, status };
  else fail('DecodeFailed', `realm response: status ${status} is not an answer to ${op}`);
  r.end();
  return s;
}
