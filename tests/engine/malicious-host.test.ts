/**
 * A host that misbehaves on purpose (DESIGN.md §9; SECURITY.md P2, P4, P10,
 * P13, P14): duplicates, reorders, drops, misroutes envelopes and substitutes bundles.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { MAX_FAILURES } from '../../workers/engine/receive-records';
import type { Envelope } from '../../workers/engine/transport';
import { closeAll, newUser, settle, texts, type User, statusOf } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function users(...names: string[]): Promise<{ host: MemoryHost; u: Record<string, User> }> {
  const host = new MemoryHost();
  const u: Record<string, User> = {};
  for (const n of names) {
    u[n] = await newUser(host, n);
    open.push(u[n]);
  }
  return { host, u };
}

async function failures(u: User): Promise<string[]> {
  return (await u.engine.ctx.vault.db.getAll('failures')).map((f) => f.code);
}

describe('malicious host', () => {
  test('P13 the same envelope twice shows one message and the second is acked too', async () => {
    const { host, u } = await users('alice', 'bob');
    const { alice, bob } = u as { alice: User; bob: User };
    host.autoPush = false;
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'once');
    await settle(alice, bob);
    const [env] = host.pending(asUsername('bob')) as [Envelope];
    host.deliverTo(asUsername('bob'), env);
    host.deliverTo(asUsername('bob'), env);
    await settle(alice, bob);
    host.deliverTo(asUsername('bob'), env); // a replay long after the ack
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['once']);
    expect(host.pending(asUsername('bob'))).toEqual([]);
    expect(await failures(bob)).toEqual([]);
    expect((await bob.engine.listChats())[0]?.unread).toBe(1);
  });

  test('P10 P14 reordered envelopes decrypt, a dropped one shows as a gap and fills it late', async () => {
    const { host, u } = await users('alice', 'bob');
    const { alice, bob } = u as { alice: User; bob: User };
    host.autoPush = false;
    await alice.engine.lookupUser('bob');
    for (let i = 0; i < 6; i++) await alice.engine.sendText('bob', `a${i}`);
    await settle(alice, bob);
    const ids = host.pending(asUsername('bob')).map((e) => e.serverId);
    const dropped = host.drop(asUsername('bob'), ids[2]!)!;
    host.push(asUsername('bob'), [ids[5]!, ids[3]!, ids[0]!, ids[4]!, ids[1]!]);
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['a0', 'a1', 'a3', 'a4', 'a5']);
    expect((await bob.engine.listChats())[0]?.missing).toBe(1);

    // Across DH steps: bob answers, alice replies shuffled.
    host.autoPush = true;
    host.push(asUsername('alice'));
    await bob.engine.sendText('alice', 'b0');
    await settle(alice, bob);
    host.autoPush = false;
    for (let i = 6; i < 10; i++) await alice.engine.sendText('bob', `a${i}`);
    await settle(alice, bob);
    const later = host.pending(asUsername('bob')).map((e) => e.serverId);
    host.push(asUsername('bob'), [...later].reverse());
    await settle(alice, bob);

    host.deliverTo(asUsername('bob'), dropped);
    await settle(alice, bob);
    const all = await texts(bob, 'alice');
    expect(all.filter((t) => t.startsWith('a'))).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
    expect((await bob.engine.listChats())[0]?.missing).toBe(0);
    expect(await failures(bob)).toEqual([]);
  });

  test('P4 an envelope for bob delivered to carol: carol reads nothing, gets a typed error, keeps working', async () => {
    const { host, u } = await users('alice', 'bob', 'carol');
    const { alice, bob, carol } = u as { alice: User; bob: User; carol: User };
    host.autoPush = false;
    const errors: string[] = [];
    carol.engine.subscribe((e) => {
      if (e.type === 'receive-error') errors.push(e.code);
    });
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'for bob only');
    await settle(alice, bob, carol);
    const [first] = host.pending(asUsername('bob')) as [Envelope];
    host.deliverTo(asUsername('carol'), first);
    await settle(alice, bob, carol);
    expect(await carol.engine.listChats()).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(['InvalidMac', 'MissingPrekey', 'InvalidMessage', 'InvalidSignature']).toContain(errors[0]);

    // A later ratchet message misrouted too.
    host.autoPush = true;
    host.push(asUsername('bob'));
    await settle(alice, bob);
    await bob.engine.sendText('alice', 'reply');
    await settle(alice, bob);
    host.autoPush = false;
    await alice.engine.sendText('bob', 'second');
    await settle(alice, bob);
    const [second] = host.pending(asUsername('bob')) as [Envelope];
    host.deliverTo(asUsername('carol'), second);
    await settle(carol);
    expect(errors).toHaveLength(2);
    expect(await carol.engine.listChats()).toEqual([]);

    // Carol's app keeps working: she talks with alice normally.
    host.autoPush = true;
    await carol.engine.lookupUser('alice');
    await carol.engine.sendText('alice', 'hi alice, carol here');
    await settle(alice, bob, carol);
    expect(await texts(alice, 'carol')).toEqual(['hi alice, carol here']);
    expect(await texts(bob, 'alice')).toContain('for bob only');
  });

  test('garbage envelopes are typed failures, acked, and their records stay bounded', async () => {
    const { host, u } = await users('alice', 'carol');
    const { alice, carol } = u as { alice: User; carol: User };
    for (let i = 0; i < MAX_FAILURES + 5; i++) {
      const body = i % 2 ? Uint8Array.of(0x02, ...globalThis.crypto.getRandomValues(new Uint8Array(80))) : Uint8Array.of(0x7f, i & 0xff);
      host.deliverTo(asUsername('carol'), { serverId: `g${i}`, sender: asUsername('alice'), body, receivedAt: 0 });
    }
    await settle(carol);
    const codes = await failures(carol);
    expect(codes).toHaveLength(MAX_FAILURES);
    expect(new Set(codes)).toEqual(new Set(['DecodeFailed', 'NotInitialized']));
    await carol.engine.lookupUser('alice');
    await carol.engine.sendText('alice', 'still fine');
    await settle(alice, carol);
    expect(await texts(alice, 'carol')).toEqual(['still fine']);
  });

  test('P2 a substituted bundle changes the safety number; for a verified contact sending is blocked and nothing leaves', async () => {
    const { host, u } = await users('alice', 'bob', 'mallory');
    const { alice, bob } = u as { alice: User; bob: User };
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'hello');
    await settle(alice, bob);
    const bobsView = await bob.engine.contactInfo('alice');
    const before = await alice.engine.contactInfo('bob');
    expect(before.safetyNumber).toBe(bobsView.safetyNumber);
    await alice.engine.markVerified('bob', { scannedQr: bobsView.qrPayload });
    expect((await alice.engine.contactInfo('bob')).verified).toBe(true);

    const mallory = host.accounts.get('mallory')!;
    host.bundleHook = (name, b) =>
      name === 'bob' ? { ...b, identity: mallory.identity, signedPreKey: mallory.signedPreKey, kemPreKey: mallory.lastResort! } : b;
    await alice.engine.resetSession('bob');
    const sentBefore = host.sent.length;
    const m = await alice.engine.sendText('bob', 'secret for bob');
    await settle(alice, bob);

    expect(host.sent.length).toBe(sentBefore);
    const after = await alice.engine.contactInfo('bob');
    expect(after.safetyNumber).not.toBe(before.safetyNumber);
    expect(after).toMatchObject({ verified: false, identityChanged: true, sendBlocked: true });
    expect(statusOf(await alice.engine.listMessages('bob'), m.id)).toBe('held');
    expect((await alice.engine.listMessages('bob')).some((x) => x.kind === 'notice' && x.notice === 'identity-changed')).toBe(true);
    await expect(alice.engine.sendText('bob', 'again')).rejects.toMatchObject({ code: 'UntrustedIdentity' });
    // Bob's real QR no longer matches what alice is shown.
    await expect(alice.engine.markVerified('bob', { scannedQr: bobsView.qrPayload })).rejects.toMatchObject({ code: 'SafetyNumberMismatch' });
    expect(host.sent.length).toBe(sentBefore);
  });

  test('P2 P36 for an unverified contact the substitution shows as a safety-number change; what was written before it is not sent to the new key', async () => {
    const { host, u } = await users('alice', 'bob', 'mallory');
    const { alice, bob } = u as { alice: User; bob: User };
    await alice.engine.lookupUser('bob');
    const before = await alice.engine.contactInfo('bob');
    const mallory = host.accounts.get('mallory')!;
    host.bundleHook = (name, b) =>
      name === 'bob' ? { ...b, identity: mallory.identity, signedPreKey: mallory.signedPreKey, kemPreKey: mallory.lastResort! } : b;
    await alice.engine.resetSession('bob');
    const sentBefore = host.sent.length;
    const m = await alice.engine.sendText('bob', 'hi');
    await settle(alice, bob);
    const after = await alice.engine.contactInfo('bob');
    expect(after.safetyNumber).not.toBe(before.safetyNumber);
    expect(after.identityChanged).toBe(true);
    expect((await alice.engine.listChats())[0]?.identityChanged).toBe(true);
    // P36: "hi" was written for bob's key; it is not encrypted to mallory's.
    expect(host.sent.length).toBe(sentBefore);
    expect(statusOf(await alice.engine.listMessages('bob'), m.id)).toBe('key-changed');
    // What is written now goes to the (unverified) new key, which bob cannot read.
    await alice.engine.sendText('bob', 'after the change');
    await settle(alice, bob);
    expect(host.sent.length).toBe(sentBefore + 1);
    expect(await texts(bob, 'alice')).toEqual([]);
    expect((await failures(bob)).length).toBeGreaterThan(0);
  });
});
