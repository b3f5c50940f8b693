/**
 * The Result envelope for every vault API method.
 *
 * Comlink clones thrown errors without their `code`, so nothing may throw across the worker
 * boundary: each method body runs inside `toResult`, which turns a ProtocolError into
 * `{ ok: false, error: { code, message } }` and hides the text of anything else (it may quote
 * internal state). Knows nothing of what the methods do.
 */
import { toWireError, type Result } from '../../src/lib/crypto/errors';

export async function toResult<T>(body: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (e) {
    return { ok: false, error: toWireError(e) };
  }
}
