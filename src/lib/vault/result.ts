/**
 * The Result envelope every vault method answers with, on both sides of the worker boundary
 * (DESIGN.md §3: Comlink drops an error's `code`, so nothing may throw across it).
 *
 * Worker side, `toResult` runs a method body and turns any CodedError into
 * `{ ok: false, error: { code, message } }`, hiding the text of anything else (it may quote
 * internal state). Main-thread side, `unwrap` turns it back into a value or a thrown VaultError
 * whose `code` the UI switches on. Knows nothing of what the methods do.
 */
import { isCodedError, type ProtocolErrorCode } from '../codec/errors';
import type { GroupErrorCode } from '../crypto/group/errors';
import type { EngineErrorCode } from '../../../workers/engine/errors';

/** Every code a vault call can fail with: the protocol core's, the group core's (P19), the engine's, or Unknown. */
export type VaultErrorCode = ProtocolErrorCode | GroupErrorCode | EngineErrorCode | 'Unknown';

/** A structured-clone-safe error shape for crossing worker boundaries. */
export interface WireError {
  code: VaultErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function toWireError(e: unknown): WireError {
  if (isCodedError(e)) return { code: e.code as VaultErrorCode, message: e.message };
  // Unknown errors are reported without their text: it may quote internal state.
  return { code: 'Unknown', message: 'internal error' };
}

export async function toResult<T>(body: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (e) {
    return { ok: false, error: toWireError(e) };
  }
}

/** A vault failure as the UI sees it: a stable code plus a message without secrets. */
export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new VaultError(result.error.code, result.error.message);
}
