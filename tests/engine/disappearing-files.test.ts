/**
 * A file sent in a disappearing chat (SECURITY.md P44) through the engine and the REAL host: it
 * carries the chat's timer like a text (content kind 0x12 around 0x10), its clock starts at sending
 * for alice and at reading for bob, and when it expires the row — the file's key, digest and blob
 * id with it — is gone from both vaults, through the one removal path (message-removal.ts).
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { expireDue } from '../../workers/engine/expiry';
import { getMessage } from '../../workers/storage/message-repo';
import { systemDeps } from '../../src/lib/crypto/deps';
import type { Username } from '../../src/lib/codec/username';
import { eventually, realHostPerTest } from './real-host-support';

let engines: Engine[] = [];
let n = 0;
/** Real time for the host's sake, plus an offset the test moves: the engines' clock. */
let offset = 0;
const deps = { rng: systemDeps.rng, now: () => Date.now() + offset };
const real = realHostPerTest('parley-vanish-', async () => {
  for (const e of engines) await e.close();
  engines = [];
  offset = 0;
});

async function open(name: string): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport, dbName: `vanish-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50, deps });
  engines.push(e);
  return e;
}

describe('P44 disappearing files', () => {
  test('P44 a file in a disappearing chat carries the timer and leaves no key, digest, blob id or copy of the file behind on either side', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    await alice.createAccount('alice');
    await bob.createAccount('bob');
    alice.connect();
    bob.connect();
    await alice.lookupUser('bob');
    await alice.sendText('bob' as Username, 'hi');
    await eventually(async () => expect((await bob.listChats()).length).toBe(1));
    await bob.acceptRequest('alice' as Username);
    await alice.setDisappearing('bob' as Username, 300);
    await eventually(async () => expect((await bob.listChats())[0]?.disappearing).toBe(300));

    const sent = await alice.sendAttachment('bob' as Username, { bytes: new Uint8Array(5000).fill(7), name: 'a.txt', mime: 'text/plain', transfer: 't1' });
    const mine = await getMessage(alice.ctx.vault, sent.id);
    expect(mine?.expireTimer).toBe(300);
    expect(mine?.expiresAt).toBeGreaterThan(Date.now());
    let key = '';
    await eventually(async () => {
      const m = (await bob.listMessages('alice' as Username)).find((x) => x.kind === 'text' && x.attachment);
      key = m!.id;
    });
    expect((await getMessage(bob.ctx.vault, key))?.expireTimer).toBe(300);
    expect((await getMessage(bob.ctx.vault, key))?.expiresAt).toBeUndefined();
    await bob.markRead('alice' as Username);
    expect((await getMessage(bob.ctx.vault, key))?.expiresAt).toBeGreaterThan(Date.now());
    // Both hold a copy of the file (the sender's since its upload, bob's since he opened it).
    await bob.openAttachment('alice', key, 't1');
    expect(await alice.ctx.vault.db.count('files')).toBe(2);
    expect(await bob.ctx.vault.db.count('files')).toBe(2);

    offset = 5 * 60_000 + 1000;
    for (const e of [alice, bob]) await e.ctx.serial(() => expireDue(e.ctx));
    expect(await alice.ctx.vault.db.get('messages', sent.id)).toBeUndefined();
    expect(await bob.ctx.vault.db.get('messages', key)).toBeUndefined();
    // The copies went with the messages, in the same transaction (file-repo.ts).
    expect(await alice.ctx.vault.db.count('files')).toBe(0);
    expect(await bob.ctx.vault.db.count('files')).toBe(0);
    await expect(bob.openAttachment('alice', key, 't2')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
