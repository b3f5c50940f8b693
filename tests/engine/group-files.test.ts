/**
 * Files and voice notes in groups (README "Groups": files in groups; SECURITY.md P45, P21),
 * through engines on the REAL host (src/host/server.ts and its blob store on loopback): the file
 * is uploaded ONCE and its pointer goes to every member under the sender key; each member
 * downloads, checks and opens exactly the sender's bytes, keeps its own copy and releases the blob,
 * which the host drops after the last member did; a blob the host changed is refused as Tampered
 * and kept by no one; a removed member gets no pointer of a file sent after its removal.
 */
import 'fake-indexeddb/auto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import { getGroup, listGroupMessages } from '../../workers/storage/group-repo';
import { groupOwner } from '../../workers/storage/file-repo';
import { groupDecrypt, groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeVoicePreview } from '../../src/lib/wire/voice-note';
import type { Username } from '../../src/lib/codec/username';
import { hostAuth } from '../../workers/engine/account';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { encodeContent, newMessageId, type AttachmentContent } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { eventually, realHostPerTest } from './real-host-support';
import { fileBytes } from './support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-gfiles-', async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function person(name: string, dbName = `gf-${name}-${process.pid}-${n++}`, create = true, wrap?: (t: HostHttpTransport) => void): Promise<Engine> {
  const t = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  wrap?.(t);
  const e = await Engine.open({ transport: t, dbName, locks: memoryLocks(), retryMs: 50 });
  engines.push(e);
  if (create) await e.createAccount(name);
  e.connect();
  return e;
}

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const fileIn = async (e: Engine, id: string, name: string): Promise<Text> => {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.attachment?.name === name);
  if (!m) throw new Error(`no file "${name}" yet`);
  return m;
};
const bytes = (len: number, seed: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed) & 0xff);
const blobFiles = () => readdirSync(join(real.dataDir, BLOBS_DIR));
/** The mark of a member's own copy of a file (file-repo.ts), if it holds a complete one. */
const marked = (e: Engine, owner: string) => e.ctx.vault.db.get('files', [owner, -1]);

/** Ann (admin) with the others, every member holding every sender key that is used below. */
async function group(names: string[]) {
  const [ann, ...rest] = await Promise.all(['ann', ...names].map((x) => person(x)));
  const id = await ann!.createGroup('Trip', '', names);
  for (const p of rest) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(names.length + 1));
  return { id, ann: ann!, rest };
}

describe('files in groups on the real host', () => {
  test('P45 P40 one upload for the whole group: every member opens exactly the bytes, a voice note too; the blob goes once all three released it; a changed blob is Tampered and kept nowhere', async () => {
    const { id, ann, rest } = await group(['ben', 'cat', 'dan']);
    const [ben, cat, dan] = rest as [Engine, Engine, Engine];
    const file = bytes(150_000, 3);
    const before = blobFiles().length;
    const sent = await ann.sendGroupAttachment(id, { bytes: file, name: 'route map.pdf', mime: 'application/pdf', transfer: 't1', caption: 'the route' });
    expect(sent).toMatchObject({ kind: 'text', direction: 'out', text: 'the route', attachment: { name: 'route map.pdf', mime: 'application/pdf', size: 150_000 } });
    // ONE blob for three recipients.
    expect(blobFiles().length - before).toBe(1);
    for (const [i, p] of [ben, cat, dan].entries()) {
      const m = await eventually(async () => void (await fileIn(p, id, 'route map.pdf'))).then(() => fileIn(p, id, 'route map.pdf'));
      expect(m).toMatchObject({ sender: 'ann', direction: 'in', text: 'the route', attachment: { mime: 'application/pdf', size: 150_000 } });
      // P1: a view never carries the key, the digest or the blob id.
      expect(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v))).not.toMatch(/key|digest|blobId/);
      const got = await p.openGroupAttachment(id, m.id, 'd');
      expect({ ...got, bytes: await fileBytes(got.bytes) }).toEqual({ bytes: file, mime: 'application/pdf', name: 'route map.pdf' });
      // The host keeps the blob until the last of the three released it, then drops it.
      if (i < 2) {
        await eventually(async () => expect(await marked(p, groupOwner(m.id))).toMatchObject({ released: true }));
        expect(blobFiles().length - before).toBe(1);
      } else await eventually(() => expect(blobFiles().length - before).toBe(0));
    }
    // Everyone opens their own copy now, the sender too.
    for (const p of [ben, cat, dan]) expect(await fileBytes((await p.openGroupAttachment(id, (await fileIn(p, id, 'route map.pdf')).id, 'x')).bytes)).toEqual(file);
    expect(await fileBytes((await ann.openGroupAttachment(id, sent.id, 'x')).bytes)).toEqual(file);
    expect((await ben.listGroups())[0]!.lastPreview).toBe('the route');
    // The name is found by search (README "Search"), in the group.
    const found = await cat.searchMessages('map');
    expect(found.hits).toMatchObject([{ group: { id, name: 'Trip' }, file: 'route map.pdf' }]);

    // A voice note: the waveform and length arrive before anything is downloaded.
    const audio = bytes(9_000, 7);
    const preview = encodeVoicePreview({ durationMs: 4200, levels: Uint8Array.from([10, 200, 90]) });
    await ben.sendGroupAttachment(id, { bytes: audio, name: 'voice.webm', mime: 'audio/webm;codecs=opus', thumbnail: preview, transfer: 't2' });
    await eventually(async () => expect((await fileIn(dan, id, 'voice.webm')).attachment).toEqual({ name: 'voice.webm', mime: 'audio/webm', size: 9_000, thumbnail: preview }));
    expect((await dan.listGroups())[0]!.lastPreview).toBe('🎤 Voice message');
    expect(blobFiles().length - before).toBe(1);

    // The host flips one byte of the voice note's blob before cat and dan open it: both refuse it
    // and keep nothing; the sender's own copy is untouched.
    const dir = join(real.dataDir, BLOBS_DIR);
    const [only] = blobFiles();
    const stored = readFileSync(join(dir, only!));
    stored[4000]! ^= 0x01;
    writeFileSync(join(dir, only!), stored);
    for (const p of [cat, dan]) {
      const note = await fileIn(p, id, 'voice.webm');
      await expect(p.openGroupAttachment(id, note.id, 'x')).rejects.toMatchObject({ code: 'Tampered' });
      expect(await p.ctx.vault.db.count('files', IDBKeyRange.bound([groupOwner(note.id), -1], [groupOwner(note.id), Number.MAX_SAFE_INTEGER]))).toBe(0);
    }
    expect(await fileBytes((await ben.openGroupAttachment(id, (await fileIn(ben, id, 'voice.webm')).id, 'd')).bytes)).toEqual(audio);
    expect(blobFiles()).toEqual([only]);
  });

  test('P45 the pointer is kept sealed: after a reload a member still opens the file', async () => {
    const benDb = `gf-ben-${process.pid}-${n++}`;
    const ann = await person('ann');
    let ben = await person('ben', benDb);
    const id = await ann.createGroup('Pair', '', ['ben']);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    const file = bytes(70_000, 9);
    await ann.sendGroupAttachment(id, { bytes: file, name: 'photo.png', mime: 'image/png', thumbnail: bytes(300, 1), transfer: 't' });
    await eventually(async () => void (await fileIn(ben, id, 'photo.png')));
    await ben.close();
    engines = engines.filter((e) => e !== ben);
    ben = await person('ben', benDb, false);
    const m = await fileIn(ben, id, 'photo.png');
    expect(m.attachment).toEqual({ name: 'photo.png', mime: 'image/png', size: 70_000, thumbnail: bytes(300, 1) });
    const got = await ben.openGroupAttachment(id, m.id, 'd');
    expect({ ...got, bytes: await fileBytes(got.bytes) }).toEqual({ bytes: file, mime: 'image/png', name: 'photo.png' });
    // A message of another group, or a text, is not a file of this one.
    await expect(ben.openGroupAttachment('00'.repeat(32), m.id, 'd')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  test('P44 a member whose download stopped part-way resumes it at the next open, asking only for the rest; deleting the message for me takes the kept parts', async () => {
    const MiB = 1024 * 1024;
    const gets: number[] = [];
    let failAt: number | undefined;
    const ann = await person('ann');
    const ben = await person('ben', undefined, true, (t) => {
      const inner = t.anonymousFetch.bind(t);
      t.anonymousFetch = async (path, init = {}) => {
        const range = (init.headers as Record<string, string> | undefined)?.Range;
        const start = range ? Number(/^bytes=(\d+)-/.exec(range)![1]) : undefined;
        if (start !== undefined) gets.push(start / MiB);
        if (start !== undefined && start === failAt) return new Response(JSON.stringify({ error: { code: 'Unavailable', message: 'down' } }), { status: 503 });
        return inner(path, init);
      };
    });
    const id = await ann.createGroup('Pair', '', ['ben']);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    const file = bytes(2 * MiB + 100, 5);
    await ann.sendGroupAttachment(id, { bytes: file, name: 'big.bin', mime: '', transfer: 't' });
    await eventually(async () => void (await fileIn(ben, id, 'big.bin')));
    const m = await fileIn(ben, id, 'big.bin');
    const rows = async () => (await ben.ctx.vault.db.getAllKeys('files', IDBKeyRange.bound([groupOwner(m.id), -2], [groupOwner(m.id), Number.MAX_SAFE_INTEGER]))).map((k) => (k as [string, number])[1]);
    failAt = MiB;
    await expect(ben.openGroupAttachment(id, m.id, 'd')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(await rows()).toEqual([-2, 0]);
    const held = await ben.groupAttachmentHeld(id, m.id);
    expect(held).toBeGreaterThan(0.4);
    expect(held).toBeLessThan(1);
    failAt = undefined;
    gets.length = 0;
    // Buffer.equals: toEqual on megabytes of typed array takes seconds.
    expect(Buffer.from(await fileBytes((await ben.openGroupAttachment(id, m.id, 'd')).bytes)).equals(file)).toBe(true);
    expect(gets).toEqual([1, 2]);
    expect(await ben.groupAttachmentHeld(id, m.id)).toBe(1);

    // A second file stopped the same way goes with its message.
    await ann.sendGroupAttachment(id, { bytes: bytes(2 * MiB, 6), name: 'big2.bin', mime: '', transfer: 't2' });
    await eventually(async () => void (await fileIn(ben, id, 'big2.bin')));
    const m2 = await fileIn(ben, id, 'big2.bin');
    failAt = MiB;
    await expect(ben.openGroupAttachment(id, m2.id, 'd')).rejects.toMatchObject({ code: 'Unavailable' });
    const owner2 = groupOwner(m2.id);
    expect(await ben.ctx.vault.db.count('files', IDBKeyRange.bound([owner2, -2], [owner2, Number.MAX_SAFE_INTEGER]))).toBe(2);
    await ben.deleteGroupMessageForMe(id, m2.id);
    expect(await ben.ctx.vault.db.count('files', IDBKeyRange.bound([owner2, -2], [owner2, Number.MAX_SAFE_INTEGER]))).toBe(0);
  });

  test('P21 a removed member gets no pointer of a file sent after its removal, and uploads nothing itself', async () => {
    const { id, ann, rest } = await group(['ben', 'cat']);
    const [ben, cat] = rest as [Engine, Engine];
    // Ben's sender key reaches Ann and Cat with his first message.
    await ben.sendGroupText(id, 'hi');
    await eventually(async () => expect((await cat.listGroupMessages(id)).some((m) => m.kind === 'text' && m.text === 'hi')).toBe(true));
    const catsKeys = (await getGroup(cat.ctx.vault, id))!.theirs;
    expect(catsKeys.some((k) => k.theirAddress.username === 'ben')).toBe(true);

    await ann.removeGroupMember(id, 'cat');
    await eventually(async () => expect((await ben.groupInfo(id)).members.map((m) => m.username)).toEqual(['ann', 'ben']));
    await eventually(async () => expect((await cat.listGroups())[0]!.isMember).toBe(false));

    // What Ben's client uploads for the group message (the authenticated fan-out, to see the bytes).
    const uploads: { to: readonly Username[]; body: Uint8Array }[] = [];
    const t = ben.ctx.transport;
    const groupSend = t.groupSend!.bind(t);
    t.sendSealedMulti = undefined;
    t.groupSend = async (auth, to, body) => {
      uploads.push({ to, body });
      return groupSend(auth, to, body);
    };
    await ben.sendGroupAttachment(id, { bytes: bytes(40_000, 5), name: 'after.pdf', mime: 'application/pdf', transfer: 't' });
    await eventually(async () => void (await fileIn(ann, id, 'after.pdf')));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.to).toEqual(['ann']);
    // P21: even handed the upload, none of the sender keys Cat kept opens it (Ben rotated first).
    for (const k of catsKeys) expect(() => groupDecrypt(k, uploads[0]!.body, systemDeps)).toThrow();
    expect((await cat.listGroupMessages(id)).some((m) => m.kind === 'text' && m.attachment)).toBe(false);

    // Cat can no longer send a file to the group: refused before anything reaches the host.
    const blobs = blobFiles().length;
    await expect(cat.sendGroupAttachment(id, { bytes: bytes(1000, 1), name: 'x.bin', mime: '', transfer: 't' })).rejects.toMatchObject({ code: 'NotGroupMember' });
    expect(blobFiles().length).toBe(blobs);
  });

  test('P45 a pointer from a modified member client is checked as any: a wrong key or an impossible size opens nothing', async () => {
    const { id, ann, rest } = await group(['ben']);
    const [ben] = rest as [Engine];
    await ann.sendGroupAttachment(id, { bytes: bytes(20_000, 2), name: 'real.bin', mime: '', transfer: 't' });
    let g = (await getGroup(ann.ctx.vault, id))!;
    await eventually(async () => void (await fileIn(ben, id, 'real.bin')));
    const pointer = (await storedPointer(ann, id, 'real.bin'))!;
    // Ann's modified client sends pointers to the real blob: one with another key, one claiming 1 TiB.
    for (const [name, change] of [['wrong key.bin', { key: new Uint8Array(32).fill(7) }], ['huge.bin', { size: 2 ** 40 }]] as const) {
      const forged: AttachmentContent = { ...pointer, ...change, id: newMessageId(systemDeps.rng), sentAt: Date.now(), name };
      const { state, message } = groupEncrypt(g.our!, encodeGroupText({ headVersion: g.history.head.version, headHash: stateHash(g.history.head), content: encodeContent(forged) }));
      g = { ...g, our: state };
      await ann.ctx.transport.groupSend!(hostAuth(ann.ctx.me!), ['ben'] as Username[], message);
      const m = await eventually(async () => void (await fileIn(ben, id, name))).then(() => fileIn(ben, id, name));
      await expect(ben.openGroupAttachment(id, m.id, 'x')).rejects.toMatchObject({ code: 'Tampered' });
    }
  });
});

/** The pointer Ann's vault keeps for her file `name` (the test plays a modified client with it). */
async function storedPointer(e: Engine, id: string, name: string): Promise<AttachmentContent | undefined> {
  return (await listGroupMessages(e.ctx.vault, id)).find((m) => m.attachment?.name === name)?.attachment;
}
