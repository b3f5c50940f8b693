/**
 * Crash safety and storage hygiene (SECURITY.md P12, P15, P32, P34): a failure between decrypt
 * and commit changes nothing and the envelope is processed once on redelivery; a crash between
 * commit and ack shows the message once; used one-time prekeys and plaintext keys never remain.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { decodePreKeyMessage } from '../../src/lib/crypto/message';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Faults } from '../../workers/engine/context';
import { MemoryHost } from '../../workers/engine/memory-host';
import { preKeyKey } from '../../workers/storage/prekey-repo';
import { ALL_STORES } from '../../workers/storage/schema';
import { openBytes } from '../../workers/storage/record-seal';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Every value in every store, as a structured snapshot. */
async function dump(u: User): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const s of ALL_STORES) out[s] = await u.engine.ctx.vault.db.getAll(s);
  return out;
}

/** True if `needle` occurs in any byte array reachable from `v`. */
function containsBytes(v: unknown, needle: Uint8Array): boolean {
  if (v instanceof Uint8Array) {
    for (let i = 0; i + needle.length <= v.length; i++) if (bytesEqual(v.subarray(i, i + needle.length), needle)) return true;
    return false;
  }
  if (v instanceof ArrayBuffer) return containsBytes(new Uint8Array(v), needle);
  if (v && typeof v === 'object') return Object.values(v).some((x) => containsBytes(x, needle));
  return false;
}

async function setup(faults: Faults) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob', { faults });
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  return { host, alice, bob };
}

describe('atomic receive', () => {
  test('P12 P34 a crash between decrypt and commit leaves state unchanged; on retry the message shows once', async () => {
    let crash = true;
    const { host, alice, bob } = await setup({
      midReceiveCommit: () => {
        if (crash) throw new Error('simulated crash');
      }
    });
    const before = await dump(bob);
    await alice.engine.sendText('bob', 'first');
    await settle(alice, bob);
    expect(await dump(bob)).toEqual(before);
    expect(host.pending(asUsername('bob'))).toHaveLength(1);

    crash = false;
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['first']);
    expect(host.pending(asUsername('bob'))).toHaveLength(0);

    // Same again on an established session (a ratchet message).
    await bob.engine.sendText('alice', 'reply');
    await settle(alice, bob);
    crash = true;
    const mid = await dump(bob);
    await alice.engine.sendText('bob', 'second');
    await settle(alice, bob);
    expect((await dump(bob)).sessions).toEqual(mid.sessions);
    expect(await texts(bob, 'alice')).toEqual(['first', 'reply']);
    crash = false;
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['first', 'reply', 'second']);
  });

  test('P12 a flipped byte in a delivered envelope is a typed failure and leaves the stored session byte-identical', async () => {
    const { host, alice, bob } = await setup({});
    await alice.engine.sendText('bob', 'start');
    await settle(alice, bob);
    await bob.engine.sendText('alice', 'reply');
    await settle(alice, bob);
    host.autoPush = false;
    await alice.engine.sendText('bob', 'genuine');
    await settle(alice, bob);
    const [env] = host.pending(asUsername('bob'));
    const before = await dump(bob);
    for (const at of [1, 20, env!.body.length - 20, env!.body.length - 1]) {
      const body = env!.body.slice();
      body[at]! ^= 0x01;
      host.deliverTo(asUsername('bob'), { ...env!, serverId: `t${at}`, body });
    }
    await settle(bob);
    const after = await dump(bob);
    expect(after.sessions).toEqual(before.sessions);
    // P14: tampering is visible: markers where the damaged envelopes arrived, nothing else written.
    type Row = { direction: string; key: string };
    const markers = (rows: unknown[] | undefined) => ((rows ?? []) as Row[]).filter((m) => m.direction === 'system').map((m) => m.key);
    expect((after.messages as Row[]).filter((m) => m.direction !== 'system')).toEqual(before.messages);
    // Byte 1 (version) leaves no readable header, byte 20 forges another ratchet key; the two tag
    // flips name the genuine message: three markers.
    expect(markers(after.messages)).toHaveLength(3);
    expect(after.failures).toHaveLength(4);
    host.push(asUsername('bob'));
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', 'genuine']);
    // The genuine message arrived: its marker is gone, the two it cannot explain stay.
    expect(markers((await dump(bob)).messages)).toHaveLength(2);
  });

  test("P13 alice's own ciphertext reflected back to her as if from bob is refused", async () => {
    const { host, alice, bob } = await setup({});
    await alice.engine.sendText('bob', 'start');
    await settle(alice, bob);
    await bob.engine.sendText('alice', 'reply');
    await settle(alice, bob);
    host.autoPush = false;
    await alice.engine.sendText('bob', 'mine');
    await settle(alice, bob);
    const [env] = host.pending(asUsername('bob'));
    host.deliverTo(asUsername('alice'), { ...env!, serverId: 'reflected', sender: asUsername('bob') });
    await settle(alice);
    expect(await texts(alice, 'bob')).toEqual(['start', 'reply', 'mine']);
    expect(await alice.engine.ctx.vault.db.count('failures')).toBe(1);
  });

  test('P34 a crash after commit and before ack: redelivered, recognised, acked, shown once', async () => {
    let crash = true;
    const { host, alice, bob } = await setup({
      beforeAck: () => {
        if (crash) throw new Error('simulated crash before ack');
      }
    });
    await alice.engine.sendText('bob', 'exactly once');
    await settle(alice, bob);
    expect(host.pending(asUsername('bob'))).toHaveLength(1);
    crash = false;
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['exactly once']);
    expect(host.pending(asUsername('bob'))).toHaveLength(0);
    expect((await bob.engine.listChats())[0]?.unread).toBe(1);
  });

  test('P34 random crashes at commit and ack during a burst, with reconnects: every message shown exactly once, in order', async () => {
    let seed = 7;
    const coin = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 100) < 30;
    const { host, alice, bob } = await setup({
      midReceiveCommit: () => {
        if (coin()) throw new Error('crash mid-commit');
      },
      beforeAck: () => {
        if (coin()) throw new Error('crash before ack');
      }
    });
    const sent = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
    for (const t of sent) await alice.engine.sendText('bob', t);
    await settle(alice, bob);
    for (let round = 0; round < 50 && host.pending(asUsername('bob')).length > 0; round++) {
      bob.engine.disconnect();
      bob.engine.connect();
      await settle(alice, bob);
    }
    expect(host.pending(asUsername('bob'))).toEqual([]);
    expect(await texts(bob, 'alice')).toEqual(sent);
    expect((await bob.engine.listChats())[0]?.unread).toBe(30);
  });

  test('P34 a reloaded client (engine closed and reopened on the same database) keeps history and gets the rest once', async () => {
    const { host, alice, bob } = await setup({});
    await alice.engine.sendText('bob', 'before reload');
    await settle(alice, bob);
    host.autoPush = false;
    for (let i = 0; i < 5; i++) await alice.engine.sendText('bob', `while away ${i}`);
    await settle(alice, bob);
    await bob.engine.close();
    open = open.filter((u) => u !== bob);
    host.autoPush = true;
    const again = await openUser(host, 'bob', {}, bob.dbName);
    open.push(again);
    expect(await again.engine.account()).toEqual({ username: 'bob' });
    again.engine.connect();
    await settle(alice, again);
    expect(await texts(again, 'alice')).toEqual(['before reload', ...Array.from({ length: 5 }, (_, i) => `while away ${i}`)]);
  });

  test('P15 after receiving, the used one-time prekey private keys are gone from IndexedDB', async () => {
    const { host, alice, bob } = await setup({});
    host.autoPush = false;
    await alice.engine.sendText('bob', 'uses a one-time prekey');
    await settle(alice, bob);
    const [env] = host.pending(asUsername('bob'));
    const header = decodePreKeyMessage(env!.body);
    expect(header.oneTimePreKeyId).toBeDefined();
    const db = bob.engine.ctx.vault.db;
    const otk = await db.get('prekeys', preKeyKey('oneTime', header.oneTimePreKeyId!));
    const kem = await db.get('prekeys', preKeyKey('kem', header.kemPreKeyId));
    expect(otk && kem && !kem.lastResort).toBeTruthy();
    const otkPrivate = openBytes(db, 'prekeys', otk!.key, otk!.sealed).slice(6, 38);

    host.push(asUsername('bob'));
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['uses a one-time prekey']);
    expect(await db.get('prekeys', otk!.key)).toBeUndefined();
    expect(await db.get('prekeys', kem!.key)).toBeUndefined();
    expect(containsBytes(await dump(bob), otkPrivate)).toBe(false);
    // The signed prekey and the last-resort KEM key stay.
    expect(await db.get('prekeys', preKeyKey('signed', header.signedPreKeyId))).toBeDefined();
  });

  test('P32 no private key is stored in the clear', async () => {
    const { alice, bob } = await setup({});
    await alice.engine.sendText('bob', 'x');
    await settle(alice, bob);
    for (const u of [alice, bob]) {
      const id = u.engine.ctx.me!.identity;
      const all = await dump(u);
      expect(containsBytes(all, id.signing.privateKey.slice(0, 32))).toBe(false);
      expect(containsBytes(all, id.dh.privateKey)).toBe(false);
    }
  });
});
