/**
 * HTTP calls on the host's side stores (group state blobs, private discovery), shared by the host
 * tests that use them on one instance or across instances.
 */
import { toBase64Url } from '../../src/lib/codec/base64url';
import { initSodium } from '../../src/lib/crypto/sodium';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { DISCOVERY_PATH, lookupHashText } from '../../src/lib/wire/discovery-api';
import { GROUP_API, NEXT_WRITE_TOKEN_HEADER, WRITE_TOKEN_HEADER } from '../../src/lib/wire/group-api';

/** A group blob write as the vault makes it: no account, the write token only. */
export async function putBlob(url: string, address: Uint8Array, token: Uint8Array, blob: Uint8Array, next?: Uint8Array | string): Promise<number> {
  const headers: Record<string, string> = { [WRITE_TOKEN_HEADER]: toBase64Url(token) };
  if (next !== undefined) headers[NEXT_WRITE_TOKEN_HEADER] = typeof next === 'string' ? next : toBase64Url(next);
  return (await fetch(url + GROUP_API.blobs + toBase64Url(address), { method: 'PUT', headers, body: blob as BodyInit })).status;
}

/** A group blob read as the vault makes it: no account. */
export async function getBlob(url: string, address: Uint8Array): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(url + GROUP_API.blobs + toBase64Url(address));
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

export async function lookup(url: string, name: string): Promise<{ status: number; body: unknown }> {
  await initSodium();
  const res = await fetch(url + DISCOVERY_PATH + lookupHashText(usernameLookupHash(name)));
  return { status: res.status, body: await res.json() };
}
