// What a call threw, as a test compares it: a ProtocolError's code, 'ok' when nothing was
// thrown, anything else named as not a ProtocolError (so a TypeError never passes as a code).
import { isProtocolError } from '../../src/lib/codec/errors';

export function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
}
