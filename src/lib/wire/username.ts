/**
 * The canonical username (DESIGN.md §4 "Identity"), shared by the client and the host so both
 * agree byte-for-byte on which name is which: NFKC, then lowercase, then 3–32 chars of
 * [a-z0-9_.]. NFKC runs first so full-width and compatibility forms ("ＡＬＩＣＥ") fold to the
 * same name as their ASCII spelling; anything still outside the alphabet is refused, never
 * silently stripped. Knows nothing of accounts or storage.
 */
import { ProtocolError } from '../crypto/errors';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const USERNAME_RE = /^[a-z0-9_.]{3,32}$/;
/** Bound on raw input before normalisation, so a huge string costs nothing to refuse. */
const RAW_MAX = 256;

/** The canonical form of `raw`, or a ProtocolError (InvalidArgument) saying why it is refused. */
export function canonicalUsername(raw: string): string | ProtocolError {
  if (typeof raw !== 'string') return new ProtocolError('InvalidArgument', 'username must be a string');
  if (raw.length > RAW_MAX) return new ProtocolError('InvalidArgument', `username of ${raw.length} chars exceeds ${USERNAME_MAX}`);
  const c = raw.normalize('NFKC').toLowerCase();
  if (c.length < USERNAME_MIN || c.length > USERNAME_MAX) {
    return new ProtocolError('InvalidArgument', `username must be ${USERNAME_MIN}-${USERNAME_MAX} characters, got ${c.length}`);
  }
  if (!USERNAME_RE.test(c)) return new ProtocolError('InvalidArgument', 'username may only contain a-z, 0-9, "_" and "."');
  return c;
}

/** True if `name` is already canonical (what every wire decoder requires). */
export function isCanonicalUsername(name: unknown): name is string {
  return typeof name === 'string' && USERNAME_RE.test(name);
}
