/**
 * Session lifecycle across the engine (SECURITY.md P3, P35): a contact's identity changing on an
 * incoming prekey message, accepting it, simultaneous session starts, and retry while the host
 * is down.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost, type MemoryTransport } from '../../workers/engine/memory-host';
import { engineFail } from '../../workers/engine/errors';
import { closeAll, newUser, settle, texts, type User } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

describe('sessions', () => {
  test('P3 a verified contact who comes back with a new identity is flagged, shown, and blocks sending until accepted', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'hi');
    await settle(alice, bob);
    await alice.engine.markVerified('bob', { scannedQr: (await bob.engine.contactInfo('alice')).qrPayload });
    const verifiedNumber = (await alice.engine.contactInfo('bob')).safetyNumber;

    // Bob reinstalls: the host forgets the old account and a new identity claims "bob".
    await bob.engine.close();
    open = open.filter((u) => u !== bob);
    host.accounts.delete('bob');
    const bob2 = await newUser(host, 'bob');
    open.push(bob2);
    await bob2.engine.lookupUser('alice');
    await bob2.engine.sendText('alice', 'new phone, who dis');
    await settle(alice, bob2);

    expect(await texts(alice, 'bob')).toEqual(['hi', 'new phone, who dis']);
    const info = await alice.engine.contactInfo('bob');
    expect(info).toMatchObject({ verified: false, identityChanged: true, sendBlocked: true });
    expect(info.safetyNumber).not.toBe(verifiedNumber);
    expect(info.safetyNumber).toBe((await bob2.engine.contactInfo('alice')).safetyNumber);
    await expect(alice.engine.sendText('bob', 'blocked')).rejects.toMatchObject({ code: 'UntrustedIdentity' });

    await alice.engine.acceptIdentityChange('bob');
    expect(await alice.engine.contactInfo('bob')).toMatchObject({ verified: false, identityChanged: false, sendBlocked: false });
    await alice.engine.sendText('bob', 'welcome back');
    await settle(alice, bob2);
    expect(await texts(bob2, 'alice')).toEqual(['new phone, who dis', 'welcome back']);
  });

  test('P35 both sides start a session at the same time and converge without losing messages', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    host.autoPush = false;
    await alice.engine.lookupUser('bob');
    await bob.engine.lookupUser('alice');
    await alice.engine.sendText('bob', 'a1');
    await bob.engine.sendText('alice', 'b1');
    await settle(alice, bob);
    host.autoPush = true;
    host.push(asUsername('alice'));
    host.push(asUsername('bob'));
    await settle(alice, bob);
    for (let i = 2; i <= 4; i++) {
      await alice.engine.sendText('bob', `a${i}`);
      await bob.engine.sendText('alice', `b${i}`);
      await settle(alice, bob);
    }
    const expected = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4'];
    expect((await texts(alice, 'bob')).sort()).toEqual([...expected].sort());
    expect((await texts(bob, 'alice')).sort()).toEqual([...expected].sort());
    expect(await alice.engine.ctx.vault.db.getAll('failures')).toEqual([]);
    expect(await bob.engine.ctx.vault.db.getAll('failures')).toEqual([]);
  });

  test('messages queued while the host is down go out on retry, once', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice', { retryMs: 5 });
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    host.up = false;
    await alice.engine.sendText('bob', 'one');
    await alice.engine.sendText('bob', 'two');
    await settle(alice, bob);
    expect(host.sent).toHaveLength(0);
    host.up = true;
    for (let i = 0; i < 100 && (await texts(bob, 'alice')).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['one', 'two']);
    expect(host.sent.filter((s) => s.from === 'alice')).toHaveLength(2);
  });

  test('a retry cut short by a disconnect (the app lock) still retries after the next connect', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice', { retryMs: 100 });
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    // The host takes connections but refuses sends, as a host under load does.
    const transport = alice.engine.ctx.transport as MemoryTransport;
    const send = transport.send.bind(transport);
    let refusing = true;
    let tries = 0;
    transport.send = async (...a) => {
      tries++;
      if (refusing) engineFail('Unavailable', 'host is busy');
      return send(...a);
    };
    await alice.engine.sendText('bob', 'one');
    await settle(alice, bob); // refused: a retry waits
    expect(tries).toBeGreaterThanOrEqual(1);
    await alice.engine.disconnect(); // drops that retry's timer
    await alice.engine.connect(); // online: the outbox is tried at once, and refused again
    await settle(alice, bob);
    expect(tries).toBeGreaterThanOrEqual(2);
    refusing = false; // no reconnect comes now: only a retry can send it
    for (let i = 0; i < 100 && (await texts(bob, 'alice')).length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await texts(bob, 'alice')).toEqual(['one']);
  });
});
