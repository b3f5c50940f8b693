/**
 * The real HostTransport (DESIGN.md §5) over the host's HTTP API and WebSocket
 * (src/lib/wire/host-api.ts, host-frames.ts).
 *
 * Auth: GET a fresh challenge, sign `hostAuthMessage(challenge, username)` with the identity key
 * (the signer stays in the worker), POST it for a short-lived bearer token; the WebSocket's first
 * frame carries the token. Envelopes go out as Send frames while the socket is up (socket-sends.ts),
 * else by HTTP POST. Any network failure, 5xx, rate limit or full mailbox is `Unavailable`
 * ("retry later"); NoSuchUser / UsernameTaken keep their codes; other refusals are InvalidArgument.
 * The socket reconnects with backoff until disconnect(). Knows nothing of sessions or storage.
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import { engineFail, isEngineError } from './errors';
import { answerJson, reachHost, readBody, refusalOf } from './host-fetch';
import { hostRefusal } from './host-refusal';
import { cuttableFetch } from './cut-off';
import { decodeBundle, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import { toBase64Url } from '../../src/lib/codec/base64url';
import {
  API,
  decodeBundleResponse,
  decodeChallengeResponse,
  decodeHostError,
  decodePreKeyCounts,
  decodeTokenResponse,
  decodeUsernameStatus,
  encodePreKeyUpload,
  encodeRegisterRequest,
  encodeLoginRequest,
  hostAuthMessage,
  HostLimits,
  type TokenResponse
} from '../../src/lib/wire/host-api';
import { decodeHostFrame, encodeClientFrame } from '../../src/lib/wire/host-frames';
import { SocketSends } from './socket-sends';
import { GROUP_API, MAX_GROUP_BLOB_BYTES, NEXT_WRITE_TOKEN_HEADER, WRITE_TOKEN_HEADER, encodeFanOut } from '../../src/lib/wire/group-api';
import {
  ACCOUNT_RECORD_PATH,
  MAX_SEALED_RECORD_BYTES,
  RECORD_KEY_HEADER,
  SIGNED_OUT_CLOSE_CODE,
  TAKEOVER_KEY_HEADER,
  decodeRealmTokenResponse,
  encodeRealmTokenRequest,
  encodeTakeoverRequest
} from '../../src/lib/wire/account-record-api';
import { REALM_TOKEN_LEN } from '../../src/lib/crypto/pin/realm-token';
import type { SignedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import type { HostAuth, HostTransport, InboxSink, PreKeyCounts, PreKeyUpload, Registration } from './transport';
import type { IceServers } from '../../src/lib/vault/views';
import { asUsername, type Username } from '../../src/lib/codec/username';
import type { SealedSenderTrust } from '../../src/lib/crypto/certificates';
import { SEALED_MULTI_PATH } from '../../src/lib/wire/sealed-multi-api';
import { DELIVERY_TOKEN_HEADER, SEALED_API, decodeCertificateResponse, decodeTrustResponse } from '../../src/lib/wire/sealed-api';
import { DISCOVERY_PATH, WORK_CHALLENGE_HEADER, WORK_PROOF_HEADER, decodeLookupAnswer, encodeWorkProof, lookupHashText, parseWorkChallenge, type LookupAnswer, type WorkChallenge } from '../../src/lib/wire/discovery-api';
import { solveLookupWork } from './lookup-work';

/** The part of the WebSocket API used here (browser WebSocket and the `ws` package both fit). */
export interface WsLike {
  binaryType: string;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
}
export type WsCtor = new (url: string) => WsLike;

const WS_OPEN = 1;
const MAX_BACKOFF_MS = 30_000;

/**
 * A refusal of something the user waits on (a lookup, creating the account) that says more than
 * "unreachable": the per-address limit (429, RateLimited) or "try again shortly" (503, HostBusy).
 * Automatic callers keep Unavailable, which they retry.
 */
function refusedWhileWaiting(status: number, what: string): void {
  if (status === 429) engineFail('RateLimited', `host answered 429 to ${what}`);
  if (status === 503) engineFail('HostBusy', `host answered 503 to ${what}`);
}

/** Renew a token this long before the host says it expires. */
const TOKEN_MARGIN_MS = 10_000;

export class HostHttpTransport implements HostTransport {
  private token?: { username: Username; value: TokenResponse };
  private ws?: WsLike;
  /** Whom the socket authenticated as, and whether the host has said Ready on it. */
  private wsUser?: string;
  private wsReady = false;
  private readonly sends = new SocketSends();
  private wanted = false;
  private backoff = 500;
  private timer?: ReturnType<typeof setTimeout>;
  /** Aborts every HTTP request in flight when the engine disconnects (see `disconnect`). */
  private readonly requests = cuttableFetch(() => this.fetchImpl);

  constructor(
    private readonly baseUrl: string,
    private readonly WebSocketImpl: WsCtor = (globalThis as unknown as { WebSocket: WsCtor }).WebSocket,
    private readonly fetchImpl: typeof fetch = (...a) => globalThis.fetch(...a)
  ) {}

  /**
   * One call; `userWaits` marks one the user made and waits on (a lookup, creating the account),
   * whose per-address refusal (429) is `RateLimited` for the screen to explain. Everywhere else it
   * stays `Unavailable`, which the outbox and the other automatic callers retry later.
   */
  private async request(path: string, init: RequestInit = {}, bearer?: string, userWaits = false): Promise<unknown> {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const res = await reachHost(this.requests.fetch, new URL(path, this.baseUrl), { ...init, headers });
    const body = await answerJson(res);
    if (userWaits) refusedWhileWaiting(res.status, path);
    if (!res.ok) throw hostRefusal(decodeHostError(body).code, res.status);
    return body;
  }

  private json(path: string, payload: unknown, bearer?: string, userWaits = false): Promise<unknown> {
    return this.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) }, bearer, userWaits);
  }

  private async signedChallenge(auth: HostAuth): Promise<{ username: Username; challenge: Uint8Array; signature: Uint8Array; device?: Uint8Array }> {
    const { challenge } = decodeChallengeResponse(await this.request(API.challenge));
    const login = { username: auth.username, challenge, signature: auth.sign(hostAuthMessage(challenge, auth.username)) };
    return auth.device ? { ...login, device: auth.device } : login;
  }

  private async bearer(auth: HostAuth): Promise<string> {
    const t = this.token;
    if (t && t.username === auth.username && t.value.expiresAt - TOKEN_MARGIN_MS > Date.now()) return toBase64Url(t.value.token);
    const value = decodeTokenResponse(await this.json(API.login, encodeLoginRequest(await this.signedChallenge(auth))));
    this.token = { username: auth.username, value };
    return toBase64Url(value.token);
  }

  /** One authenticated call; a rejected token is renewed once (it may have expired in between). */
  private async authed<T>(auth: HostAuth, call: (bearer: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.bearer(auth));
    } catch (e) {
      if (!isProtocolError(e, 'InvalidSignature')) throw e;
      this.token = undefined;
      return call(await this.bearer(auth));
    }
  }

  forget(): void {
    this.token = undefined;
  }

  async usernameAvailable(username: Username): Promise<boolean> {
    return decodeUsernameStatus(await this.request(API.usernames + encodeURIComponent(username))).available;
  }

  async register(auth: HostAuth, r: Registration): Promise<void> {
    const login = await this.signedChallenge(auth);
    const value = decodeTokenResponse(await this.json(API.accounts, encodeRegisterRequest({ ...login, ...r }), undefined, true));
    this.token = { username: auth.username, value };
  }

  async lookup(hash: Uint8Array): Promise<LookupAnswer> {
    // No bearer, ever: an anonymous request (no account, no token) is the point (P49). The host
    // rate-limits it per address (P40); past that it admits a lookup that brings a proof of work
    // (lookup-work.ts), solved here once; a refusal after that is the user's to wait out.
    const path = DISCOVERY_PATH + lookupHashText(hash);
    let res = await this.anonymousFetch(path);
    const challenge = res.status === 429 ? workChallengeOf(res) : undefined;
    if (challenge) {
      await answerJson(res);
      const nonce = await solveLookupWork(hash, challenge, () => crypto.getRandomValues(new Uint32Array(1))[0]!);
      if (nonce) res = await this.anonymousFetch(path, { headers: { [WORK_PROOF_HEADER]: encodeWorkProof({ slot: challenge.slot, nonce }) } });
    }
    const body = await answerJson(res);
    refusedWhileWaiting(res.status, 'a lookup');
    if (!res.ok) throw hostRefusal(decodeHostError(body).code, res.status);
    return decodeLookupAnswer(body);
  }

  async fetchBundle(auth: HostAuth, username: Username): Promise<PreKeyBundle> {
    const body = await this.authed(auth, (b) => this.request(API.bundles + encodeURIComponent(username), {}, b));
    return decodeBundle(decodeBundleResponse(body));
  }

  async preKeyCounts(auth: HostAuth): Promise<PreKeyCounts> {
    return decodePreKeyCounts(await this.authed(auth, (b) => this.request(API.prekeys, {}, b)));
  }

  async uploadPreKeys(auth: HostAuth, upload: PreKeyUpload): Promise<void> {
    await this.authed(auth, (b) => this.json(API.prekeys, encodePreKeyUpload(upload), b));
  }

  async send(auth: HostAuth, to: Username, body: Uint8Array): Promise<void> {
    // Refused here, not by the host: over the socket an oversized frame would close it every time.
    if (body.length > HostLimits.maxEnvelopeBytes) fail('InvalidArgument', `envelope of ${body.length} bytes exceeds ${HostLimits.maxEnvelopeBytes}`);
    // On a live socket a Send frame (answered after the host's commit) saves an HTTP request.
    const ws = this.ws;
    if (ws && this.wsReady && this.wsUser === auth.username && ws.readyState === WS_OPEN) return this.sends.send((f) => ws.send(f), to, body);
    await this.authed(auth, (b) =>
      this.request(API.messages + encodeURIComponent(to), { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: body as BodyInit }, b)
    );
  }

  async ack(auth: HostAuth, serverId: string): Promise<void> {
    const id = Number(serverId);
    if (!Number.isSafeInteger(id) || id < 0) fail('InvalidArgument', 'server id is not an integer');
    if (this.ws?.readyState === WS_OPEN) {
      this.ws.send(encodeClientFrame({ type: 'ack', ids: [id] }));
      return;
    }
    await this.authed(auth, (b) => this.json(API.acks, { ids: [id] }, b));
  }

  // ---- groups (README "Groups"; src/host/groups.ts) ----

  async groupSend(auth: HostAuth, to: readonly Username[], body: Uint8Array): Promise<void> {
    const upload = encodeFanOut({ to: [...to], body });
    await this.authed(auth, (b) => this.request(GROUP_API.messages, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: upload as BodyInit }, b));
  }

  // Group blobs carry no account (README "Groups"): the host cannot list who reads or writes a
  // group's state. No credentials either, so the browser keeps them off the account's connections.
  async putGroupBlob(address: Uint8Array, writeToken: Uint8Array, sealed: Uint8Array, nextToken?: Uint8Array): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', [WRITE_TOKEN_HEADER]: toBase64Url(writeToken) };
    if (nextToken) headers[NEXT_WRITE_TOKEN_HEADER] = toBase64Url(nextToken);
    const res = await this.anonymousFetch(GROUP_API.blobs + toBase64Url(address), { method: 'PUT', headers, body: sealed as BodyInit });
    if (!res.ok) throw await refusalOf(res);
    await answerJson(res);
  }

  async getGroupBlob(address: Uint8Array): Promise<Uint8Array | undefined> {
    const res = await this.anonymousFetch(GROUP_API.blobs + toBase64Url(address));
    if (res.status === 404) return undefined;
    if (res.ok) return readBody(res, MAX_GROUP_BLOB_BYTES, 'group state blob');
    throw await refusalOf(res);
  }

  /**
   * No bearer and credentials 'omit': the request names no account, and the browser keeps
   * uncredentialed requests on connections of their own (Chromium: tests/e2e/anonymous-
   * connections.spec.ts), so the host cannot pair it with the account's requests by socket
   * either (P41, P49). Timing and address remain.
   */
  anonymousFetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string> | undefined) };
    delete headers.Authorization;
    return reachHost(this.requests.fetch, new URL(path, this.baseUrl), { ...init, headers, credentials: 'omit', cache: 'no-store' });
  }

  async authedFetch(auth: HostAuth, path: string, init: RequestInit = {}): Promise<Response> {
    const go = async (): Promise<Response> => {
      const headers = { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${await this.bearer(auth)}` };
      return reachHost(this.requests.fetch, new URL(path, this.baseUrl), { ...init, headers, cache: 'no-store' });
    };
    const res = await go();
    if (res.status !== 401) return res;
    // The token may have expired in between: renewed once.
    this.token = undefined;
    return go();
  }

  // ---- account record and takeover (DESIGN.md §7; src/host/account-record.ts) ----

  private recordUrl(username: Username, suffix = ''): URL {
    return new URL(ACCOUNT_RECORD_PATH + encodeURIComponent(username) + suffix, this.baseUrl);
  }

  private async recordCall(username: Username, init: RequestInit, accessKey: Uint8Array, bearer?: string): Promise<Response> {
    const headers: Record<string, string> = { [RECORD_KEY_HEADER]: toBase64Url(accessKey), ...(init.headers as Record<string, string> | undefined) };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const res = await reachHost(this.requests.fetch, this.recordUrl(username), { ...init, headers });
    if (res.ok || res.status === 404) return res;
    throw await refusalOf(res);
  }

  async putAccountRecord(auth: HostAuth, accessKey: Uint8Array, sealed: Uint8Array, takeoverKey: Uint8Array): Promise<void> {
    await this.authed(auth, async (b) => {
      const headers = { 'Content-Type': 'application/octet-stream', [TAKEOVER_KEY_HEADER]: toBase64Url(takeoverKey) };
      const res = await this.recordCall(auth.username, { method: 'PUT', headers, body: sealed as BodyInit }, accessKey, b);
      if (!res.ok) fail('InvalidArgument', `host answered ${res.status} to the record upload`);
    });
  }

  async getAccountRecord(username: Username, accessKey: Uint8Array): Promise<Uint8Array | undefined> {
    const res = await this.recordCall(username, { method: 'GET' }, accessKey);
    return res.status === 404 ? undefined : readBody(res, MAX_SEALED_RECORD_BYTES, 'account record');
  }

  async deleteAccountRecord(auth: HostAuth, accessKey: Uint8Array): Promise<void> {
    await this.authed(auth, (b) => this.recordCall(auth.username, { method: 'DELETE' }, accessKey, b));
  }

  async takeover(auth: HostAuth, prekeys: PreKeyUpload & { signedPreKey: SignedPreKeyPublic }, prove: (challenge: Uint8Array) => Uint8Array): Promise<void> {
    const login = await this.signedChallenge(auth);
    const body = await this.request(this.recordUrl(auth.username, '/takeover').pathname, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(encodeTakeoverRequest({ login, prekeys, proof: prove(login.challenge) }))
    });
    this.token = { username: auth.username, value: decodeTokenResponse(body) };
  }

  async realmTokens(auth: HostAuth, realmIds: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const body = await this.authed(auth, (b) =>
      this.request(this.recordUrl(auth.username, '/realm-tokens').pathname, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(encodeRealmTokenRequest(realmIds))
      }, b)
    );
    return decodeRealmTokenResponse(body, realmIds.length, REALM_TOKEN_LEN);
  }

  /** GET /api/v1/calls/ice (src/host/calls): shape-checked, since it feeds RTCPeerConnection. */
  async iceServers(auth: HostAuth): Promise<IceServers> {
    const body = (await this.authed(auth, (b) => this.request('/api/v1/calls/ice', {}, b))) as Partial<IceServers> | undefined;
    const list = Array.isArray(body?.iceServers) ? body.iceServers : [];
    const iceServers = list.filter((s) => {
      const urls = Array.isArray(s?.urls) ? s.urls : [s?.urls];
      return urls.length > 0 && urls.every((u) => typeof u === 'string' && /^(stuns?|turns?):/.test(u));
    });
    return { iceServers, expiresAt: typeof body?.expiresAt === 'number' ? body.expiresAt : null };
  }

  // ---- sealed sender (P41; src/host/sealed.ts) ----

  async sealedTrust(): Promise<SealedSenderTrust> {
    return decodeTrustResponse(await this.request(SEALED_API.trust));
  }

  async senderCertificate(auth: HostAuth): Promise<Uint8Array> {
    return decodeCertificateResponse(await this.authed(auth, (b) => this.request(SEALED_API.certificate, {}, b)));
  }

  async putSealedAccess(auth: HostAuth, access: Uint8Array): Promise<void> {
    await this.authed(auth, (b) =>
      this.request(SEALED_API.access, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: access as BodyInit }, b)
    );
  }

  /** No bearer, no cookie (credentials 'omit'): the request names nobody but the recipient. */
  async sendSealed(to: Username, body: Uint8Array, token: Uint8Array | undefined): Promise<void> {
    if (body.length > HostLimits.maxEnvelopeBytes) fail('InvalidArgument', `envelope of ${body.length} bytes exceeds ${HostLimits.maxEnvelopeBytes}`);
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (token) headers[DELIVERY_TOKEN_HEADER] = toBase64Url(token);
    await this.request(SEALED_API.messages + encodeURIComponent(to), { method: 'POST', headers, body: body as BodyInit, credentials: 'omit' });
  }

  async sendSealedMulti(upload: Uint8Array): Promise<void> {
    await this.request(SEALED_MULTI_PATH, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: upload as BodyInit, credentials: 'omit' });
  }

  connect(auth: HostAuth, sink: InboxSink): void {
    this.wanted = true;
    clearTimeout(this.timer);
    void this.open(auth, sink);
  }

  disconnect(): void {
    this.wanted = false;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    this.wsReady = false;
    this.sends.failAll();
    ws?.close();
    // P46: a lock (and sign-out) disconnects first, then drops the keys once the engine's serial
    // work is done. A request the host never answers would hold that work, and so the keys,
    // for as long as it liked: every request still waiting fails now (Unavailable; the outbox
    // keeps what it was sending).
    this.requests.cut();
  }

  private async open(auth: HostAuth, sink: InboxSink): Promise<void> {
    sink.state('connecting');
    let token: Uint8Array;
    try {
      await this.bearer(auth);
      token = this.token!.value.token;
    } catch (e) {
      if (isEngineError(e, 'SignedOut')) {
        // Restored on another browser while this one was away: stop, never retry.
        this.wanted = false;
        sink.state('offline');
        sink.signedOut?.();
        return;
      }
      this.retry(auth, sink);
      return;
    }
    if (!this.wanted) return;
    const url = new URL(API.ws, this.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new this.WebSocketImpl(url.toString());
    this.ws = ws;
    this.wsUser = auth.username;
    this.wsReady = false;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(encodeClientFrame({ type: 'auth', token }));
    ws.onmessage = (ev) => this.onFrame(ev.data, sink);
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.wsReady = false;
      this.sends.failAll();
      sink.state('offline');
      if ((ev as { code?: number } | undefined)?.code === SIGNED_OUT_CLOSE_CODE) {
        // Another browser restored this account: never reconnect (our tokens are revoked anyway).
        this.wanted = false;
        this.token = undefined;
        sink.signedOut?.();
        return;
      }
      this.retry(auth, sink);
    };
  }

  private onFrame(data: unknown, sink: InboxSink): void {
    if (!(data instanceof ArrayBuffer)) return;
    let f;
    try {
      f = decodeHostFrame(new Uint8Array(data));
    } catch {
      return; // a malformed frame is ignored; the envelope is redelivered later
    }
    if (this.sends.onFrame(f)) return;
    if (f.type === 'ready') {
      this.backoff = 500;
      this.wsReady = true;
      sink.state('online');
    } else if (f.type === 'envelope' && f.sender === '') {
      sink.envelope({ serverId: String(f.serverId), sealed: true, body: f.body, receivedAt: f.receivedAt });
    } else if (f.type === 'envelope') {
      sink.envelope({ serverId: String(f.serverId), sender: asUsername(f.sender, 'DecodeFailed'), body: f.body, receivedAt: f.receivedAt });
    } else if (f.type === 'error' && f.reqId === 0) {
      // Connection-level refusal (e.g. expired token): drop the token, the close handler retries.
      this.token = undefined;
    }
  }

  private retry(auth: HostAuth, sink: InboxSink): void {
    if (!this.wanted) return;
    sink.state('offline');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(auth, sink), this.backoff);
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
  }
}

/** The work challenge beside a 429, or undefined when there is none or it does not parse. */
function workChallengeOf(res: Response): WorkChallenge | undefined {
  const text = res.headers.get(WORK_CHALLENGE_HEADER);
  if (text === null) return undefined;
  try {
    return parseWorkChallenge(text);
  } catch {
    return undefined;
  }
}
