/**
 * How the engine reaches owner-written blobs on the host: profiles (SECURITY.md P43; routes in
 * src/lib/wire/profile-api.ts) and encrypted username links (username-link-api.ts). Separate from HostTransport on purpose: these requests carry no
 * bearer token or username, so the host cannot tie a blob to the account that fetched or wrote it
 * by credentials (only by timing and connection). `httpProfiles` is the app's; `memoryProfiles`
 * backs engine tests with the same write-token rule as the host. Knows nothing of sessions.
 */
import { toBase64Url } from '../../src/lib/codec/base64url';
import { toHex } from '../../src/lib/codec/bytes';
import { MAX_PROFILE_BLOB_LEN, mayWriteProfile, profileWriteVerifier } from '../../src/lib/crypto/profile';
import { USERNAME_LINK_BLOB_LEN } from '../../src/lib/crypto/username-link';
import { PROFILE_PATH, PROFILE_WRITE_HEADER, profileAddressText } from '../../src/lib/wire/profile-api';
import { USERNAME_LINK_PATH, USERNAME_LINK_WRITE_HEADER, linkIdText } from '../../src/lib/wire/username-link-api';
import { cuttableFetch } from './cut-off';
import { reachHost, readBody, refusalOf } from './host-fetch';
import { hostRefusal } from './host-refusal';

export interface ProfileTransport {
  /** The blob at `address`, or undefined when there is none. */
  get(address: Uint8Array): Promise<Uint8Array | undefined>;
  /** Creates or replaces the blob; the first write fixes the token (P43). */
  put(address: Uint8Array, blob: Uint8Array, token: Uint8Array): Promise<void>;
  remove(address: Uint8Array, token: Uint8Array): Promise<void>;
  /** Fails every request still waiting for the host, as a lock must (P46; cut-off.ts). */
  cut(): void;
}

export function httpProfiles(baseUrl: string, fetchImpl: typeof fetch = (...a) => globalThis.fetch(...a)): ProfileTransport {
  return httpOwnedBlobs(baseUrl, PROFILE_PATH, PROFILE_WRITE_HEADER, profileAddressText, MAX_PROFILE_BLOB_LEN, fetchImpl);
}

/** Encrypted username links (username-link.ts): the same owner-written blob rules at their route. */
export function httpUsernameLinks(baseUrl: string, fetchImpl: typeof fetch = (...a) => globalThis.fetch(...a)): ProfileTransport {
  return httpOwnedBlobs(baseUrl, USERNAME_LINK_PATH, USERNAME_LINK_WRITE_HEADER, linkIdText, USERNAME_LINK_BLOB_LEN, fetchImpl);
}

/** `maxBlob`: the largest blob of that kind; a longer answer is refused unread (host-fetch.ts `readBody`). */
function httpOwnedBlobs(baseUrl: string, path: string, header: string, addressText: (a: Uint8Array) => string, maxBlob: number, fetchImpl: typeof fetch): ProfileTransport {
  const requests = cuttableFetch(() => fetchImpl);
  async function go(address: Uint8Array, init: RequestInit): Promise<Response | undefined> {
    const res = await reachHost(requests.fetch, new URL(path + addressText(address), baseUrl), { ...init, credentials: 'omit', cache: 'no-store' });
    if (res.status === 404 && init.method === 'GET') return undefined;
    if (!res.ok) throw await refusalOf(res);
    return res;
  }
  return {
    async get(address) {
      const res = await go(address, { method: 'GET' });
      return res ? readBody(res, maxBlob, path) : undefined;
    },
    async put(address, blob, token) {
      await go(address, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', [header]: toBase64Url(token) }, body: new Uint8Array(blob) });
    },
    async remove(address, token) {
      await go(address, { method: 'DELETE', headers: { [header]: toBase64Url(token) } });
    },
    cut: () => requests.cut()
  };
}

/** In memory, same rule as the host: the first token's verifier guards later writes. */
export function memoryProfiles(): ProfileTransport & { blobs: Map<string, { verifier: Uint8Array; blob: Uint8Array }> } {
  const blobs = new Map<string, { verifier: Uint8Array; blob: Uint8Array }>();
  return {
    blobs,
    async get(address) {
      return blobs.get(toHex(address))?.blob.slice();
    },
    async put(address, blob, token) {
      const have = blobs.get(toHex(address));
      if (have && !mayWriteProfile(have.verifier, token)) throw hostRefusal('Unauthorized', 403);
      blobs.set(toHex(address), { verifier: profileWriteVerifier(token), blob: blob.slice() });
    },
    async remove(address, token) {
      const have = blobs.get(toHex(address));
      if (!have) return;
      if (!mayWriteProfile(have.verifier, token)) throw hostRefusal('Unauthorized', 403);
      blobs.delete(toHex(address));
    },
    // Nothing here waits on a host.
    cut() {}
  };
}
