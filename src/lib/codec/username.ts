/**
 * The username (DESIGN.md §4 "Identity"): the one place its rule is written, shared by the
 * client, the worker and the host so all agree byte-for-byte on which name is which.
 *
 * Rule: NFKC, then lowercase, then 3–32 chars of [a-z0-9_.]. NFKC runs first so full-width and
 * compatibility forms ("ＡＬＩＣＥ") fold to the same name as their ASCII spelling; anything still
 * outside the alphabet is refused, never silently stripped.
 *
 * `Username` is a branded string: the only ways to make one are `canonicalUsername` (user input)
 * and `asUsername` / `readUsername` (a value that must already be canonical, e.g. off the wire).
 * Everywhere a person is meant, the type says so. Imports nothing of ours but the error type.
 */
import { ProtocolError, fail } from './errors';
import type { ByteReader, ByteWriter } from './bytes';

declare const usernameBrand: unique symbol;
/** A canonical username; see the module header for how one is made. */
export type Username = string & { readonly [usernameBrand]: true };

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const USERNAME_RE = /^[a-z0-9_.]{3,32}$/;
/** Bound on raw input before normalisation, so a huge string costs nothing to refuse. */
const RAW_MAX = 256;

/** The canonical form of `raw`, or a ProtocolError (InvalidArgument) saying why it is refused. */
export function canonicalUsername(raw: string): Username | ProtocolError {
  if (typeof raw !== 'string') return new ProtocolError('InvalidArgument', 'username must be a string');
  if (raw.length > RAW_MAX) return new ProtocolError('InvalidArgument', `username of ${raw.length} chars exceeds ${USERNAME_MAX}`);
  const c = raw.normalize('NFKC').toLowerCase();
  if (c.length < USERNAME_MIN || c.length > USERNAME_MAX) {
    return new ProtocolError('InvalidArgument', `username must be ${USERNAME_MIN}-${USERNAME_MAX} characters, got ${c.length}`);
  }
  if (!USERNAME_RE.test(c)) return new ProtocolError('InvalidArgument', 'username may only contain a-z, 0-9, "_" and "."');
  return c as Username;
}

/** True if `name` is already canonical (what every decoder requires). */
export function isUsername(name: unknown): name is Username {
  return typeof name === 'string' && USERNAME_RE.test(name);
}

/** `name` as a Username if it is already canonical; otherwise throws `code` (no folding happens here). */
export function asUsername(name: unknown, code: 'InvalidArgument' | 'DecodeFailed' = 'InvalidArgument'): Username {
  if (!isUsername(name)) {
    const n = typeof name === 'string' ? name.length : -1;
    fail(code, `username of length ${n} is not ${USERNAME_MIN}-${USERNAME_MAX} chars of [a-z0-9_.]`);
  }
  return name;
}

/** Layout: u8 length || ASCII bytes (canonical usernames are ASCII). */
export function writeUsername(w: ByteWriter, username: string): ByteWriter {
  return writeCanonicalUsername(w, asUsername(username));
}

/** `writeUsername` for a name already made a Username (the brand is the proof): no second check. */
export function writeCanonicalUsername(w: ByteWriter, u: Username): ByteWriter {
  // Canonical usernames are ASCII, one byte per character.
  return w.u8(u.length).ascii(u);
}

export function readUsername(r: ByteReader): Username {
  const n = r.u8();
  const bytes = r.fixed(n);
  // Canonical usernames are ASCII: any other byte is refused before decoding.
  for (const b of bytes) if (b > 0x7f) fail('DecodeFailed', `username of ${n} bytes is not ASCII`);
  const s = String.fromCharCode(...bytes);
  if (!isUsername(s)) fail('DecodeFailed', `username of ${n} bytes is malformed`);
  return s;
}
