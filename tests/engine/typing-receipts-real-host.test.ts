/**
 * Typing indicators and the read-receipts switch (README "Typing indicators", "Read receipts"),
 * the real engine against the real host (HTTP, WebSocket, SQLite on disk):
 * - a typing notice goes sealed (P41), the same size on the host as a read receipt and a short
 *   text, is shown once and stored nowhere; a replay of it shows nothing (P13);
 * - none goes to, or is shown from, a message request or a blocked person (P42), and none with
 *   the setting off;
 * - read receipts off: no read receipt leaves (delivered ones still do), and others' read
 *   receipts move our messages to "delivered" only.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { DELIVERY_TOKEN_HEADER, SEALED_API } from '../../src/lib/wire/sealed-api';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { profileKey } from '../../workers/engine/profile-key';
import { listOutbox } from '../../workers/storage/outbox-repo';
import { enginesOnRealHost, eventually, texts } from './real-host-support';
import { openedRows } from '../support/host-names';
import { statusOf } from './support';

const { real, user } = enginesOnRealHost('parley-typing-');

type Row = { recipient: string; sender: string; size: number; body: Buffer };

function envelopeRows(): Row[] {
  const db = new Database(join(real.dataDir, DB_FILE), { readonly: true });
  try {
    return openedRows(real.dataDir, db.prepare('SELECT recipient, sender, length(body) AS size, body FROM envelopes ORDER BY id').all() as Row[]);
  } finally {
    db.close();
  }
}

/** Alice and bob wrote to each other (each holds the other's profile key), every receipt landed. */
async function pair(): Promise<{ alice: Engine; bob: Engine }> {
  const alice = await user('alice');
  const bob = await user('bob');
  await alice.lookupUser('bob');
  const first = await alice.sendText('bob', 'hello');
  await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello']));
  const reply = await bob.sendText('alice', 'hi');
  await eventually(async () => expect(statusOf(await bob.listMessages('alice'), reply.id)).toBe('delivered'));
  await eventually(async () => expect(statusOf(await alice.listMessages('bob'), first.id)).toBe('delivered'));
  await alice.markRead('bob');
  await bob.markRead('alice');
  await eventually(async () => expect(statusOf(await alice.listMessages('bob'), first.id)).toBe('read'));
  await eventually(async () => expect(statusOf(await bob.listMessages('alice'), reply.id)).toBe('read'));
  await eventually(async () => expect(envelopeRows()).toEqual([]));
  return { alice, bob };
}

function typingEvents(e: Engine): EngineEvent[] {
  const seen: EngineEvent[] = [];
  e.subscribe((ev) => void (ev.type === 'typing' && seen.push(ev)));
  return seen;
}

/** Lets a send that should not happen have every chance to happen. */
async function quiet(...es: Engine[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    for (const e of es) await e.settle();
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('typing indicators against the real host', () => {
  test('P41 a typing notice goes sealed, the same size on the host as a read receipt and a short text; shown once, stored nowhere, a replay shows nothing (P13)', async () => {
    const { alice, bob } = await pair();
    const seen = typingEvents(bob);
    bob.disconnect();
    await alice.sendTyping('bob', true);
    await eventually(async () => expect(envelopeRows()).toHaveLength(1));
    const typing = envelopeRows()[0]!;
    // Bob, offline, writes a text for alice to read (queued until he connects).
    await bob.sendText('alice', 'read me');
    bob.connect();
    await eventually(() => expect(seen).toEqual([{ type: 'typing', username: 'alice', typing: true }]));
    await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['hello', 'hi', 'read me']));
    // Alice's delivery receipt for it has reached bob: nothing of hers is still in flight below.
    await eventually(async () => expect((await bob.listMessages('alice')).find((m) => m.kind === 'text' && m.text === 'read me')).toMatchObject({ status: 'delivered' }));
    bob.disconnect();
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    await alice.markRead('bob');
    await alice.sendText('bob', 'ok');
    await eventually(async () => expect(envelopeRows()).toHaveLength(2));
    const [receipt, text] = envelopeRows() as [Row, Row];
    expect([typing, receipt, text].map((r) => r.sender)).toEqual(['', '', '']);
    expect(receipt.size).toBe(typing.size);
    expect(text.size).toBe(typing.size);

    // Nothing of it was stored: bob's conversation and chat list hold only the texts.
    bob.connect();
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello', 'hi', 'read me', 'ok']));
    expect((await bob.listMessages('alice')).filter((m) => m.kind !== 'text')).toEqual([]);
    expect((await bob.listChats()).map((c) => c.lastPreview)).toEqual(['ok']);

    // The host replays the typing envelope, sealed with bob's real delivery token: nothing shows.
    const token = deliveryToken(await profileKey(bob.ctx), bob.ctx.me!.username);
    const res = await fetch(real.host!.url + SEALED_API.messages + 'bob', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', [DELIVERY_TOKEN_HEADER]: toBase64Url(token) },
      body: new Uint8Array(typing.body)
    });
    expect(res.status).toBe(201);
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    await quiet(alice, bob);
    expect(seen).toHaveLength(1);
  });

  test('P42 no typing notice to or from a message request, nor to or from a blocked person', async () => {
    const bob = await user('bob');
    const carol = await user('carol');
    const bobSeen = typingEvents(bob);
    const carolSeen = typingEvents(carol);
    await carol.lookupUser('bob');
    await carol.sendText('bob', 'hello from a stranger');
    await eventually(async () => expect(await texts(bob, 'carol')).toHaveLength(1));
    expect((await bob.listChats())[0]?.request).toBe(true);
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    // Bob does not type to a request; carol has no token of bob's (he never accepted): nothing goes.
    await bob.sendTyping('carol', true);
    await carol.sendTyping('bob', true);
    await quiet(bob, carol);
    expect(envelopeRows()).toEqual([]);
    expect(bobSeen).toEqual([]);
    expect(carolSeen).toEqual([]);

    // Blocked: alice and bob talk, then bob blocks alice. He sends her nothing; hers are dropped.
    const alice = await user('alice');
    const aliceSeen = typingEvents(alice);
    await alice.lookupUser('bob');
    await alice.sendText('bob', 'hi bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toHaveLength(1));
    await bob.sendText('alice', 'hi alice');
    await eventually(async () => expect(await texts(alice, 'bob')).toHaveLength(2));
    await alice.sendTyping('bob', true);
    await eventually(() => expect(bobSeen).toEqual([{ type: 'typing', username: 'alice', typing: true }]));
    await bob.block('alice');
    await quiet(alice, bob);
    await bob.sendTyping('alice', true);
    await alice.sendTyping('bob', false);
    await quiet(alice, bob);
    expect(aliceSeen).toEqual([]);
    expect(bobSeen).toHaveLength(1);
  });

  test('typing indicators off: neither sent nor shown', async () => {
    const { alice, bob } = await pair();
    const bobSeen = typingEvents(bob);
    const aliceSeen = typingEvents(alice);
    expect((await bob.setPrivacySettings({ typingIndicators: false })).typingIndicators).toBe(false);
    // Other settings keep their value.
    expect(await bob.privacySettings()).toMatchObject({ callsOnlyFromContacts: false, typingIndicators: false, readReceipts: true });
    bob.disconnect();
    await bob.sendTyping('alice', true);
    await alice.sendTyping('bob', true);
    await eventually(async () => expect(envelopeRows()).toHaveLength(1));
    expect(envelopeRows()[0]!.recipient).toBe('bob');
    bob.connect();
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    await quiet(alice, bob);
    expect(bobSeen).toEqual([]);
    expect(aliceSeen).toEqual([]);
  });
});

describe('read receipts switch against the real host', () => {
  test('read receipts off: markRead sends no read receipt (delivered still goes), and their read receipts show as delivered only', async () => {
    const { alice, bob } = await pair();
    expect((await alice.setPrivacySettings({ readReceipts: false })).readReceipts).toBe(false);
    const m = await bob.sendText('alice', 'are you there?');
    // Alice's delivery receipt still goes.
    await eventually(async () => expect(statusOf(await bob.listMessages('alice'), m.id)).toBe('delivered'));
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    bob.disconnect();
    expect(await alice.markRead('bob')).toBe(1);
    await quiet(alice);
    expect(await listOutbox(alice.ctx.vault)).toEqual([]);
    expect(envelopeRows()).toEqual([]);
    bob.connect();
    await quiet(alice, bob);
    expect(statusOf(await bob.listMessages('alice'), m.id)).toBe('delivered');

    // Bob still sends read receipts; alice keeps none of them: her message stays "delivered".
    const mine = await alice.sendText('bob', 'yes');
    await eventually(async () => expect(await texts(bob, 'alice')).toContain('yes'));
    await bob.markRead('alice');
    await eventually(async () => expect(envelopeRows()).toEqual([]));
    await quiet(alice, bob);
    expect(statusOf(await alice.listMessages('bob'), mine.id)).toBe('delivered');

    // Accepting a request with read receipts off acknowledges what was read as delivered only.
    const carol = await user('carol');
    await carol.lookupUser('alice');
    const hers = await carol.sendText('alice', 'hello alice');
    await eventually(async () => expect(await texts(alice, 'carol')).toEqual(['hello alice']));
    await alice.markRead('carol');
    await alice.acceptRequest('carol');
    await eventually(async () => expect(statusOf(await carol.listMessages('alice'), hers.id)).toBe('delivered'));
    await quiet(alice, carol);
    expect(statusOf(await carol.listMessages('alice'), hers.id)).toBe('delivered');
  });
});
