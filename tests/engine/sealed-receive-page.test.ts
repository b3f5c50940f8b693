/**
 * SECURITY.md P41 with P12 and P34: sealed envelopes go through the same paged, commit-then-ack
 * receive as every other (inbox.ts `receiveEnvelopes`, receive-queue.ts), engine against the real
 * host (HTTP, WebSocket, SQLite on disk). A burst of sealed texts is one page: a crash in the
 * middle of its transaction writes none of it and acks none of it; redelivered, every message is
 * opened and decrypted from what is stored and shows exactly once, in order.
 */
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { DB_FILE } from '../../src/host/storage/sqlite';
import type { Username } from '../../src/lib/codec/username';
import type { Faults } from '../../workers/engine/context';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { pinnedTrust } from '../../workers/engine/sealed-state';
import type { Envelope, HostAuth, InboxSink, SealedEnvelope } from '../../workers/engine/transport';
import type { Store } from '../../workers/storage/schema';
import { eventually, realHostPerTest, texts } from './real-host-support';
import { openedRows } from '../support/host-names';
import { statusOf } from './support';

/** The real transport, except that pushed envelopes can be held and then handed over in one burst. */
class HeldTransport extends HostHttpTransport {
  hold = false;
  readonly held: (Envelope | SealedEnvelope)[] = [];
  #sink?: InboxSink;

  override connect(auth: HostAuth, sink: InboxSink): void {
    this.#sink = sink;
    super.connect(auth, { ...sink, envelope: (e) => (this.hold ? void this.held.push(e) : sink.envelope(e)) });
  }

  /** Every held envelope at once, as the socket delivers a backlog. */
  release(): void {
    this.hold = false;
    for (const e of this.held.splice(0)) this.#sink!.envelope(e);
  }
}

const engines: Engine[] = [];
const real = realHostPerTest('parley-sealed-page-', async () => {
  for (const e of engines.splice(0)) await e.close();
});
let n = 0;

async function user(name: string, faults: Faults = {}): Promise<{ engine: Engine; transport: HeldTransport }> {
  const transport = new HeldTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const engine = await Engine.open({ transport, faults, dbName: `sealed-page-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
  engines.push(engine);
  await engine.createAccount(name);
  engine.connect();
  return { engine, transport };
}

function envelopeRows(): { recipient: string; sender: string }[] {
  const db = new Database(`${real.dataDir}/${DB_FILE}`, { readonly: true });
  try {
    return openedRows(real.dataDir, db.prepare('SELECT recipient, sender FROM envelopes ORDER BY id').all() as { recipient: string; sender: string }[]);
  } finally {
    db.close();
  }
}

/** What a page of received texts writes, if anything. */
const PAGE_STORES: Store[] = ['sessions', 'skippedKeys', 'contacts', 'chats', 'messages', 'outbox', 'failures'];
async function dump(e: Engine): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const s of PAGE_STORES) out[s] = await e.ctx.vault.db.getAll(s);
  return out;
}

describe('sealed envelopes in receive pages', () => {
  test('P41 P12 P34 a crash in the middle of a page of sealed envelopes writes and acks none of it; redelivered, each shows once, in order', async () => {
    let crash = false;
    let stored = 0;
    const { engine: alice } = await user('alice');
    const { engine: bob, transport } = await user('bob', {
      // Runs after each stored envelope's rows, inside the page's transaction: the 5th kills it.
      midReceiveCommit: () => {
        if (crash && ++stored >= 5) throw new Error('simulated crash mid-page');
      }
    });
    await alice.lookupUser('bob');
    await alice.sendText('bob', 'first');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first']));
    // Bob's reply (accepting) gives alice his profile key: from then on she seals to him.
    const reply = await bob.sendText('alice', 'reply');
    await eventually(async () => expect(statusOf(await bob.listMessages('alice'), reply.id)).toBe('delivered'));

    bob.disconnect();
    await eventually(() => expect(envelopeRows()).toEqual([]));
    const sent = Array.from({ length: 8 }, (_, i) => `sealed ${i}`);
    for (const t of sent) await alice.sendText('bob', t);
    await eventually(() => expect(envelopeRows()).toHaveLength(sent.length));
    // Sealed: the host holds no sender for any of them.
    expect(envelopeRows().every((r) => r.sender === '' && r.recipient === 'bob')).toBe(true);

    // Bob comes back; the backlog is held until his connection has settled, then arrives at once.
    transport.hold = true;
    bob.connect();
    await eventually(() => expect(transport.held).toHaveLength(sent.length));
    await bob.settle();
    await pinnedTrust(bob.ctx); // pinned on first use, outside any page
    const before = await dump(bob);
    const errors: EngineEvent[] = [];
    const off = bob.subscribe((e) => void (e.type === 'receive-error' && errors.push(e)));
    crash = true;
    transport.release();
    await eventually(() => expect(errors).toHaveLength(sent.length));
    await bob.settle();
    off();
    // Four envelopes' rows and sessions were written in that transaction before the crash: none remain.
    expect(stored).toBeGreaterThanOrEqual(5);
    expect(await dump(bob)).toEqual(before);
    expect(envelopeRows()).toHaveLength(sent.length);
    // A sealed envelope names no sender, not even in an error report.
    expect(errors.map((e) => (e as { username: Username }).username)).toEqual(sent.map(() => ''));

    crash = false;
    bob.disconnect();
    bob.connect();
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['first', 'reply', ...sent]));
    await eventually(() => expect(envelopeRows()).toEqual([]));
    // Nothing was refused on redelivery: no envelope was decrypted twice (a second decrypt fails).
    expect(await bob.ctx.vault.db.count('failures')).toBe(0);
    expect((await bob.listChats())[0]?.unread).toBe(1 + sent.length);
  });
});
