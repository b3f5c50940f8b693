/**
 * Typed errors with codes (STYLE.md "Typed errors with codes").
 *
 * `CodedError` is the one shape every layer's error takes: a `code` from a closed set owned by that
 * layer, and a message with numbers ("gap 2100 exceeds 1000"), never key bytes or plaintext.
 * `ProtocolError` is the core's (codec, crypto, wire): decoding, signatures, ratchet rules. Other
 * layers own their codes: the engine's in workers/engine/errors.ts, the host's in
 * src/host/http-util.ts. Imports nothing.
 */

export class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string) {
    super(`${code}: ${message}`);
    this.name = new.target.name;
    this.code = code;
  }
}

export const ProtocolErrorCode = {
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
  Internal: 'Internal'
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends CodedError<ProtocolErrorCode> {}

export function fail(code: ProtocolErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}

/** Any layer's coded error, optionally with one of `codes`. */
export function isCodedError<C extends string>(e: unknown, ...codes: C[]): e is CodedError<C> {
  return e instanceof CodedError && (codes.length === 0 || (codes as string[]).includes(e.code));
}
