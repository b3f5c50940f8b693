/**
 * Authentication by signature over a fresh host challenge: single use, expiry, wrong signatures
 * refused, tokens accepted on HTTP and as the WebSocket's first frame, only token hashes stored.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { API, decodeTokenResponse, encodeLoginRequest, hostAuthMessage } from '../../src/lib/wire/host-api';
import { scanDataDir } from '../support/scan-data-dir';
import { WsClient, call, challenge, hostNames, login, registerUser, startHost } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe('challenge login', () => {
  test('a signed challenge yields a token that works; the same challenge cannot be used twice', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const ch = await challenge(host.url);
    const signature = ed25519Sign(alice.identity.signing.privateKey, hostAuthMessage(ch, 'alice'));
    const body = encodeLoginRequest({ username: 'alice', challenge: ch, signature });
    const first = await call(host.url, API.login, { json: body });
    expect(first.status).toBe(200);
    const token = decodeTokenResponse(first.json).token;
    expect((await call(host.url, API.prekeys, { token })).status).toBe(200);
    const replay = await call(host.url, API.login, { json: body });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe('Unauthorized');
  });

  test('a signature by another key, or over another username, is refused and burns the challenge', async () => {
    host = await startHost();
    await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const mallory = generateIdentity(systemDeps);
    expect((await login(host.url, 'alice', mallory)).status).toBe(401);
    // Bob signs for his own name but claims to be alice.
    const ch = await challenge(host.url);
    const sig = ed25519Sign(bob.identity.signing.privateKey, hostAuthMessage(ch, 'bob'));
    const r = await call(host.url, API.login, { json: encodeLoginRequest({ username: 'alice', challenge: ch, signature: sig }) });
    expect(r.status).toBe(401);
    // Even bob's correct signature fails now: the challenge was consumed by the refused attempt.
    const good = ed25519Sign(bob.identity.signing.privateKey, hostAuthMessage(ch, 'bob'));
    expect((await call(host.url, API.login, { json: encodeLoginRequest({ username: 'bob', challenge: ch, signature: good }) })).status).toBe(401);
  });

  test('an expired challenge is refused; an unknown user gets NoSuchUser', async () => {
    let now = 1_800_000_000_000;
    host = await startHost({ clock: () => now, limits: { challengeTtlMs: 1000 } });
    const alice = await registerUser(host.url, 'alice');
    const ch = await challenge(host.url);
    now += 1001;
    const sig = ed25519Sign(alice.identity.signing.privateKey, hostAuthMessage(ch, 'alice'));
    expect((await call(host.url, API.login, { json: encodeLoginRequest({ username: 'alice', challenge: ch, signature: sig }) })).status).toBe(401);
    const r = await login(host.url, 'nobody', alice.identity);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('NoSuchUser');
  });

  test('tokens expire', async () => {
    let now = 1_800_000_000_000;
    host = await startHost({ clock: () => now, limits: { tokenTtlMs: 5000 } });
    const alice = await registerUser(host.url, 'alice');
    expect((await call(host.url, API.prekeys, { token: alice.token })).status).toBe(200);
    now += 5001;
    expect((await call(host.url, API.prekeys, { token: alice.token })).status).toBe(401);
  });
});

describe('WebSocket auth', () => {
  test('the first frame must carry a live token; otherwise an Unauthorized error and close 4401', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const ok = await WsClient.open(host.url, alice.token);
    expect(ok.frames[0]).toEqual({ type: 'ready' });
    await ok.close();
    const bad = await WsClient.open(host.url);
    const closed = new Promise<number>((r) => bad.ws.once('close', (code) => r(code)));
    bad.sendRaw(new Uint8Array([0x01, ...new Uint8Array(32)]));
    expect((await bad.waitFor((f) => f.type === 'error')).code).toBe('Unauthorized');
    expect(await closed).toBe(4401);
  });

  test('the database holds only a hash of the token, never the token itself', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const { dataDir } = host;
    // The account is stored under its sealed name (README "Usernames at rest"), never in clear.
    const hits = scanDataDir(dataDir, { raw: alice.token, b64: toBase64Url(alice.token), name: 'alice', sealedName: hostNames(dataDir).seal('alice') });
    expect(hits.map((h) => h.needle)).toContain('sealedName'); // positive control: the scan sees the data
    expect(hits.filter((h) => h.needle !== 'sealedName')).toEqual([]);
  });
});
