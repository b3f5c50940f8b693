/**
 * The host's group endpoints (README "Groups"): routes, limits and the fan-out upload's format.
 *
 *   POST /api/v1/groups/messages (bearer, binary):  u16 n (1..MAX_FANOUT) || n x (u8 len || username)
 *        || group message (type 0x03, crypto/group/sender-key-message.ts)   -> { stored: n }
 *     ONE upload for the whole group; the host stores the message in each listed mailbox.
 *   PUT  /api/v1/groups/blobs/<address, 43 base64url chars> (bearer, binary sealed blob,
 *        header X-Parley-Write-Token: 43 base64url chars)                     -> { stored: true }
 *   GET  /api/v1/groups/blobs/<address> (bearer)                              -> binary blob | 404
 *     The first PUT fixes SHA-256 of the write token; later PUTs must present the same token
 *     (only master-key holders can derive it). The host sees an address and a padded size only.
 *
 * Usernames must be canonical and distinct: a malformed list is refused whole, nothing stored.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { isUsername, type Username } from '../codec/username';

export const GROUP_API = {
  messages: '/api/v1/groups/messages',
  blobs: '/api/v1/groups/blobs/'
} as const;

export const WRITE_TOKEN_HEADER = 'x-parley-write-token';
/**
 * Optional on a PUT: the token the address demands from then on (its SHA-256 replaces the stored
 * one in the same write). A key handoff passes the old address to the new key with it.
 */
export const NEXT_WRITE_TOKEN_HEADER = 'x-parley-next-write-token';
/** As the group core's MAX_MEMBERS: a group has at most 1000 members, so 999 recipients. */
export const MAX_FANOUT = 1000;
/** A group message: a text of at most 80 KiB padded, plus header and signature. */
export const MAX_GROUP_MESSAGE_BYTES = 96 * 1024;
/** The state blob's largest bucket (crypto/group/state-blob.ts) plus its header and tag. */
export const MAX_GROUP_BLOB_BYTES = 4 * 1024 * 1024 + 1024;
export const BLOB_ADDRESS_BYTES = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface FanOut {
  to: Username[];
  body: Uint8Array;
}

export function encodeFanOut(f: FanOut): Uint8Array {
  if (f.to.length < 1 || f.to.length > MAX_FANOUT) fail('InvalidArgument', `fan-out to ${f.to.length} members, expected 1..${MAX_FANOUT}`);
  const w = new ByteWriter().u16(f.to.length);
  for (const u of f.to) {
    const b = encoder.encode(u);
    w.u8(b.length).raw(b);
  }
  return w.raw(f.body).finish();
}

export function decodeFanOut(bytes: Uint8Array): FanOut {
  const r = new ByteReader(bytes, 'fan-out');
  const n = r.u16();
  if (n < 1 || n > MAX_FANOUT) fail('DecodeFailed', `fan-out to ${n} members, expected 1..${MAX_FANOUT}`);
  const to: Username[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const len = r.u8();
    let name: string;
    try {
      name = decoder.decode(r.fixed(len));
    } catch {
      fail('DecodeFailed', `fan-out recipient ${i} is not UTF-8`);
    }
    if (!isUsername(name)) fail('DecodeFailed', `fan-out recipient ${i} is not a canonical username`);
    if (seen.has(name)) fail('DecodeFailed', `fan-out recipient ${i} is listed twice`);
    seen.add(name);
    to.push(name);
  }
  const body = r.rest().slice();
  if (body.length < 1 || body.length > MAX_GROUP_MESSAGE_BYTES) fail('DecodeFailed', `group message of ${body.length} bytes`);
  return { to, body };
}
