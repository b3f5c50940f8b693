/**
 * SECURITY.md P41 (sealed sender) and P20 for group messages, the real engine against the real
 * host (HTTP, WebSocket, SQLite on disk): once three members hold each other's profile keys
 * (shared with their first group message, group-profile-key.ts), a group message is ONE sealed
 * sender upload (v3 once every member holds a seal key of the sender's, else v2; group-sealed.ts,
 * group-seal-keys.ts, src/host/sealed-multi.ts) and the host's envelopes table and logs hold no
 * sender for it; forged, rewritten and mis-certified v2 and v3 envelopes are refused, recorded and
 * acked, and the mailbox keeps working.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { openSqliteSealed } from '../../src/host/storage/sqlite-sealed';
import { systemDeps } from '../../src/lib/crypto/deps';
import { decodeServerCertificate, issueSenderCertificate, type SenderCertificate } from '../../src/lib/crypto/certificates';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { generateProfileKey } from '../../src/lib/crypto/profile';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { SEALED_SENDER_V2_VERSION, SEALED_SENDER_V3_VERSION, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { sealSenderKeyed } from '../../src/lib/crypto/sealed-sender-v3';
import { openSealedEnvelope } from '../../src/lib/crypto/sealed-envelope';
import { sealKeyCandidates } from '../../workers/engine/group-seal-keys';
import { putGroup, txGetGroup, txListGroups } from '../../workers/storage/group-repo';
import { toHex } from '../../src/lib/codec/bytes';
import { commit } from '../../workers/storage/vault';
import { SEALED_MULTI_PATH, decodeSealedMultiUpload, encodeSealedMultiUpload } from '../../src/lib/wire/sealed-multi-api';
import type { Username } from '../../src/lib/codec/username';
import { Engine } from '../../workers/engine/engine';
import { getContact } from '../../workers/storage/contact-repo';
import { profileKey } from '../../workers/engine/profile-key';
import { hostAuth } from '../../workers/engine/account';
import { pinnedTrust, senderCertificate } from '../../workers/engine/sealed-state';
import { enginesOnRealHost, eventually } from './real-host-support';
import { openedBody, openedRows, storedRows } from '../support/host-names';
import { scanDataDir } from '../support/scan-data-dir';

const { real, user: engineUser } = enginesOnRealHost('parley-gsealed-', { keepLog: true });

/** An engine on the real host; its multi-recipient sealed uploads are kept in `uploads`. */
function user(name: string, uploads: Uint8Array[] = []): Promise<Engine> {
  return engineUser(name, {
    wrap: (transport) => {
      const sendSealedMulti = transport.sendSealedMulti.bind(transport);
      transport.sendSealedMulti = async (upload) => {
        uploads.push(upload);
        return sendSealedMulti(upload);
      };
    },
  });
}

function envelopeRows(): { recipient: string; sender: string }[] {
  const db = new Database(join(real.dataDir, DB_FILE), { readonly: true });
  try {
    const rows = openedRows(real.dataDir, db.prepare('SELECT recipient, sender FROM envelopes').all() as { recipient: string; sender: string }[]);
    return rows.sort((x, y) => x.recipient.localeCompare(y.recipient));
  } finally {
    db.close();
  }
}

async function failures(e: Engine): Promise<{ code: string }[]> {
  return (await e.ctx.vault.db.getAll('failures')) as { code: string }[];
}

const groupTexts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [`${m.sender}: ${m.text}`] : []));

/** Three members who have each written once, so each holds the others' profile keys. */
async function warmGroup(uploads: Uint8Array[] = []) {
  const ann = await user('ann', uploads);
  const ben = await user('ben');
  const cat = await user('cat');
  const id = await ann.createGroup('Sealed circle', '', ['ben', 'cat']);
  for (const e of [ben, cat]) await eventually(async () => expect((await e.listGroups()).find((g) => g.id === id)?.memberCount).toBe(3));
  for (const [i, e] of [ann, ben, cat].entries()) {
    await e.sendGroupText(id, `warm ${i}`);
    for (const r of [ann, ben, cat]) await eventually(async () => expect(await groupTexts(r, id)).toHaveLength(i + 1));
  }
  // The members' delivery receipts (pairwise, group-receipts.ts) are delivered too before a test
  // counts envelopes: nothing is left in flight or waiting in a mailbox.
  for (let round = 0; round < 3; round++) {
    for (const e of [ann, ben, cat]) await e.settle();
    await eventually(() => expect(envelopeRows()).toEqual([]));
  }
  return { ann, ben, cat, id };
}

/** Posts a multi-recipient sealed upload for one engine, with its real delivery token. */
async function postTo(to: Engine, sent: Uint8Array): Promise<number> {
  const token = deliveryToken(await profileKey(to.ctx), to.ctx.me!.username);
  const res = await fetch(real.host!.url + SEALED_MULTI_PATH, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(encodeSealedMultiUpload({ tokens: [token], sent })) });
  return res.status;
}

function sealTo(to: Engine, identity: IdentityKeyPair, cert: SenderCertificate, content: Uint8Array): Uint8Array {
  return sealSenderMulti(
    { ourIdentity: identity, senderCertificate: cert, recipients: [{ username: to.ctx.me!.username, devices: [1], identity: identityPublic(to.ctx.me!.identity) }], contentType: SealedContentType.senderKey, content },
    systemDeps
  );
}

describe('group messages under sealed sender v2, engine against the real host', () => {
  test('P41 P20 once members hold each other\'s profile keys a group message is one sealed upload and the host keeps no sender for it, in its envelopes table or logs', async () => {
    const uploads: Uint8Array[] = [];
    const { ann, ben, cat, id } = await warmGroup(uploads);
    // Ben and Cat offline: the copies wait in the host's mailbox, where we read them.
    await ben.disconnect();
    await cat.disconnect();
    const before = uploads.length;
    const logFrom = real.lines.length;
    await ann.sendGroupText(id, 'sealed to both');
    await eventually(async () => expect(envelopeRows()).toHaveLength(2));
    // No sender–recipient pair on disk for the group message: each copy names only its recipient.
    expect(envelopeRows()).toEqual([
      { recipient: 'ben', sender: '' },
      { recipient: 'cat', sender: '' }
    ]);
    expect(uploads.length - before).toBe(1);
    // Breach scan: each copy's stored row is on disk (positive control) and opens to a message that
    // carries the shared ciphertext; the shared ciphertext itself is in no host file (each copy is
    // sealed apart at rest, README "Envelopes at rest"), nor Ann's certificate, which names her.
    const upload = decodeSealedMultiUpload(uploads.at(-1)!);
    const shared = parseSealedSenderV2Sent(upload.sent, upload.sent.length).shared;
    const tail = shared.subarray(shared.length - 64);
    const rows = storedRows(real.dataDir);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(Buffer.from(openedBody(real.dataDir, r.body)).includes(Buffer.from(tail))).toBe(true);
    const annCert = (await senderCertificate(ann.ctx))!;
    const hits = scanDataDir(real.dataDir, { row0: rows[0]!.body.subarray(8, 72), row1: rows[1]!.body.subarray(8, 72), shared: tail, annCertificate: annCert.signature });
    expect([...new Set(hits.map((h) => h.needle))].sort()).toEqual(['row0', 'row1']);
    const newLines = real.lines.slice(logFrom);
    expect(newLines.some((l) => l.startsWith(`POST ${SEALED_MULTI_PATH} 201`))).toBe(true);
    expect(newLines.filter((l) => /\b(ann|ben|cat)\b/.test(l))).toEqual([]);
    ben.connect();
    cat.connect();
    for (const r of [ben, cat]) await eventually(async () => expect(await groupTexts(r, id)).toEqual(['ann: warm 0', 'ben: warm 1', 'cat: warm 2', 'ann: sealed to both']));
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    for (const r of [ann, ben, cat]) expect(await failures(r)).toEqual([]);
  });

  test('P41 P43 a member who only reads is sent to sealed from a writer\'s second message: their profile key answers the writer\'s sender key, which carried the writer\'s key even without a prior session', async () => {
    const uploads: Uint8Array[] = [];
    const ann = await user('ann');
    const ben = await user('ben');
    const cat = await user('cat', uploads);
    // Ben and Cat each wrote to Ann, so her group is no request for either, and neither has
    // shared a profile key with the other.
    for (const e of [ben, cat]) {
      await e.lookupUser('ann');
      await e.sendText('ann' as Username, 'hi ann');
      await eventually(async () => expect((await getContact(e.ctx.vault, 'ann' as Username))?.sharedKey).toBeDefined());
    }
    const id = await ann.createGroup('Readers', '', ['ben', 'cat']);
    for (const e of [ben, cat]) await eventually(async () => expect((await e.listGroups()).map((g) => [g.id, g.requestFrom])).toEqual([[id, undefined]]));
    // Cat writes first, holding neither Ann's nor Ben's profile key: the fan-out that names him.
    await cat.sendGroupText(id, 'one');
    for (const r of [ann, ben]) await eventually(async () => expect(await groupTexts(r, id)).toEqual(['cat: one']));
    expect(uploads).toHaveLength(0);
    // Cat's key went to Ben with his sender key, though they had no session before (and Cat's
    // contact row for Ben, made by that session, is marked as holding it).
    await eventually(async () => expect((await getContact(ben.ctx.vault, 'cat' as Username))?.profileKey).toBeDefined());
    expect((await getContact(cat.ctx.vault, 'ben' as Username))?.sharedKey).toBeDefined();
    // Ben and Ann never write in the group; their profile keys went back to Cat, each once, in
    // answer to Cat's sender key.
    await eventually(async () => expect((await getContact(cat.ctx.vault, 'ben' as Username))?.profileKey).toBeDefined());
    await eventually(async () => expect((await getContact(cat.ctx.vault, 'ann' as Username))?.profileKey).toBeDefined());
    for (let round = 0; round < 3; round++) {
      for (const e of [ann, ben, cat]) await e.settle();
      await eventually(() => expect(envelopeRows()).toEqual([]));
    }
    await ben.disconnect();
    await ann.disconnect();
    await cat.sendGroupText(id, 'two');
    // One sealed upload and nothing else: no sender on either copy, no profile key sent again.
    await eventually(async () => expect(envelopeRows()).toHaveLength(2));
    expect(envelopeRows()).toEqual([
      { recipient: 'ann', sender: '' },
      { recipient: 'ben', sender: '' }
    ]);
    expect(uploads).toHaveLength(1);
    ann.connect();
    ben.connect();
    for (const r of [ann, ben]) await eventually(async () => expect(await groupTexts(r, id)).toEqual(['cat: one', 'cat: two']));
    // Only a writer is answered: Ann and Ben never wrote in the group, so Ann's key never went to Ben.
    expect((await getContact(ann.ctx.vault, 'ben' as Username))?.sharedKey).toBeUndefined();
    for (const r of [ann, ben, cat]) expect(await failures(r)).toEqual([]);
  });

  test('P41 a token the host refuses (a member\'s key changed) sends the message by the authenticated fan-out instead: nothing is lost or delivered twice', async () => {
    const uploads: Uint8Array[] = [];
    const { ann, ben, cat, id } = await warmGroup(uploads);
    // Ben's access now answers to a key Ann does not hold (as after a rotation she has not heard of).
    await ben.ctx.transport.putSealedAccess!(hostAuth(ben.ctx.me!), encodeSealedAccess(sealedAccessFor(generateProfileKey(systemDeps), 'ben', false)));
    await ben.disconnect();
    await cat.disconnect();
    const before = uploads.length;
    await ann.sendGroupText(id, 'via the fan-out');
    await eventually(async () => expect(envelopeRows()).toHaveLength(2));
    // The sealed upload was tried and refused whole (nothing stored sealed), then the fan-out named Ann.
    expect(uploads.length - before).toBe(1);
    expect(envelopeRows()).toEqual([
      { recipient: 'ben', sender: 'ann' },
      { recipient: 'cat', sender: 'ann' }
    ]);
    ben.connect();
    cat.connect();
    for (const r of [ben, cat]) await eventually(async () => expect((await groupTexts(r, id)).filter((t) => t === 'ann: via the fan-out')).toHaveLength(1));
    expect((await ann.listGroupMessages(id)).find((m) => m.kind === 'text' && m.text === 'via the fan-out')).toMatchObject({ status: 'sent' });
  });

  test('P41 P21 seal keys live and go with the sender key: a removal draws new ones for the members left, and one member without a seal key puts the whole send back on v2', async () => {
    const uploads: Uint8Array[] = [];
    const { ann, ben, cat, id } = await warmGroup(uploads);
    const annRecord = async () => (await commit(ann.ctx.vault, (tx) => txGetGroup(tx, id)))!;
    const before = (await annRecord()).sealKeys!;
    expect(Object.keys(before).sort()).toEqual(['ben', 'cat']);
    await ann.removeGroupMember(id, 'cat');
    await eventually(async () => expect((await ben.listGroups()).find((g) => g.id === id)?.memberCount).toBe(2));
    // Ben offline: Ann's new key (with his new seal key, pairwise) and the v3 message it opens wait
    // in his mailbox and come to him in ONE page; the key must be stored before the message is opened.
    await ben.disconnect();
    await ann.sendGroupText(id, 'after the removal');
    await eventually(async () => expect(envelopeRows().filter((r) => r.recipient === 'ben')).toHaveLength(2));
    ben.connect();
    await eventually(async () => expect(await groupTexts(ben, id)).toContain('ann: after the removal'));
    const afterRemoval = decodeSealedMultiUpload(uploads.at(-1)!);
    const sent = parseSealedSenderV2Sent(afterRemoval.sent, afterRemoval.sent.length);
    expect([sent.version, sent.recipients.map((r) => r.username)]).toEqual([SEALED_SENDER_V3_VERSION, ['ben']]);
    // Rotated with the sender key: a new seal key for Ben, none kept for Cat.
    const after = (await annRecord()).sealKeys!;
    expect(Object.keys(after)).toEqual(['ben']);
    expect(Buffer.from(after['ben']!).equals(Buffer.from(before['ben']!))).toBe(false);
    // Ben holds the new key with Ann's new distribution, and opens with it.
    const benRecord = (await commit(ben.ctx.vault, (tx) => txGetGroup(tx, id)))!;
    const annNow = benRecord.theirs.find((t) => t.theirAddress.username === 'ann')!;
    expect(Buffer.from(benRecord.sealFrom![toHex(annNow.distributionId)]!).equals(Buffer.from(after['ben']!))).toBe(true);
    // Cat, removed, holds no seal key of Ann's or Ben's for this group any more.
    const catRecord = (await commit(cat.ctx.vault, (tx) => txGetGroup(tx, id)))!;
    expect(Object.keys(catRecord.sealFrom ?? {})).toEqual([]);

    // A member Ann gave no seal key (as a distribution made before v3): the whole send goes v2.
    await commit(ann.ctx.vault, async (tx) => {
      const g = (await txGetGroup(tx, id))!;
      const { sealKeys: _dropped, ...rest } = g;
      await putGroup(tx, rest);
    });
    await ann.sendGroupText(id, 'without seal keys');
    await eventually(async () => expect(await groupTexts(ben, id)).toContain('ann: without seal keys'));
    const v2 = decodeSealedMultiUpload(uploads.at(-1)!);
    expect(parseSealedSenderV2Sent(v2.sent, v2.sent.length).version).toBe(SEALED_SENDER_V2_VERSION);
    for (const r of [ann, ben]) expect(await failures(r)).toEqual([]);
  });

  test('P41 P20 a group message goes as v3 once seal keys are given; a v3 envelope rewritten by a co-recipient, tampered, carrying another member\'s certificate or a 1:1 message, and v2 envelopes re-sealed by a non-member or certified for another identity, are refused and recorded; the mailbox keeps working', async () => {
    const uploads: Uint8Array[] = [];
    const { ann, ben, cat, id } = await warmGroup(uploads);
    await ann.sendGroupText(id, 'genuine');
    for (const r of [ben, cat]) await eventually(async () => expect(await groupTexts(r, id)).toContain('ann: genuine'));
    const upload = decodeSealedMultiUpload(uploads.at(-1)!);
    const sent = parseSealedSenderV2Sent(upload.sent, upload.sent.length);
    // Every member was given a seal key with Ann's sender key: the upload is v3 (no X25519 per member).
    expect(sent.version).toBe(SEALED_SENDER_V3_VERSION);
    const benEntry = sent.recipients.find((r) => r.username === 'ben')!;
    const catEntry = sent.recipients.find((r) => r.username === 'cat')!;
    // What Cat (a co-recipient) can open with the seal keys it holds: Ann's group message and certificate.
    const catGroups = await commit(cat.ctx.vault, (tx) => txListGroups(tx));
    const catOpened = openSealedEnvelope({ message: receivedSealedSenderV2(catEntry, sent), ourIdentity: cat.ctx.me!.identity, ourAddress: { username: 'cat' as never, device: 1 }, trust: (await pinnedTrust(cat.ctx))!, candidates: sealKeyCandidates(catGroups) }, systemDeps);
    expect(catOpened.sender.username).toBe('ann');
    const annMessage = catOpened.content;

    // 1. Cat's key material relabelled for Ben (a host or co-recipient rewriting the list): InvalidMac.
    const rewrittenSent = new Uint8Array([...upload.sent.subarray(0, 1), 0, 1, ...encodeEntry('ben', catEntry.keyMaterial), ...sent.shared]);
    expect(await postTo(ben, rewrittenSent)).toBe(201);
    // 2. One payload byte flipped: InvalidMac.
    const tampered = new Uint8Array([...upload.sent.subarray(0, 1), 0, 1, ...encodeEntry('ben', benEntry.keyMaterial), ...sent.shared]);
    tampered[tampered.length - 5]! ^= 1;
    expect(await postTo(ben, tampered)).toBe(201);
    // 3. Eve, in no group with Ben, re-seals Ann's message (v2) under her own valid certificate.
    const eve = await user('eve');
    expect(await postTo(ben, sealTo(ben, eve.ctx.me!.identity, (await senderCertificate(eve.ctx))!, annMessage))).toBe(201);
    // 4. A host certificate naming Ann (a member) for another identity (a lying host).
    const store = openSqliteSealed(real.dataDir);
    const key = (await store.getCertificateKey())!;
    store.close();
    const liar = generateIdentity(systemDeps);
    const forged = issueSenderCertificate({ server: { certificate: decodeServerCertificate(key.publicPart)!, privateKey: key.privateKey }, username: 'ann', device: 1, identity: identityPublic(liar), lifetimeMs: 60_000 }, systemDeps);
    expect(await postTo(ben, sealTo(ben, liar, forged, annMessage))).toBe(201);
    // 5. Cat seals Ann's message and Ann's certificate (both seen above) to Ben under the seal key
    //    CAT gave Ben: the key opens, but it came from Cat, not from the account certified.
    const catRecord = catGroups.find((g) => g.id === id)!;
    const asAnn = { ...ann.ctx.me!.identity };
    const catKeyForBen = catRecord.sealKeys!['ben']!;
    const keyed = (cert: SenderCertificate, contentType: SealedContentType, content: Uint8Array) =>
      sealSenderKeyed({ ourIdentity: asAnn, senderCertificate: cert, recipients: [{ username: 'ben', devices: [1], identity: identityPublic(ben.ctx.me!.identity), sealKey: catKeyForBen }], contentType, content }, systemDeps);
    expect(await postTo(ben, keyed(catOpened.sender, SealedContentType.senderKey, annMessage))).toBe(201);
    // 6. Cat's own certificate and key, but a 1:1 (session) content in v3: v3 carries group messages only.
    const catCert = (await senderCertificate(cat.ctx))!;
    expect(await postTo(ben, sealSenderKeyed({ ourIdentity: cat.ctx.me!.identity, senderCertificate: catCert, recipients: [{ username: 'ben', devices: [1], identity: identityPublic(ben.ctx.me!.identity), sealKey: catKeyForBen }], contentType: SealedContentType.session, content: Uint8Array.of(3, 1, 2) }, systemDeps))).toBe(201);

    await eventually(async () => expect((await failures(ben)).map((f) => f.code)).toEqual(['InvalidMac', 'InvalidMac', 'UntrustedIdentity', 'UntrustedIdentity', 'UntrustedIdentity', 'InvalidMessage']));
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    expect((await groupTexts(ben, id)).filter((t) => t === 'ann: genuine')).toHaveLength(1);
    // Still working: the next genuine sealed message arrives.
    await cat.sendGroupText(id, 'after the forgeries');
    await eventually(async () => expect(await groupTexts(ben, id)).toContain('cat: after the forgeries'));
  });
});

/** One recipient entry of a sent form: username, device 1, key material. */
function encodeEntry(username: string, keyMaterial: Uint8Array): number[] {
  const name = [...new TextEncoder().encode(username)];
  return [name.length, ...name, 1, 0, 0, 0, 1, ...keyMaterial];
}
