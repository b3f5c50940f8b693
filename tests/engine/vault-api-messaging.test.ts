/**
 * The messaging surface of the vault contract as the page sees it through Comlink (serveVault):
 * every method resolves to a Result, engine error codes survive, events reach subscribers until
 * they unsubscribe, nothing returned holds key bytes (DESIGN.md §1), and the engine's views
 * (workers/engine/views.ts) are what the screens render.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { RemoteVault } from '../../src/lib/vault/contract';
import { serveVault } from '../../src/lib/vault/remote';
import type { VaultEvent } from '../../src/lib/vault/views';
import { Engine } from '../../workers/engine/engine';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { VaultService } from '../../workers/engine/vault-api';
import { toMessageView } from '../../workers/engine/views';
import { asUsername } from '../../src/lib/codec/username';

let counter = 0;

function apiFor(host: MemoryHost): RemoteVault {
  const dbName = `vault-api-${process.pid}-${counter++}`;
  return serveVault(new VaultService(() => Engine.open({ transport: host.transport(), dbName, locks: memoryLocks() })));
}

const bob = asUsername('bob');
const alice = asUsername('alice');

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
    expect(value(await alice.checkUsername('No spaces!'))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('3–32') });
    expect(value(await alice.checkUsername('Alice'))).toEqual({ kind: 'available' });
    expect(value(await alice.createAccount('Alice'))).toEqual({ username: 'alice' });
    expect(value(await alice.account())).toEqual({ username: 'alice' });
    expect(value(await apiFor(host).checkUsername('alice'))).toEqual({ kind: 'taken' });
  });

  test('alice writes to bob: chats, messages and contact info come back as plain data without bytes', async () => {
    const host = new MemoryHost();
    const [a, b] = [apiFor(host), apiFor(host)];
    value(await a.createAccount('alice'));
    value(await b.createAccount('bob'));
    value(await a.connect());
    value(await b.connect());

    value(await a.lookupUser('bob'));
    const sent = value(await a.sendText(bob, 'hi bob'));
    expect(sent).toMatchObject({ kind: 'text', direction: 'out', text: 'hi bob', username: 'bob' });
    await until(async () => value(await b.listChats()).some((c) => c.unread === 1));

    const chats = value(await b.listChats());
    const messages = value(await b.listMessages(alice));
    const contact = value(await b.contactInfo(alice));
    expect(chats).toEqual([
      { username: 'alice', route: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/), lastPreview: 'hi bob', lastAt: expect.any(Number), unread: 1, missing: 0, verified: false, blocked: false, identityChanged: false, request: true, flags: { pinned: false, muted: false, archived: false }, disappearing: 0 }
    ]);
    expect(messages).toEqual([{ kind: 'text', id: expect.any(String), username: 'alice', direction: 'in', text: 'hi bob', at: expect.any(Number), sortAt: expect.any(Number) }]);
    expect(contact.safetyNumber.replace(/ /g, '')).toMatch(/^\d{60}$/);
    for (const v of [chats, messages, contact, sent]) expect(holdsBytes(v)).toBe(false);

    expect(value(await b.markRead(alice))).toBe(1);
    // P42: read receipts go only once bob accepts alice's request.
    value(await b.acceptRequest(alice));
    expect(value(await b.listChats())[0]?.request).toBe(false);
    await until(async () => {
      const [m] = value(await a.listMessages(bob));
      return m?.kind === 'text' && m.status === 'read';
    });
    expect(value(await b.listChats())[0]?.unread).toBe(0);
  });

  test('engine error codes survive: an unknown user is NoSuchUser, not a thrown error', async () => {
    const host = new MemoryHost();
    const a = apiFor(host);
    value(await a.createAccount('alice'));
    const r = await a.lookupUser('nobody');
    expect(r).toEqual({ ok: false, error: { code: 'NoSuchUser', message: expect.any(String) } });
  });

  test('subscribers hear engine events until they unsubscribe', async () => {
    const host = new MemoryHost();
    const [a, b] = [apiFor(host), apiFor(host)];
    value(await a.createAccount('alice'));
    value(await b.createAccount('bob'));
    value(await b.connect());
    const seen: VaultEvent[] = [];
    const id = value(await b.subscribe((e) => seen.push(e)));

    value(await a.connect());
    value(await a.lookupUser('bob'));
    value(await a.sendText(bob, 'one'));
    await until(async () => seen.some((e) => e.type === 'message'));
    expect(seen.find((e) => e.type === 'message')).toEqual({
      type: 'message',
      username: 'alice',
      id: expect.any(String),
      message: expect.objectContaining({ kind: 'text', text: 'one', direction: 'in' })
    });
    // The engine's internal tab-role events stay inside the worker.
    expect(seen.some((e) => (e as { type: string }).type === 'role')).toBe(false);

    value(await b.unsubscribe(id));
    const before = seen.length;
    value(await a.sendText(bob, 'two'));
    await until(async () => value(await b.listMessages(alice)).length === 2);
    expect(seen.length).toBe(before);
  });
});

describe('view mapping', () => {
  test('a system record becomes a notice and a held outgoing message shows as held', () => {
    const base = { id: 'x', username: bob, sentAt: 5, receivedAt: 5, read: true };
    expect(toMessageView({ ...base, key: 'system:x', direction: 'system', body: 'identity-changed', status: 'received' })).toEqual({
      kind: 'notice',
      notice: 'identity-changed',
      id: 'system:x',
      username: 'bob',
      at: 5,
      sortAt: 5
    });
    expect(toMessageView({ ...base, key: 'x', direction: 'out', body: 'hi', status: 'blocked' })).toMatchObject({ kind: 'text', status: 'held' });
    expect(toMessageView({ ...base, key: 'x', direction: 'out', body: 'hi', status: 'failed' })).toMatchObject({ kind: 'text', status: 'failed' });
    expect(toMessageView({ ...base, key: 'x', direction: 'in', body: 'hi', status: 'received' })).not.toHaveProperty('status');
  });
});
