/**
 * README "Message actions", P47 and P14: a message deleted for everyone while its encryption
 * still waits in the outbox (the host was out of reach when it was to go) never leaves. The
 * encryption is taken out and the delete names its ratchet header, so the receiver, whose
 * ratchet then skips that number, shows no "could not be delivered" marker for it; a message
 * the host really withholds is still marked (control). Real host; alice's sends fail while `down`.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { engineFail } from '../../workers/engine/errors';
import type { Engine } from '../../workers/engine/engine';
import { enginesOnRealHost, eventually, texts } from './real-host-support';

const { user } = enginesOnRealHost('parley-delete-unsent-');
const ALICE = asUsername('alice');
const BOB = asUsername('bob');

/** Alice, whose every send fails as an unreachable host would while `gate.down`, and bob, who have talked. */
interface Gate {
  down: boolean;
  sent: number;
  /** While set, a send waits for it (a slow host): the flush holds the queue it listed. */
  hold?: Promise<void>;
  /** Sends that reached the hold. */
  held?: number;
}

async function pair(gate: Gate): Promise<{ alice: Engine; bob: Engine }> {
  const through = async <T>(go: () => Promise<T>): Promise<T> => {
    if (gate.down) engineFail('Unavailable', 'host out of reach');
    if (gate.hold) {
      gate.held = (gate.held ?? 0) + 1;
      await gate.hold;
    }
    gate.sent++;
    return go();
  };
  const alice = await user('alice', {
    wrap: (t) => {
      const send = t.send.bind(t);
      const sendSealed = t.sendSealed.bind(t);
      t.send = (...a) => through(() => send(...a));
      t.sendSealed = (...a) => through(() => sendSealed(...a));
    }
  });
  const bob = await user('bob');
  await alice.sendText(BOB, 'hello bob');
  await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));
  await bob.sendText(ALICE, 'hello alice');
  await eventually(async () => expect(await texts(alice, 'bob')).toEqual(['hello bob', 'hello alice']));
  return { alice, bob };
}

/** Waits until alice's outbox is empty (her receipts to bob gone too), so the next send is first in line. */
async function drained(alice: Engine): Promise<void> {
  await eventually(async () => expect(await alice.ctx.vault.db.count('outbox')).toBe(0));
}

/** Waits until message `id`'s item in alice's outbox is encrypted (sent while down: it stays), and answers its row. */
async function encryptedWaiting(alice: Engine, id: string) {
  let row;
  await eventually(async () => {
    row = (await alice.ctx.vault.db.getAll('outbox')).find((r) => r.messageKey === id);
    expect(row?.ciphertext).toBeInstanceOf(Uint8Array);
  });
  return row!;
}

const missing = async (bob: Engine) => (await bob.listChats()).find((c) => c.username === ALICE)!.missing;

describe('delete for everyone before the message left', () => {
  test('P47 P14 an encrypted message still in the outbox is withdrawn: it never reaches bob, and bob marks nothing missing', async () => {
    const gate: Gate = { down: false, sent: 0 };
    const { alice, bob } = await pair(gate);
    // Twice: the delete right after the withdrawn number (the delete itself shows bob the skip),
    // then with a text between them (the text shows the skip first; the delete clears its marker).
    const want = ['hello bob', 'hello alice'];
    for (const between of [undefined, 'and this one stays']) {
      await drained(alice);
      gate.down = true;
      const oops = await alice.sendText(BOB, `sent to the wrong person${between ? ' again' : ''}`);
      const stays = between ? await alice.sendText(BOB, between) : undefined;
      await encryptedWaiting(alice, oops.id);
      await alice.deleteForEveryone(BOB, oops.id);
      // The withdrawn encryption is out of the outbox; a later text and the delete wait.
      const rows = await alice.ctx.vault.db.getAll('outbox');
      expect(rows.filter((r) => r.messageKey === oops.id)).toEqual([]);
      if (stays) expect(rows.filter((r) => r.messageKey === stays.id)).toHaveLength(1);
      expect((await alice.listMessages(BOB)).find((m) => m.id === oops.id)).toMatchObject({ kind: 'text', deleted: true, text: '' });

      gate.down = false;
      gate.sent = 0;
      alice.ctx.kickOutbox();
      // A text after the delete: once bob shows it, he has taken everything before it, in order.
      const after = `after the delete${between ? ' again' : ''}`;
      await alice.sendText(BOB, after);
      want.push(...(between ? [between] : []), after);
      await eventually(async () => expect(await texts(bob, 'alice')).toEqual(want));
      expect(gate.sent).toBeGreaterThanOrEqual(between ? 3 : 2);
      expect(await missing(bob)).toBe(0);
      expect((await bob.listMessages(ALICE)).filter((m) => m.kind === 'notice')).toEqual([]);
    }
  });

  test('P14 control: an encryption the host withholds is still marked missing at bob', async () => {
    const gate: Gate = { down: false, sent: 0 };
    const { alice, bob } = await pair(gate);
    await drained(alice);
    gate.down = true;
    const withheld = await alice.sendText(BOB, 'withheld by the host');
    const row = await encryptedWaiting(alice, withheld.id);
    // The host "loses" it: the item goes without a delete naming it (what a withholding host leaves).
    await alice.ctx.vault.db.delete('outbox', row.seq!);
    gate.down = false;
    await alice.sendText(BOB, 'after the gap');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 'after the gap']));
    await eventually(async () => expect(await missing(bob)).toBe(1));
  });

  test('P47 a flush that listed the queue before the delete sends neither the withdrawn encryption nor a withdrawn text it had not encrypted yet', async () => {
    const gate: Gate = { down: false, sent: 0 };
    const { alice, bob } = await pair(gate);
    const carol = await user('carol');
    await alice.sendText(asUsername('carol'), 'hello carol');
    await eventually(async () => expect(await texts(carol, 'alice')).toEqual(['hello carol']));
    await drained(alice);

    // A send to carol hangs on a slow host while alice writes to carol and to bob; the next flush
    // lists both, encrypts carol's (a run is one contact's) and hangs on it in turn, with bob's
    // still unencrypted in the queue it listed: withdraw bob's.
    let release!: () => void;
    let release2!: () => void;
    gate.held = 0;
    gate.hold = new Promise<void>((r) => (release = r));
    await alice.sendText(asUsername('carol'), 'to carol');
    await eventually(() => expect(gate.held).toBe(1));
    await alice.sendText(asUsername('carol'), 'to carol, twice');
    const early = await alice.sendText(BOB, 'first to bob');
    gate.hold = new Promise<void>((r) => (release2 = r));
    release();
    await eventually(() => expect(gate.held).toBe(2));
    expect((await alice.ctx.vault.db.getAll('outbox')).find((r) => r.messageKey === early.id)?.ciphertext).toBeUndefined();
    await alice.deleteForEveryone(BOB, early.id);
    const late = await alice.sendText(BOB, 'second to bob');
    gate.hold = undefined;
    release2();
    await eventually(async () => expect(await texts(carol, 'alice')).toEqual(['hello carol', 'to carol', 'to carol, twice']));
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 'second to bob']));
    expect(await missing(bob)).toBe(0);

    // Now the same with bob's texts encrypted already. A send to carol hangs while alice writes
    // twice to bob; the next flush lists both and encrypts them in one run, and its send of the
    // first hangs in turn, the second waiting in that flush's memory: withdraw the second.
    await drained(alice);
    const hold2 = new Promise<void>((r) => (release2 = r));
    gate.held = 0;
    gate.hold = new Promise<void>((r) => (release = r));
    await alice.sendText(asUsername('carol'), 'to carol again');
    await eventually(() => expect(gate.held).toBe(1));
    const a = await alice.sendText(BOB, 'third to bob');
    const b = await alice.sendText(BOB, 'fourth to bob, regretted');
    gate.hold = hold2;
    release();
    await eventually(() => expect(gate.held).toBe(2));
    const rows = await alice.ctx.vault.db.getAll('outbox');
    expect(rows.find((r) => r.messageKey === a.id)?.ciphertext).toBeInstanceOf(Uint8Array);
    expect(rows.find((r) => r.messageKey === b.id)?.ciphertext).toBeInstanceOf(Uint8Array);
    await alice.deleteForEveryone(BOB, b.id);
    gate.hold = undefined;
    release2();
    const after = await alice.sendText(BOB, 'fifth to bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 'second to bob', 'third to bob', 'fifth to bob']));
    expect(await missing(bob)).toBe(0);
    void after;
    void late;
  });
});
