/**
 * HTTP transport to PIN-recovery realms (DESIGN.md §7): one binary POST per request, one binary
 * response, decoded strictly (`src/lib/wire/realm-api.ts`). `fetch` is injected so the worker
 * uses the platform's and tests talk to real realms on loopback.
 *
 * A realm that is unreachable, times out, or answers bytes that do not decode is reported as
 * `undefined` — to the recovery logic it is simply not there; nothing a realm says is trusted
 * beyond what the protocol can verify. No request or response bytes are logged.
 */
import { decodeRealmResponse, encodeRealmRequest, MAX_RESPONSE_LEN, type RealmRequest, type RealmResponse } from '../../../src/lib/wire/realm-api';
import { readBody } from '../host-fetch';

export interface RealmEndpoint {
  /** 16-byte id pinned in the build configuration. */
  id: Uint8Array;
  url: string;
  /** The configured name, to tell the user which realm misbehaved (P38). */
  name?: string;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export const REALM_TIMEOUT_MS = 10_000;

/** Sends one request; undefined when the realm cannot be reached or answers garbage. */
export async function callRealm(realm: RealmEndpoint, request: RealmRequest, fetchFn: FetchLike, timeoutMs = REALM_TIMEOUT_MS): Promise<RealmResponse | undefined> {
  try {
    const res = await fetchFn(realm.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: encodeRealmRequest(request) as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(timeoutMs),
      cache: 'no-store',
      credentials: 'omit'
    });
    // A realm is an operator of its own: its answer is read up to the longest a realm sends.
    const body = await readBody(res, MAX_RESPONSE_LEN, 'realm response');
    const response = decodeRealmResponse(body);
    // The response must answer the op we asked, or the realm's refusal before decoding it.
    return response.op === request.op || response.op === 'none' ? response : undefined;
  } catch {
    return undefined;
  }
}

/** Calls every realm for which `build` returns a request, in parallel; index-aligned results. */
export function callRealms(
  realms: readonly RealmEndpoint[],
  build: (realm: RealmEndpoint, i: number) => RealmRequest | undefined,
  fetchFn: FetchLike,
  timeoutMs?: number
): Promise<(RealmResponse | undefined)[]> {
  return Promise.all(
    realms.map((realm, i) => {
      const request = build(realm, i);
      return request ? callRealm(realm, request, fetchFn, timeoutMs) : Promise.resolve(undefined);
    })
  );
}
