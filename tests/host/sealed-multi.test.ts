/**
 * SECURITY.md P41 for the multi-recipient sealed send on the real host (src/host/sealed-multi.ts),
 * sealed sender v2 and v3 uploads alike: one unauthenticated upload, admitted only if every
 * recipient's delivery token opens its mailbox (or it takes sealed mail from anyone), refused
 * whole otherwise, fanned out as each recipient's "received" form with no sender in the SQLite
 * file, the pushes or the logs.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { systemDeps } from '../../src/lib/crypto/deps';
import { decodeSenderCertificate } from '../../src/lib/crypto/certificates';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { generateProfileKey } from '../../src/lib/crypto/profile';
import { openSealedSenderV2, sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { SEAL_KEY_LEN, openSealedSenderV3, sealSenderKeyed, type SealKeyCandidate } from '../../src/lib/crypto/sealed-sender-v3';
import { isProtocolError } from '../../src/lib/codec/errors';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { encodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { SEALED_API, decodeCertificateResponse, decodeTrustResponse } from '../../src/lib/wire/sealed-api';
import { SEALED_MULTI_PATH, encodeSealedMultiUpload } from '../../src/lib/wire/sealed-multi-api';
import { WsClient, call, hostNames, registerUser, startHost, type TestUser } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function putAccess(url: string, user: TestUser, profileKey: Uint8Array, anyone = false): Promise<void> {
  const access = encodeSealedAccess(sealedAccessFor(profileKey, user.username, anyone));
  const res = await fetch(url + SEALED_API.access, {
    method: 'PUT',
    headers: { authorization: `Bearer ${toBase64Url(user.token)}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(access)
  });
  expect(res.status).toBe(200);
}

async function post(url: string, body: Uint8Array): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url + SEALED_MULTI_PATH, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  return { status: res.status, json: await res.json() };
}

function envelopeRows(dataDir: string): { recipient: string; sender: string }[] {
  const db = new Database(join(dataDir, DB_FILE), { readonly: true });
  const rows = db.prepare('SELECT recipient, sender FROM envelopes').all() as { recipient: string; sender: string }[];
  db.close();
  const n = hostNames(dataDir);
  return rows.map((r) => ({ recipient: n.open(r.recipient), sender: n.open(r.sender) })).sort((x, y) => x.recipient.localeCompare(y.recipient));
}

/** Alice, and Bob and Dave (tokens) and Carol ("sealed from anyone"), with a v2 upload sealed by Alice. */
async function scene(url: string) {
  const alice = await registerUser(url, 'alice');
  const bob = await registerUser(url, 'bob');
  const carol = await registerUser(url, 'carol');
  const dave = await registerUser(url, 'dave');
  const keys = { bob: generateProfileKey(systemDeps), carol: generateProfileKey(systemDeps), dave: generateProfileKey(systemDeps) };
  await putAccess(url, bob, keys.bob);
  await putAccess(url, carol, keys.carol, true);
  await putAccess(url, dave, keys.dave);
  const r = await call(url, SEALED_API.certificate, { token: alice.token });
  const senderCertificate = decodeSenderCertificate(decodeCertificateResponse(r.json));
  const sent = sealSenderMulti(
    {
      ourIdentity: alice.identity,
      senderCertificate,
      recipients: [bob, carol, dave].map((u) => ({ username: u.username, devices: [1], identity: identityPublic(u.identity) })),
      contentType: SealedContentType.senderKey,
      content: systemDeps.rng(300)
    },
    systemDeps
  );
  return { alice, bob, carol, dave, keys, sent };
}

/** The same scene with a v3 upload: Alice gave each recipient a seal key of its own. */
async function sceneV3(url: string) {
  const s = await scene(url);
  const sealKeys = { bob: systemDeps.rng(SEAL_KEY_LEN), carol: systemDeps.rng(SEAL_KEY_LEN), dave: systemDeps.rng(SEAL_KEY_LEN) };
  const senderCertificate = decodeSenderCertificate(decodeCertificateResponse((await call(url, SEALED_API.certificate, { token: s.alice.token })).json));
  const content = systemDeps.rng(300);
  const sentV3 = sealSenderKeyed(
    {
      ourIdentity: s.alice.identity,
      senderCertificate,
      recipients: [s.bob, s.carol, s.dave].map((u) => ({ username: u.username, devices: [1], identity: identityPublic(u.identity), sealKey: sealKeys[u.username as keyof typeof sealKeys] })),
      contentType: SealedContentType.senderKey,
      content
    },
    systemDeps
  );
  /** What a recipient holds: the seal key Alice gave it, as given by Alice. */
  const fromAlice = (sealKey: Uint8Array): SealKeyCandidate => ({ sealKey, username: 'alice', identity: encodeIdentityPublic(identityPublic(s.alice.identity)) });
  return { ...s, sealKeys, sentV3, content, fromAlice };
}

describe('multi-recipient sealed send on the host', () => {
  test('P41 one upload with every recipient\'s token (none for "sealed from anyone") is stored for each with NO sender, pushed and opened as from the certificate', async () => {
    const lines: string[] = [];
    host = await startHost({ log: (l) => lines.push(l) });
    const s = await scene(host.url);
    const tokens = [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')];
    const ok = await post(host.url, encodeSealedMultiUpload({ tokens, sent: s.sent }));
    expect(ok).toEqual({ status: 201, json: { stored: 3, refused: 0 } });

    const trust = decodeTrustResponse((await call(host.url, SEALED_API.trust)).json);
    const bobWs = await WsClient.open(host.url, s.bob.token);
    await bobWs.until(1);
    const [pushed] = bobWs.envelopes();
    expect(pushed!.sender).toBe('');
    const opened = openSealedSenderV2({ message: pushed!.body, ourIdentity: s.bob.identity, ourAddress: { username: 'bob' as never, device: 1 }, trust }, systemDeps);
    expect(opened.sender.username).toBe('alice');
    await bobWs.close();
    await host.close();
    expect(envelopeRows(host.dataDir)).toEqual([
      { recipient: 'bob', sender: '' },
      { recipient: 'carol', sender: '' },
      { recipient: 'dave', sender: '' }
    ]);
    expect(lines.filter((l) => /alice|bob|carol|dave/.test(l))).toEqual([]);
    host = undefined;
  });

  test('P41 one wrong, missing or misplaced token refuses the whole upload: nothing is stored for anyone', async () => {
    host = await startHost();
    const s = await scene(host.url);
    const good = [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')];
    const variants = [
      [good[0], undefined, deliveryToken(generateProfileKey(systemDeps), 'dave')],
      [good[0], undefined, undefined],
      // Bob's and Dave's tokens swapped: each is valid, for the other recipient.
      [good[2], undefined, good[0]]
    ];
    for (const tokens of variants) {
      const r = await post(host.url, encodeSealedMultiUpload({ tokens, sent: s.sent }));
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('Unauthorized');
      expect(r.json.error.message).not.toMatch(/bob|carol|dave/);
    }
    // A recipient with no access set at all refuses too (Alice never set hers).
    const eve = await registerUser(host.url, 'eve');
    const sent = sealSenderMulti(
      {
        ourIdentity: s.bob.identity,
        senderCertificate: decodeSenderCertificate(decodeCertificateResponse((await call(host.url, SEALED_API.certificate, { token: s.bob.token })).json)),
        recipients: [s.carol, eve].map((u) => ({ username: u.username, devices: [1], identity: identityPublic(u.identity) })),
        contentType: SealedContentType.senderKey,
        content: systemDeps.rng(50)
      },
      systemDeps
    );
    expect((await post(host.url, encodeSealedMultiUpload({ tokens: [undefined, undefined], sent }))).status).toBe(401);
    await host.close();
    expect(envelopeRows(host.dataDir)).toEqual([]);
    host = undefined;
  });

  test('P41 a sealed sender v3 upload is fanned out: each mailbox receives version-3 bytes, with NO sender, that open with its own seal key only', async () => {
    host = await startHost();
    const s = await sceneV3(host.url);
    const tokens = [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')];
    expect(await post(host.url, encodeSealedMultiUpload({ tokens, sent: s.sentV3 }))).toEqual({ status: 201, json: { stored: 3, refused: 0 } });

    const trust = decodeTrustResponse((await call(host.url, SEALED_API.trust)).json);
    const bodies: Uint8Array[] = [];
    for (const u of [s.bob, s.carol, s.dave]) {
      const ws = await WsClient.open(host.url, u.token);
      await ws.until(1);
      const envelopes = ws.envelopes();
      expect(envelopes).toHaveLength(1);
      const body = envelopes[0]!.body;
      expect(envelopes[0]!.sender).toBe('');
      expect(body[0]).toBe(3);
      bodies.push(body);
      const key = s.sealKeys[u.username as keyof typeof s.sealKeys];
      const others = Object.values(s.sealKeys).filter((k) => k !== key);
      const open = (candidates: SealKeyCandidate[]) => openSealedSenderV3({ message: body, ourIdentity: u.identity, ourAddress: { username: u.username as never, device: 1 }, trust, candidates }, systemDeps);
      const opened = open([...others.map(s.fromAlice), s.fromAlice(key)]);
      expect(opened.candidate).toBe(2);
      expect(opened.sender.username).toBe('alice');
      expect(opened.contentType).toBe(SealedContentType.senderKey);
      expect(opened.content).toEqual(s.content);
      // The other recipients' seal keys do not open this mailbox's copy.
      let code: string | undefined;
      try {
        open(others.map(s.fromAlice));
      } catch (e) {
        code = isProtocolError(e) ? e.code : String(e);
      }
      expect(code).toBe('InvalidMac');
      await ws.close();
    }
    // One payload for all, 48 bytes of key material each.
    expect(bodies[1]!.subarray(49)).toEqual(bodies[0]!.subarray(49));
    expect(bodies[2]!.subarray(49)).toEqual(bodies[0]!.subarray(49));
    await host.close();
    expect(envelopeRows(host.dataDir)).toEqual([
      { recipient: 'bob', sender: '' },
      { recipient: 'carol', sender: '' },
      { recipient: 'dave', sender: '' }
    ]);
    host = undefined;
  });

  test('P41 a v3 upload with one wrong, missing or misplaced token is refused whole, as v2: nothing is stored for anyone', async () => {
    host = await startHost();
    const s = await sceneV3(host.url);
    const good = [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')];
    const variants = [[good[0], undefined, deliveryToken(generateProfileKey(systemDeps), 'dave')], [good[0], undefined, undefined], [good[2], undefined, good[0]]];
    for (const tokens of variants) {
      const r = await post(host.url, encodeSealedMultiUpload({ tokens, sent: s.sentV3 }));
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('Unauthorized');
      expect(r.json.error.message).not.toMatch(/bob|carol|dave/);
    }
    await host.close();
    expect(envelopeRows(host.dataDir)).toEqual([]);
    host = undefined;
  });

  test('P41 malformed uploads are refused whole with 400: token count, device list, flags, garbage', async () => {
    host = await startHost();
    const s = await scene(host.url);
    const tokens = [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')];
    expect((await post(host.url, encodeSealedMultiUpload({ tokens: tokens.slice(0, 2), sent: s.sent }))).status).toBe(400);
    const badFlag = encodeSealedMultiUpload({ tokens, sent: s.sent });
    badFlag[2] = 7;
    expect((await post(host.url, badFlag)).status).toBe(400);
    expect((await post(host.url, systemDeps.rng(500))).status).toBe(400);
    const twoDevices = sealSenderMulti(
      {
        ourIdentity: s.alice.identity,
        senderCertificate: decodeSenderCertificate(decodeCertificateResponse((await call(host.url, SEALED_API.certificate, { token: s.alice.token })).json)),
        recipients: [{ username: 'carol', devices: [1, 2], identity: identityPublic(s.carol.identity) }],
        contentType: SealedContentType.senderKey,
        content: systemDeps.rng(50)
      },
      systemDeps
    );
    expect((await post(host.url, encodeSealedMultiUpload({ tokens: [undefined], sent: twoDevices }))).status).toBe(400);
    await host.close();
    expect(envelopeRows(host.dataDir)).toEqual([]);
    host = undefined;
  });

  test('P41 multi-recipient sealed uploads share the per-address sealed-send limit', async () => {
    host = await startHost({ limits: { sealedSendPerIp: { max: 2, windowMs: 60_000 } } });
    const s = await scene(host.url);
    const body = encodeSealedMultiUpload({ tokens: [deliveryToken(s.keys.bob, 'bob'), undefined, deliveryToken(s.keys.dave, 'dave')], sent: s.sent });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(host.url, body)).status);
    expect(statuses).toEqual([201, 201, 429]);
  });
});
