/**
 * SECURITY.md P43 on the host: profile blobs are opaque ciphertext at addresses the host cannot
 * tie to a username; writes need the owner's token; a rotated-away blob leaves no bytes behind;
 * reads and writes are rate-limited per address. A real host on a temp SQLite directory.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { generateProfileKey, openProfile, profileWriteToken, sealProfile } from '../../src/lib/crypto/profile';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { PROFILE_PATH, PROFILE_WRITE_HEADER, profileAddressText } from '../../src/lib/wire/profile-api';
import { scanDataDir } from '../support/scan-data-dir';
import { startHost } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const NAME = 'Zebulon Q. Marker-Name';
const ABOUT = 'about-marker: lives by the lighthouse';
const AVATAR = new Uint8Array(20_000).map((_, i) => (i * 7 + 3) & 0xff);

function owner(username = 'alice') {
  const identity = generateIdentity(systemDeps);
  const key = generateProfileKey(systemDeps);
  const sealed = sealProfile({ profile: { displayName: NAME, about: ABOUT, avatar: AVATAR }, profileKey: key, username }, systemDeps);
  return { identity, key, username, ...sealed, token: profileWriteToken(identity, sealed.address) };
}

async function put(url: string, address: Uint8Array, blob: Uint8Array, token?: Uint8Array): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (token) headers[PROFILE_WRITE_HEADER] = toBase64Url(token);
  return (await fetch(url + PROFILE_PATH + profileAddressText(address), { method: 'PUT', headers, body: new Uint8Array(blob) })).status;
}

async function del(url: string, address: Uint8Array, token: Uint8Array): Promise<number> {
  return (await fetch(url + PROFILE_PATH + profileAddressText(address), { method: 'DELETE', headers: { [PROFILE_WRITE_HEADER]: toBase64Url(token) } })).status;
}

async function get(url: string, address: Uint8Array): Promise<{ status: number; blob: Uint8Array }> {
  const res = await fetch(url + PROFILE_PATH + profileAddressText(address));
  return { status: res.status, blob: new Uint8Array(await res.arrayBuffer()) };
}

describe('profile blobs on the host (P43)', () => {
  test('P43 a profile is unreadable from a host dump: no display name, about or avatar bytes, no username; the blob is there', async () => {
    host = await startHost();
    const a = owner('alice');
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(200);
    const got = await get(host.url, a.address);
    expect(got.status).toBe(200);
    expect(openProfile({ blob: got.blob, profileKey: a.key, username: 'alice' }).displayName).toBe(NAME);
    const hits = scanDataDir(host.dataDir, {
      blob: a.blob.slice(100, 164),
      name: NAME,
      about: ABOUT,
      avatar: AVATAR.slice(5000, 5064),
      username: 'alice',
      profileKey: a.key,
      writeToken: a.token
    });
    expect(hits.some((h) => h.needle === 'blob')).toBe(true);
    expect(hits.filter((h) => h.needle !== 'blob')).toEqual([]);
  });

  test('P43 only the write token of the first upload replaces or deletes a blob; anyone with the address reads it', async () => {
    host = await startHost();
    const a = owner();
    expect(await put(host.url, a.address, a.blob)).toBe(401);
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(200);
    const other = owner();
    const forged = profileWriteToken(other.identity, a.address);
    expect(await put(host.url, a.address, other.blob, forged)).toBe(403);
    expect(await del(host.url, a.address, forged)).toBe(403);
    expect((await get(host.url, a.address)).blob).toEqual(a.blob);
    expect(await del(host.url, a.address, a.token)).toBe(200);
    expect((await get(host.url, a.address)).status).toBe(404);
  });

  test('P43 a rotated-away (deleted) blob leaves no bytes in any host file', async () => {
    host = await startHost();
    const a = owner();
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(200);
    const needle = { oldBlob: a.blob.slice(200, 264) };
    expect(scanDataDir(host.dataDir, needle).length).toBeGreaterThan(0);
    expect(await del(host.url, a.address, a.token)).toBe(200);
    expect(scanDataDir(host.dataDir, needle)).toEqual([]);
  });

  test('P43 malformed addresses and blobs that are not a padded bucket are refused and store nothing', async () => {
    host = await startHost();
    const a = owner();
    expect((await fetch(host.url + PROFILE_PATH + 'short')).status).toBe(400);
    expect((await fetch(host.url + PROFILE_PATH + profileAddressText(a.address) + 'AA')).status).toBe(400);
    expect(await put(host.url, a.address, a.blob.slice(0, a.blob.length - 1), a.token)).toBe(400);
    expect((await get(host.url, a.address)).status).toBe(404);
  });

  test('P40 profile reads and writes are rate-limited per client address', async () => {
    host = await startHost({ limits: { profileReadPerIp: { max: 3, windowMs: 60_000 }, profileWritePerIp: { max: 2, windowMs: 60_000 } } });
    const a = owner();
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(200);
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(200);
    expect(await put(host.url, a.address, a.blob, a.token)).toBe(429);
    for (let i = 0; i < 3; i++) expect((await get(host.url, a.address)).status).toBe(200);
    const res = await fetch(host.url + PROFILE_PATH + profileAddressText(a.address));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
