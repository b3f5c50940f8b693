/**
 * One typed error for the whole protocol core.
 *
 * Every failure in `src/lib/crypto` and `src/lib/wire` is a `ProtocolError` whose `code` comes
 * from the closed set below. Messages carry numbers ("gap 2100 exceeds 1000"), never key bytes
 * or plaintext. `toWireError` / `fromWireError` flatten it to a plain object so the code survives
 * structured cloning across the Comlink boundary (Comlink drops custom error properties).
 */

export const ErrorCode = {
  DecodeFailed: 'DecodeFailed',
  UnsupportedVersion: 'UnsupportedVersion',
  InvalidArgument: 'InvalidArgument',
  InvalidSignature: 'InvalidSignature',
  InvalidKey: 'InvalidKey',
  InvalidMac: 'InvalidMac',
  DuplicateMessage: 'DuplicateMessage',
  TooBigMessageGap: 'TooBigMessageGap',
  TooManySkippedKeys: 'TooManySkippedKeys',
  UntrustedIdentity: 'UntrustedIdentity',
  MissingPrekey: 'MissingPrekey',
  PostQuantumDowngrade: 'PostQuantumDowngrade',
  InvalidMessage: 'InvalidMessage',
  NotInitialized: 'NotInitialized',
  // Client engine (issue 3): directory, transport and account state.
  NoSuchUser: 'NoSuchUser',
  UsernameTaken: 'UsernameTaken',
  Unavailable: 'Unavailable',
  Blocked: 'Blocked',
  NoAccount: 'NoAccount',
  /** The vault's keys or identity are gone or do not open while account data remains (P33): route to restore. */
  StorageLost: 'StorageLost',
  /** Another browser restored this account (issue 5): this one is signed out for good. */
  SignedOut: 'SignedOut',
  Internal: 'Internal'
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ProtocolError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

export function isProtocolError(e: unknown, code?: ErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}

/** A structured-clone-safe error shape for crossing worker boundaries. */
export interface WireError {
  code: ErrorCode | 'Unknown';
  message: string;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof ProtocolError) return { code: e.code, message: e.message };
  // Unknown errors are reported without their text: it may quote internal state.
  return { code: 'Unknown', message: 'internal error' };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };
