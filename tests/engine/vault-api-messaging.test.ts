/**
 * The messaging surface of the vault API (issue 3) as the page sees it through Comlink: every
 * method resolves to a Result, engine error codes survive, events reach subscribers until they
 * unsubscribe, nothing returned holds key bytes (DESIGN.md §1), and the page's view mapping
 * (src/lib/client/views.ts) turns engine records into what the screens render.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { toChatView, toMessageView, toVaultEvent } from '../../src/lib/client/views';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { VaultApi } from '../../workers/engine/vault-api';

let counter = 0;

function apiFor(host: MemoryHost): VaultApi {
  const dbName = `vault-api-${process.pid}-${counter++}`;
  return new VaultApi(() => Engine.open({ transport: host.transport(), dbName, locks: memoryLocks() }));
}

function value<T>(r: { ok: true; value: T } | { ok: false; error: { code: string } }): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}`);
  return r.value;
}

/** True if any value reachable from `v` is binary (a key would be). */
function holdsBytes(v: unknown): boolean {
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return true;
  if (v && typeof v === 'object') return Object.values(v).some(holdsBytes);
  return false;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not reached');
}

describe('vault API messaging surface', () => {
  test('onboarding: no account, then a checked name is created and reported', async () => {
    const host = new MemoryHost();
    const alice = apiFor(host);
    expect(value(await alice.account())).toBeNull();
    expect(value(await alice.checkUsername('No spaces!'))).toMatchObject({ valid: false, available: false });
    expect(value(await alice.checkUsername('Alice'))).toEqual({ username: 'alice', valid: true, available: true });
    expect(value(await alice.createAccount('Alice'))).toEqual({ username: 'alice' });
    expect(value(await alice.account())).toEqual({ username: 'alice' });
    expect(value(await apiFor(host).checkUsername('alice'))).toMatchObject({ available: false });
  });

  test('alice writes to bob: chats, messages and contact info come back as plain data without bytes', async () => {
    const host = new MemoryHost();
    const [alice, bob] = [apiFor(host), apiFor(host)];
    value(await alice.createAccount('alice'));
    value(await bob.createAccount('bob'));
    value(await alice.connect());
    value(await bob.connect());

    value(await alice.lookupUser('bob'));
    const sent = value(await alice.sendText('bob', 'hi bob'));
    expect(sent).toMatchObject({ direction: 'out', body: 'hi bob', chatId: 'bob' });
    await until(async () => value(await bob.listChats()).some((c) => c.unread === 1));

    const chats = value(await bob.listChats());
    const messages = value(await bob.listMessages('alice'));
    const contact = value(await bob.contactInfo('alice'));
    expect(chats.map(toChatView)).toEqual([
      { username: 'alice', lastPreview: 'hi bob', lastAt: expect.any(Number), unread: 1, blocked: false, identityChanged: false }
    ]);
    expect(messages.map(toMessageView)).toEqual([
      { kind: 'text', id: expect.any(String), chat: 'alice', direction: 'in', text: 'hi bob', at: expect.any(Number) }
    ]);
    expect(contact.safetyNumber.replace(/ /g, '')).toMatch(/^\d{60}$/);
    for (const v of [chats, messages, contact, sent]) expect(holdsBytes(v)).toBe(false);

    value(await bob.markRead('alice'));
    await until(async () => value(await alice.listMessages('bob'))[0]?.status === 'read');
    expect(value(await bob.listChats())[0]?.unread).toBe(0);
  });

  test('engine error codes survive: an unknown user is NoSuchUser, not a thrown error', async () => {
    const host = new MemoryHost();
    const alice = apiFor(host);
    value(await alice.createAccount('alice'));
    const r = await alice.lookupUser('nobody');
    expect(r).toEqual({ ok: false, error: { code: 'NoSuchUser', message: expect.any(String) } });
  });

  test('subscribers hear engine events until they unsubscribe', async () => {
    const host = new MemoryHost();
    const [alice, bob] = [apiFor(host), apiFor(host)];
    value(await alice.createAccount('alice'));
    value(await bob.createAccount('bob'));
    value(await bob.connect());
    const seen: EngineEvent[] = [];
    const id = value(await bob.subscribe((e) => seen.push(e)));

    value(await alice.connect());
    value(await alice.lookupUser('bob'));
    value(await alice.sendText('bob', 'one'));
    await until(async () => seen.some((e) => e.type === 'message'));
    expect(toVaultEvent(seen.find((e) => e.type === 'message')!)).toEqual({ type: 'message', chat: 'alice', id: expect.any(String) });

    value(await bob.unsubscribe(id));
    const before = seen.length;
    value(await alice.sendText('bob', 'two'));
    await until(async () => value(await bob.listMessages('alice')).length === 2);
    expect(seen.length).toBe(before);
  });
});

describe('view mapping', () => {
  test('a system record becomes a notice and a held outgoing message shows as held', () => {
    const base = { id: 'x', chatId: 'bob', sentAt: 5, receivedAt: 5, read: true };
    expect(toMessageView({ ...base, key: 'system:x', direction: 'system', body: 'identity-changed', status: 'received' })).toEqual({
      kind: 'notice',
      notice: 'identity-changed',
      id: 'system:x',
      chat: 'bob',
      at: 5
    });
    expect(toMessageView({ ...base, key: 'x', direction: 'out', body: 'hi', status: 'blocked' })).toMatchObject({ kind: 'text', status: 'held' });
    expect(toVaultEvent({ type: 'role', role: 'driver' })).toBeUndefined();
  });
});
