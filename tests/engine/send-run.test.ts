/**
 * The outbox's runs (outbox.ts `encryptItem`, send-page.ts; SECURITY.md P34, P36): texts queued
 * for one contact are encrypted one after another on the session held in memory and stored, all
 * their ciphertexts with the advanced session, in ONE transaction before the first is sent; the
 * contact receives each once, in order.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { MemoryHost } from '../../workers/engine/memory-host';
import { listOutbox } from '../../workers/storage/outbox-repo';
import { closeAll, newUser, settle, texts, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

describe('send runs', () => {
  test('P34 texts queued for one contact are encrypted and stored in one run before the first is sent; each arrives once, in order', async () => {
    const host = new MemoryHost();
    const transport = host.transport();
    const send = transport.send.bind(transport);
    const probe: { read?: () => Promise<number> } = {};
    let atFirstSend: Promise<number> | undefined;
    transport.send = (auth, to, body) => {
      atFirstSend ??= probe.read?.();
      return send(auth, to, body);
    };
    const alice = await newUser(host, 'alice', { transport });
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.sendText('bob', 'start');
    await settle(alice, bob);
    await bob.engine.sendText('alice', 'reply');
    await settle(alice, bob);

    await alice.engine.disconnect();
    const queued = Array.from({ length: 6 }, (_, i) => `queued ${i}`);
    for (const t of queued) await alice.engine.sendText('bob', t);
    await settle(alice);
    expect((await listOutbox(alice.engine.ctx.vault)).filter((i) => i.ciphertext)).toHaveLength(0);
    // How many queued items hold their ciphertext when the first of them is handed to the host.
    probe.read = async () => (await listOutbox(alice.engine.ctx.vault)).filter((i) => i.ciphertext).length;
    await alice.engine.connect();
    await settle(alice, bob);
    expect(await atFirstSend).toBe(queued.length);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', ...queued]);
    expect(host.pending(asUsername('bob'))).toEqual([]);
    expect(await listOutbox(alice.engine.ctx.vault)).toEqual([]);
  });
});
