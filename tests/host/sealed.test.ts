/**
 * SECURITY.md P41 on the real host (src/host/sealed.ts): sender certificates only for signed-in
 * accounts, the unauthenticated sealed send admitted only with the recipient's delivery token (or
 * its "sealed from anyone"), rate-limited per address, and sealed envelopes stored, pushed and
 * logged with no sender.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { systemDeps } from '../../src/lib/crypto/deps';
import { decodeSenderCertificate, verifySenderCertificate } from '../../src/lib/crypto/certificates';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { generateProfileKey } from '../../src/lib/crypto/profile';
import { openSealedSender, sealSender } from '../../src/lib/crypto/sealed-sender';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { identityPublic } from '../../src/lib/crypto/identity';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { DELIVERY_TOKEN_HEADER, SEALED_API, decodeCertificateResponse, decodeTrustResponse } from '../../src/lib/wire/sealed-api';
import { scanDataDir } from '../support/scan-data-dir';
import { openedBody } from '../support/host-names';
import { WsClient, call, hostNames, registerUser, startHost, type TestUser } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function sealedPost(url: string, to: string, body: Uint8Array, token?: Uint8Array | string): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (token !== undefined) headers[DELIVERY_TOKEN_HEADER] = typeof token === 'string' ? token : toBase64Url(token);
  const res = await fetch(url + SEALED_API.messages + to, { method: 'POST', headers, body: new Uint8Array(body) });
  return { status: res.status, json: await res.json() };
}

async function putAccess(url: string, user: TestUser, profileKey: Uint8Array, anyone = false): Promise<number> {
  const access = encodeSealedAccess(sealedAccessFor(profileKey, user.username, anyone));
  const res = await fetch(url + SEALED_API.access, {
    method: 'PUT',
    headers: { authorization: `Bearer ${toBase64Url(user.token)}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(access)
  });
  return res.status;
}

async function certificateOf(url: string, user: TestUser): Promise<Uint8Array> {
  const r = await call(url, SEALED_API.certificate, { token: user.token });
  expect(r.status).toBe(200);
  return decodeCertificateResponse(r.json);
}

describe('sealed sender on the host', () => {
  test('P41 a sender certificate is issued only to a signed-in account, for its own identity, short-lived and chained to the served root', async () => {
    host = await startHost({ limits: { senderCertificateTtlMs: 60_000 } });
    const alice = await registerUser(host.url, 'alice');
    expect((await call(host.url, SEALED_API.certificate)).status).toBe(401);
    const trust = decodeTrustResponse((await call(host.url, SEALED_API.trust)).json);
    const cert = decodeSenderCertificate(await certificateOf(host.url, alice));
    expect(cert.username).toBe('alice');
    expect(cert.identity.dhKey).toEqual(identityPublic(alice.identity).dhKey);
    expect(cert.expires).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(() => verifySenderCertificate(cert, trust, Date.now())).not.toThrow();
    expect(() => verifySenderCertificate(cert, trust, Date.now() + 61_000)).toThrow(/expired/);
  });

  test('P41 a sealed send without the recipient\'s delivery token is refused; with it, or "sealed from anyone", it is stored', async () => {
    host = await startHost();
    const bob = await registerUser(host.url, 'bob');
    const carol = await registerUser(host.url, 'carol');
    const body = systemDeps.rng(739);
    // No access set yet: nothing gets in, token or not.
    expect((await sealedPost(host.url, 'bob', body)).status).toBe(401);
    const bobKey = generateProfileKey(systemDeps);
    expect(await putAccess(host.url, bob, bobKey)).toBe(200);
    expect((await sealedPost(host.url, 'bob', body)).status).toBe(401);
    expect((await sealedPost(host.url, 'bob', body, deliveryToken(generateProfileKey(systemDeps), 'bob'))).status).toBe(401);
    // Bob's token for another account does not open Bob's mailbox.
    expect((await sealedPost(host.url, 'bob', body, deliveryToken(bobKey, 'carol'))).status).toBe(401);
    expect((await sealedPost(host.url, 'bob', body, 'not base64!')).status).toBe(400);
    // Unknown recipients answer exactly like a wrong token (no oracle for which accounts exist).
    const unknown = await sealedPost(host.url, 'nobody', body, deliveryToken(bobKey, 'nobody'));
    expect(unknown.status).toBe(401);
    const ok = await sealedPost(host.url, 'bob', body, deliveryToken(bobKey, 'bob'));
    expect(ok.status).toBe(201);
    expect(typeof ok.json.serverId).toBe('number');
    // Access is set only with the account's own bearer token.
    const noAuth = await fetch(host.url + SEALED_API.access, { method: 'PUT', body: new Uint8Array(encodeSealedAccess(sealedAccessFor(bobKey, 'bob', true))) });
    expect(noAuth.status).toBe(401);
    expect(await putAccess(host.url, carol, generateProfileKey(systemDeps), true)).toBe(200);
    expect((await sealedPost(host.url, 'carol', body)).status).toBe(201);
  });

  test('P41 sealed sends are rate-limited per client address', async () => {
    host = await startHost({ limits: { sealedSendPerIp: { max: 3, windowMs: 60_000 } } });
    const bob = await registerUser(host.url, 'bob');
    await putAccess(host.url, bob, generateProfileKey(systemDeps), true);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await sealedPost(host.url, 'bob', systemDeps.rng(100))).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
  });

  test('P41 no sender on sealed envelopes: the host stores, pushes and logs none, and its files hold no sender–recipient pair', async () => {
    const lines: string[] = [];
    host = await startHost({ log: (l) => lines.push(l) });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const bobKey = generateProfileKey(systemDeps);
    await putAccess(host.url, bob, bobKey);
    const trust = decodeTrustResponse((await call(host.url, SEALED_API.trust)).json);
    const senderCertificate = decodeSenderCertificate(await certificateOf(host.url, alice));
    const sealed = sealSender(
      { ourIdentity: alice.identity, senderCertificate, theirIdentity: identityPublic(bob.identity), contentType: SealedContentType.session, content: systemDeps.rng(200) },
      systemDeps
    );
    expect((await sealedPost(host.url, 'bob', sealed, deliveryToken(bobKey, 'bob'))).status).toBe(201);

    const bobWs = await WsClient.open(host.url, bob.token);
    await bobWs.until(1);
    const [pushed] = bobWs.envelopes();
    expect(pushed!.sender).toBe('');
    // Only Bob can open it, and only inside does it name Alice.
    const opened = openSealedSender({ message: pushed!.body, ourIdentity: bob.identity, ourAddress: { username: 'bob' as never, device: 1 }, trust }, systemDeps);
    expect(opened.sender.username).toBe('alice');
    await host.close();

    const db = new Database(join(host.dataDir, DB_FILE), { readonly: true });
    const rows = db.prepare('SELECT recipient, sender, body FROM envelopes').all() as { recipient: string; sender: string; body: Buffer }[];
    db.close();
    expect(rows.map((r) => ({ recipient: hostNames(host!.dataDir).open(r.recipient), sender: r.sender }))).toEqual([{ recipient: 'bob', sender: '' }]);
    expect(openedBody(host.dataDir, rows[0]!.body)).toEqual(sealed);
    // Its stored row is on disk (positive control); Alice's certificate is not, nor the sealed
    // bytes as sent (sealed again at rest, README "Envelopes at rest"); her name is not inside them in clear.
    const hits = scanDataDir(host.dataDir, { row: new Uint8Array(rows[0]!.body.subarray(0, 64)), sealed: sealed.subarray(0, 64), aliceCertificate: senderCertificate.signature });
    expect(hits.map((h) => h.needle)).toEqual(['row']);
    expect(Buffer.from(sealed).includes(Buffer.from('alice'))).toBe(false);
    // The logs name no account for the sealed traffic.
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('alice') || l.includes('bob'))).toEqual([]);
    host = undefined;
  });
});
