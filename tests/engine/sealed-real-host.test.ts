/**
 * SECURITY.md P41 (sealed sender) and P42 (message requests) with the real engine against the
 * real host (HTTP, WebSocket, SQLite on disk):
 * - the first message to a stranger goes unsealed; once each holds the other's profile key,
 *   texts and receipts go sealed, and the host's files and logs hold no sender for them;
 * - forged and expired sender certificates are refused (recorded, acked, nothing shown) and the
 *   vault keeps working;
 * - a message request stays silent: no receipt, no ring (a missed call instead), no profile key.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { openSqliteSealed } from '../../src/host/storage/sqlite-sealed';
import { systemDeps } from '../../src/lib/crypto/deps';
import {
  decodeServerCertificate,
  generateServerSigningKey,
  generateTrustRoot,
  issueSenderCertificate,
  type ServerSigningKey
} from '../../src/lib/crypto/certificates';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { sealSender } from '../../src/lib/crypto/sealed-sender';
import { encodeCallSignal, type CallOffer } from '../../src/lib/wire/call';
import { DELIVERY_TOKEN_HEADER, SEALED_API } from '../../src/lib/wire/sealed-api';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { profileKey } from '../../workers/engine/profile-key';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { getContact } from '../../workers/storage/contact-repo';
import { enginesOnRealHost, eventually, texts } from './real-host-support';
import { openedRows } from '../support/host-names';
import { statusOf } from './support';
import type { Username } from '../../src/lib/codec/username';

const { real, user } = enginesOnRealHost('parley-sealed-', { keepLog: true });

function envelopeRows(): { recipient: string; sender: string }[] {
  const db = new Database(join(real.dataDir, DB_FILE), { readonly: true });
  try {
    return openedRows(real.dataDir, db.prepare('SELECT recipient, sender FROM envelopes ORDER BY id').all() as { recipient: string; sender: string }[]);
  } finally {
    db.close();
  }
}

async function failures(e: Engine): Promise<{ code: string }[]> {
  return (await e.ctx.vault.db.getAll('failures')) as { code: string }[];
}

/** A sealed envelope for `to` built outside any engine, posted to the host's sealed endpoint. */
async function postSealed(to: Engine, server: ServerSigningKey, claimed: string, at: number, identity: IdentityKeyPair): Promise<number> {
  const cert = issueSenderCertificate({ server, username: claimed, device: 1, identity: identityPublic(identity), lifetimeMs: 60_000 }, { ...systemDeps, now: () => at });
  const body = sealSender(
    { ourIdentity: identity, senderCertificate: cert, theirIdentity: identityPublic(to.ctx.me!.identity), contentType: SealedContentType.session, content: systemDeps.rng(120) },
    { ...systemDeps, now: () => at }
  );
  const token = deliveryToken(await profileKey(to.ctx), to.ctx.me!.username);
  const res = await fetch(real.host!.url + SEALED_API.messages + to.ctx.me!.username, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', [DELIVERY_TOKEN_HEADER]: toBase64Url(token) },
    body: new Uint8Array(body)
  });
  return res.status;
}

const offer = (callId: string): CallOffer => ({
  type: 'offer',
  callId,
  peerId: '7e'.repeat(16),
  dtlsFingerprint: Uint8Array.from({ length: 32 }, (_, i) => 200 - i),
  media: 'audio',
  sentAt: Date.now()
});

describe('sealed sender and message requests, engine against the real host', () => {
  test('P41 no sender on sealed envelopes: after the unsealed first message, texts and receipts go sealed and the host keeps no sender–recipient pair, in files or logs', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText('bob', 'first, to a stranger');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first, to a stranger']));
    // Bob writes back (accepting): alice's first text gave him her profile key, so this goes sealed.
    const reply = await bob.sendText('alice', 'sealed reply');
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['first, to a stranger', 'sealed reply']));
    // Alice's delivery receipt has reached bob (else it could land after he goes away and stay).
    await eventually(async () => expect(statusOf(await bob.listMessages('alice'), reply.id)).toBe('delivered'));
    // His text gave alice his key: from now on she seals too. Bob is away, so it waits on the host.
    bob.disconnect();
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    const m = await alice.sendText('bob', 'sealed, waiting');
    await eventually(async () => expect(statusOf(await alice.listMessages('bob'), m.id)).toBe('sent'));
    // Alice's read receipt for bob's reply goes sealed as well, padded like a short text.
    await alice.markRead('bob');
    await eventually(async () => expect(envelopeRows()).toHaveLength(2));
    const rows = envelopeRows();
    expect(rows.every((r) => r.sender === '')).toBe(true);
    expect(rows.map((r) => r.recipient)).toEqual(['bob', 'bob']);
    bob.connect();
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first, to a stranger', 'sealed reply', 'sealed, waiting']));
    await eventually(async () => expect(statusOf(await alice.listMessages('bob'), m.id)).toBe('delivered'));
    // The sealed ones leave no pair behind: every envelope the host still holds or logged names nobody.
    await real.host!.close();
    expect(envelopeRows().filter((r) => r.sender !== '')).toEqual([]);
    const named = real.lines.filter((l) => /alice|bob/.test(l));
    expect(named).toEqual([]);
    expect(real.lines.some((l) => l.includes(SEALED_API.messages))).toBe(true);
    real.host = undefined;
  });

  test('P41 forged and expired sender certificates are refused: recorded, acked, nothing shown, and the vault keeps working', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText('bob', 'hello');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello']));
    await bob.sendText('alice', 'hi');
    await eventually(async () => expect(await texts(alice, 'bob')).toHaveLength(2));
    const errors: EngineEvent[] = [];
    bob.subscribe((e) => void (e.type === 'receive-error' && errors.push(e)));

    // Alice's own identity (so only the certificate is wrong), sealed outside her vault.
    const aliceId = alice.ctx.me!.identity;
    // A certificate signed by a root nobody pinned.
    const rogueRoot = generateTrustRoot(systemDeps);
    const rogue = generateServerSigningKey({ rootPrivateKey: rogueRoot.privateKey, keyId: 1, expires: Date.now() + 3_600_000 }, systemDeps);
    expect(await postSealed(bob, rogue, 'alice', Date.now(), aliceId)).toBe(201);
    // The real host's own certificate key, but a certificate that expired before the host took it.
    const store = openSqliteSealed(real.dataDir);
    const stored = (await store.getCertificateKey())!;
    store.close();
    const hostKey: ServerSigningKey = { certificate: decodeServerCertificate(stored.publicPart), privateKey: stored.privateKey };
    expect(await postSealed(bob, hostKey, 'alice', Date.now() - 3_600_000, aliceId)).toBe(201);
    // A valid certificate from the real host for "alice" with another key (a lying host): P3 holds.
    expect(await postSealed(bob, hostKey, 'alice', Date.now(), generateIdentity(systemDeps))).toBe(201);

    await eventually(async () => expect((await failures(bob)).map((f) => f.code)).toEqual(['InvalidSignature', 'UntrustedIdentity', 'UntrustedIdentity']));
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(['InvalidSignature', 'UntrustedIdentity', 'UntrustedIdentity']);
    expect(await texts(bob, 'alice')).toEqual(['hello', 'hi']);
    // Still working: a genuine sealed text arrives.
    await alice.sendText('bob', 'still here');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello', 'hi', 'still here']));
  });

  test('P42 P41 accepting a request shares our profile key, so the requester then sends sealed; blocking rotates it and the host refuses the old token', async () => {
    const bob = await user('bob');
    const carol = await user('carol');
    await carol.lookupUser('bob');
    await carol.sendText('bob', 'hello from a stranger');
    await eventually(async () => expect(await texts(bob, 'carol')).toHaveLength(1));
    expect((await getContact(carol.ctx.vault, 'bob' as Username))?.profileKey).toBeUndefined();

    await bob.acceptRequest('carol');
    const bobKey = await profileKey(bob.ctx);
    await eventually(async () => expect((await getContact(carol.ctx.vault, 'bob' as Username))?.profileKey).toBe(toBase64Url(bobKey)));
    // Carol now holds bob's delivery token: her next text goes sealed (bob away, so it waits on the host).
    bob.disconnect();
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    const m = await carol.sendText('bob', 'sealed now');
    await eventually(async () => expect(statusOf(await carol.listMessages('bob'), m.id)).toBe('sent'));
    expect(envelopeRows()).toEqual([{ recipient: 'bob', sender: '' }]);
    bob.connect();
    await eventually(async () => expect(await texts(bob, 'carol')).toEqual(['hello from a stranger', 'sealed now']));

    // Blocking rotates bob's key (P43) and sets the new SealedAccess at once: the old token is refused.
    const oldToken = deliveryToken(bobKey, 'bob');
    await bob.block('carol');
    expect(toBase64Url(await profileKey(bob.ctx))).not.toBe(toBase64Url(bobKey));
    const res = await fetch(real.host!.url + SEALED_API.messages + 'bob', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', [DELIVERY_TOKEN_HEADER]: toBase64Url(oldToken) },
      body: new Uint8Array(800)
    });
    expect(res.status).toBe(401);
  });

  test('P42 message-request silence on the real host: no receipt, no ring (a missed call instead), no profile key; accept, delete and block', async () => {
    const bob = await user('bob');
    const carol = await user('carol');
    const dave = await user('dave');
    const bobEvents: EngineEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));

    await carol.lookupUser('bob');
    const c1 = await carol.sendText('bob', 'hi, you do not know me: https://example.org/x');
    await eventually(async () => expect(await texts(bob, 'carol')).toHaveLength(1));
    await bob.markRead('carol');
    await carol.sendCallSignal('bob', encodeCallSignal(offer('ca'.repeat(16))));
    await eventually(async () => expect((await bob.listMessages('carol')).some((m) => m.kind !== 'text')).toBe(true));
    const chat = (await bob.listChats()).find((c) => c.username === 'carol');
    expect(chat?.request).toBe(true);
    expect(bobEvents.filter((e) => e.type === 'call')).toEqual([]);
    // Nothing went back: carol's text is still only "sent", and she holds no profile key of bob's.
    await new Promise((r) => setTimeout(r, 300));
    expect(statusOf(await carol.listMessages('bob'), c1.id)).toBe('sent');
    expect((await getContact(carol.ctx.vault, 'bob' as Username))?.profileKey).toBeUndefined();

    // Dave writes too; bob deletes his request, and it is gone with its messages.
    await dave.lookupUser('bob');
    await dave.sendText('bob', 'buy now');
    await eventually(async () => expect(await texts(bob, 'dave')).toHaveLength(1));
    await bob.deleteRequest('dave');
    expect((await bob.listChats()).map((c) => c.username)).toEqual(['carol']);
    expect(await texts(bob, 'dave')).toEqual([]);

    // Accepting carol: receipts (read, since he read it) and bob's profile key go to her.
    await bob.acceptRequest('carol');
    await eventually(async () => expect(statusOf(await carol.listMessages('bob'), c1.id)).toBe('read'));
    await eventually(async () => expect((await getContact(carol.ctx.vault, 'bob' as Username))?.profileKey).toBeDefined());
    expect((await bob.listChats()).find((c) => c.username === 'carol')?.request).toBe(false);
    // Now her calls ring.
    await carol.sendCallSignal('bob', encodeCallSignal(offer('cb'.repeat(16))));
    await eventually(() => expect(bobEvents.filter((e) => e.type === 'call')).toHaveLength(1));

    // "Calls only from contacts": someone bob looked up but never wrote to does not ring.
    const erin = await user('erin');
    await bob.lookupUser('erin');
    await erin.lookupUser('bob');
    await bob.setPrivacySettings({ callsOnlyFromContacts: true });
    await erin.sendCallSignal('bob', encodeCallSignal(offer('ee'.repeat(16))));
    await eventually(async () => expect((await bob.listMessages('erin')).length).toBeGreaterThan(0));
    expect(bobEvents.filter((e) => e.type === 'call')).toHaveLength(1);
    // Blocking a request drops what comes after.
    await bob.block('erin');
    await erin.sendText('bob', 'after the block');
    await new Promise((r) => setTimeout(r, 300));
    expect(await texts(bob, 'erin')).toEqual([]);
  });
});
