/**
 * A protocol address: (username, device) (DESIGN.md §4 "Addresses"). Every group structure names
 * people by address, never by username alone, so linked devices can land without a format
 * change; until then every account is device 1.
 *
 *   address = u8 length || username (ASCII, canonical) || u32 device (1..2^32-1)
 *
 * Owns the address type, its order (username bytes, then device: the canonical order of member
 * lists, so a state has exactly one encoding) and its codec. Knows nothing of groups or keys.
 */
import { fail } from '../../codec/errors';
import type { ByteReader, ByteWriter } from '../../codec/bytes';
import { asUsername, readUsername, writeUsername, type Username } from '../../codec/username';

export interface Address {
  readonly username: Username;
  readonly device: number;
}

/** The only device until linked devices exist. */
export const DEFAULT_DEVICE = 1;
const MAX_DEVICE = 0xffff_ffff;

/** An address from parts that must already be canonical (throws InvalidArgument otherwise). */
export function address(username: string, device: number = DEFAULT_DEVICE): Address {
  if (!Number.isInteger(device) || device < 1 || device > MAX_DEVICE) fail('InvalidArgument', `device ${device} outside 1..${MAX_DEVICE}`);
  return { username: asUsername(username), device };
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.username === b.username && a.device === b.device;
}

/** Total order: username (ASCII, so code-unit order is byte order), then device. */
export function compareAddress(a: Address, b: Address): number {
  if (a.username !== b.username) return a.username < b.username ? -1 : 1;
  return a.device - b.device;
}

/** A map key for an address ("alice:1"; cannot collide, usernames never contain ":"). */
export function addressKey(a: Address): string {
  return `${a.username}:${a.device}`;
}

export function writeAddress(w: ByteWriter, a: Address): ByteWriter {
  if (!Number.isInteger(a.device) || a.device < 1 || a.device > MAX_DEVICE) fail('InvalidArgument', `device ${a.device} outside 1..${MAX_DEVICE}`);
  return writeUsername(w, a.username).u32(a.device);
}

export function readAddress(r: ByteReader): Address {
  const username = readUsername(r);
  const device = r.u32();
  if (device < 1) fail('DecodeFailed', 'address: device 0');
  return { username, device };
}
