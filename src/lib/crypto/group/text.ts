/**
 * Bounded UTF-8 text fields (group name and description), strict both ways: a string that is not
 * well-formed UTF-16 (a lone surrogate would silently become U+FFFD and change the state's hash
 * between author and reader), or is longer than its bound in UTF-8 bytes, is refused; decoding
 * refuses invalid UTF-8. Knows nothing of groups.
 */
import { fail } from '../../codec/errors';
import type { ByteReader, ByteWriter } from '../../codec/bytes';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The UTF-8 bytes of `s`, or InvalidArgument naming `what` and the sizes. */
export function textBytes(what: string, s: string, maxBytes: number): Uint8Array {
  if (typeof s !== 'string') fail('InvalidArgument', `${what}: not a string`);
  const b = encoder.encode(s);
  if (b.length > maxBytes) fail('InvalidArgument', `${what}: ${b.length} bytes exceed ${maxBytes}`);
  // Round trip: a lone surrogate encodes as U+FFFD and would not come back as written.
  if (decoder.decode(b) !== s) fail('InvalidArgument', `${what}: not well-formed Unicode`);
  return b;
}

export function writeText(w: ByteWriter, what: string, s: string, maxBytes: number): ByteWriter {
  return w.bytes16(textBytes(what, s, maxBytes));
}

export function readText(r: ByteReader, what: string, maxBytes: number): string {
  const b = r.bytes16(maxBytes);
  try {
    return decoder.decode(b);
  } catch {
    return fail('DecodeFailed', `${what}: ${b.length} bytes of invalid UTF-8`);
  }
}
