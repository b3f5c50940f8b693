/**
 * The HostStore contract (src/host/storage/port.ts), run unchanged against both adapters: SQLite
 * (the embedded default) and PostgreSQL (a real server, two store instances on one database).
 * Races are real: concurrent calls on two pools reach PostgreSQL on separate connections.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { HostStore, MailboxQuota, NewEnvelope } from '../../src/host/storage/port';
import { backends, type StoreFixture } from './store-backends';
import { testAccount } from './test-account';

const key = (n: number, len = 32) => new Uint8Array(len).fill(n);
const LOOSE: MailboxQuota = { maxCount: 1_000_000, maxBytes: 1e12, senderMaxCount: 1e9, senderMaxBytes: 1e12 };

const account = testAccount;

const env = (recipient: string, n: number, size = 10, at = 10): NewEnvelope => ({ recipient, sender: 'alice', receivedAt: at, body: key(n, size) });
const storedIds = (ids: (number | string | undefined)[]) => ids.filter((x): x is number => typeof x === 'number');

describe.each(backends)('HostStore contract on $name', (backend) => {
  let f: StoreFixture;
  const open = async () => (f = await backend.open());
  afterEach(async () => {
    await f?.close();
  });
  /** Alternates the two handles, so on PostgreSQL consecutive calls race across instances. */
  const either = (i: number): HostStore => (i % 2 === 0 ? f.a : f.b);

  test('migrations record their version; reopening keeps data; a newer schema is refused', async () => {
    await open();
    expect(f.a.schemaVersion).toBeGreaterThan(0);
    expect(await f.a.createAccount(account('alice'))).toBe(true);
    const again = await f.reopen();
    expect(again.schemaVersion).toBe(f.a.schemaVersion);
    expect(await again.accountExists('alice')).toBe(true);
    await f.close();
    await f.bumpSchema(f.a.schemaVersion + 1);
    await expect(f.reopen()).rejects.toThrow(/newer/);
  });

  test('a taken name changes nothing; one-time keys go once; a new last-resort key replaces the old', async () => {
    await open();
    const s = f.a;
    expect(await s.createAccount(account('bob'))).toBe(true);
    expect(await s.createAccount({ ...account('bob'), identity: key(8, 131) })).toBe(false);
    expect(await s.identity('bob')).toEqual(key(9, 131));
    const first = (await s.takeBundle('bob'))!;
    expect(first.identity).toEqual(key(9, 131));
    expect(first.signedPreKey).toEqual({ id: 1, publicKey: key(1), signature: key(2, 64) });
    expect(first.oneTimePreKey).toEqual({ id: 5, publicKey: key(5) });
    expect(first.kemPreKey).toMatchObject({ id: 1, lastResort: true });
    expect((await s.takeBundle('bob'))!.oneTimePreKey).toBeUndefined();
    await s.addPreKeys('bob', { oneTimePreKeys: [{ id: 9, publicKey: key(4) }], kemPreKeys: [{ id: 2, publicKey: key(6, 1184), lastResort: true, signature: key(4, 64) }] });
    expect(await s.preKeyCounts('bob')).toEqual({ oneTime: 1, kem: 0 });
    const rotated = (await s.takeBundle('bob'))!;
    expect(rotated.kemPreKey).toEqual({ id: 2, publicKey: key(6, 1184), lastResort: true, signature: key(4, 64) });
    expect(rotated.oneTimePreKey?.id).toBe(9);
    expect(await s.takeBundle('nobody')).toBeUndefined();
    expect(await s.identity('nobody')).toBeUndefined();
  });

  test('P9 concurrent bundle fetches on two instances never hand out one one-time prekey twice', async () => {
    await open();
    await f.a.createAccount(account('carol', { oneTime: 12, kem: 12 }));
    const bundles = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).takeBundle('carol')));
    const ot = bundles.map((b) => b!.oneTimePreKey?.id).filter((x) => x !== undefined);
    const kem = bundles.map((b) => b!.kemPreKey).filter((k) => !k.lastResort).map((k) => k.id);
    expect(ot).toHaveLength(12);
    expect(new Set(ot).size).toBe(12);
    expect(kem).toHaveLength(12);
    expect(new Set(kem).size).toBe(12);
    expect(bundles.filter((b) => b!.kemPreKey.lastResort)).toHaveLength(8);
    expect(await f.b.preKeyCounts('carol')).toEqual({ oneTime: 0, kem: 0 });
  });

  test('a mailbox batch stores in input order with ascending ids and acks only the owner\'s envelopes', async () => {
    await open();
    for (const u of ['bob', 'carol']) await f.a.createAccount(account(u));
    const inserts = [env('bob', 1), env('carol', 2), env('bob', 3), env('carol', 4), env('bob', 5)];
    const { ids } = await f.a.applyMailboxBatch(inserts, [], LOOSE);
    expect(ids.every((x) => typeof x === 'number')).toBe(true);
    expect(ids).toEqual([...ids].sort((x, y) => (x as number) - (y as number)));
    expect(new Set(ids).size).toBe(5);
    const [b1, c2, b3] = ids as number[];
    expect((await f.b.applyMailboxBatch([], [{ username: 'carol', ids: [b1!] }], LOOSE)).acked).toEqual([{ count: 0, bytes: 0 }]);
    const res = await f.b.applyMailboxBatch([], [{ username: 'carol', ids: [b1!] }, { username: 'bob', ids: [b1!, 999_999] }, { username: 'bob', ids: [] }], LOOSE);
    expect(res.acked).toEqual([{ count: 0, bytes: 0 }, { count: 1, bytes: 10 }, { count: 0, bytes: 0 }]);
    const pending = await f.a.pendingEnvelopes('bob', 0, 10);
    expect(pending.map((e) => e.id)).toEqual([b3, ids[4]]);
    expect(pending[0]).toEqual({ id: b3, recipient: 'bob', sender: 'alice', receivedAt: 10, body: key(3, 10) });
    expect((await f.a.pendingEnvelopes('bob', b3!, 10)).map((e) => e.id)).toEqual([ids[4]]);
    expect((await f.a.pendingEnvelopes('carol', 0, 1)).map((e) => e.id)).toEqual([c2]);
    expect(await f.b.mailboxUsage('carol')).toEqual({ count: 2, bytes: 20 });
    expect(await f.b.mailboxUsage('bob')).toEqual({ count: 2, bytes: 20 });
  });

  test('server ids are never reused after an ack', async () => {
    await open();
    await f.a.createAccount(account('bob'));
    const first = storedIds((await f.a.applyMailboxBatch([env('bob', 1), env('bob', 2)], [], LOOSE)).ids);
    await f.a.applyMailboxBatch([], [{ username: 'bob', ids: first }], LOOSE);
    const again = storedIds((await f.b.applyMailboxBatch([env('bob', 3)], [], LOOSE)).ids);
    expect(again[0]).toBeGreaterThan(Math.max(...first));
  });

  test('quota: concurrent batches on two instances never overfill a mailbox', async () => {
    await open();
    await f.a.createAccount(account('dave'));
    const quota = { maxCount: 10, maxBytes: 1e9, senderMaxCount: 1e9, senderMaxBytes: 1e12 };
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => either(i).applyMailboxBatch([env('dave', i)], [], quota)));
    const outcomes = results.map((r) => r.ids[0]);
    expect(storedIds(outcomes)).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'count')).toHaveLength(14);
    expect(await f.a.mailboxUsage('dave')).toEqual({ count: 10, bytes: 100 });
    // An ack frees room for exactly as many as it deleted.
    await f.b.applyMailboxBatch([], [{ username: 'dave', ids: storedIds(outcomes).slice(0, 3) }], quota);
    const more = await f.a.applyMailboxBatch([0, 1, 2, 3].map((i) => env('dave', 50 + i)), [], quota);
    expect(more.ids.map((x) => typeof x)).toEqual(['number', 'number', 'number', 'string']);
  });

  test('quota: batches that reach the database together still cannot overfill a mailbox', async () => {
    await open();
    await f.a.createAccount(account('dora'));
    const quota = { maxCount: 10, maxBytes: 1e9, senderMaxCount: 1e9, senderMaxBytes: 1e12 };
    const batch = (i: number) => [0, 1, 2, 3, 4, 5].map((k) => env('dora', 10 * i + k));
    const results = await f.contend('dora', () => [0, 1, 2, 3].map((i) => either(i).applyMailboxBatch(batch(i), [], quota)));
    expect(results.flatMap((r) => storedIds(r.ids))).toHaveLength(10);
    expect(await f.b.mailboxUsage('dora')).toEqual({ count: 10, bytes: 100 });
    expect((await f.a.pendingEnvelopes('dora', 0, 100)).length).toBe(10);
  });

  test('quota: admission is FIFO per mailbox within a batch, by count and by bytes', async () => {
    await open();
    for (const u of ['erin', 'finn']) await f.a.createAccount(account(u));
    const r = await f.a.applyMailboxBatch([env('erin', 1, 60), env('finn', 2, 90), env('erin', 3, 50), env('erin', 4, 30), env('finn', 5, 10)], [], { maxCount: 100, maxBytes: 100, senderMaxCount: 1e9, senderMaxBytes: 1e12 });
    // erin: 60 fits, 60+50 does not, and the 30 behind it waits too (never overtakes); finn: 90 + 10 fits.
    expect(r.ids.map((x) => (typeof x === 'number' ? 'ok' : x))).toEqual(['ok', 'ok', 'bytes', 'bytes', 'ok']);
    const c = await f.b.applyMailboxBatch([env('erin', 6, 1), env('erin', 7, 1)], [], { maxCount: 2, maxBytes: 1e9, senderMaxCount: 1e9, senderMaxBytes: 1e12 });
    expect(c.ids.map((x) => (typeof x === 'number' ? 'ok' : x))).toEqual(['ok', 'count']);
    expect(await f.a.mailboxUsage('erin')).toEqual({ count: 2, bytes: 61 });
  });

  test('an ack deletes once: concurrent acks of one envelope on two instances count one deletion', async () => {
    await open();
    await f.a.createAccount(account('gail'));
    const [id] = storedIds((await f.a.applyMailboxBatch([env('gail', 1, 40)], [], LOOSE)).ids);
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => either(i).applyMailboxBatch([], [{ username: 'gail', ids: [id!, id!] }], LOOSE)));
    expect(acks.reduce((n, r) => n + r.acked[0]!.count, 0)).toBe(1);
    expect(acks.reduce((n, r) => n + r.acked[0]!.bytes, 0)).toBe(40);
    expect(await f.b.mailboxUsage('gail')).toEqual({ count: 0, bytes: 0 });
    expect(await f.a.pendingEnvelopes('gail', 0, 10)).toEqual([]);
  });

  test('challenges are single use across instances and expire', async () => {
    await open();
    await f.a.putChallenge(key(1), 1000);
    const takes = await Promise.all(Array.from({ length: 6 }, (_, i) => either(i).takeChallenge(key(1), 500)));
    expect(takes.filter(Boolean)).toHaveLength(1);
    await f.b.putChallenge(key(2), 1000);
    expect(await f.a.takeChallenge(key(2), 1000)).toBe(false); // expired at 1000
    expect(await f.a.takeChallenge(key(3), 0)).toBe(false);
  });

  test('tokens map a live hash to its user; sweep drops expired tokens and old envelopes', async () => {
    await open();
    await f.a.createAccount(account('hal'));
    await f.a.putToken(key(4), 'hal', 2000);
    expect(await f.b.tokenUser(key(4), 1999)).toBe('hal');
    expect(await f.b.tokenUser(key(4), 2000)).toBeUndefined();
    expect(await f.b.tokenUser(key(5), 0)).toBeUndefined();
    await f.a.applyMailboxBatch([env('hal', 1, 10, 100), env('hal', 2, 10, 300)], [], LOOSE);
    expect(await f.b.sweep(200, 2000)).toBe(1);
    expect((await f.a.pendingEnvelopes('hal', 0, 10)).map((e) => e.receivedAt)).toEqual([300]);
    expect(await f.a.mailboxUsage('hal')).toEqual({ count: 1, bytes: 10 });
    expect(await f.a.tokenUser(key(4), 0)).toBeUndefined();
    // Quota admission sees the sweep: room for exactly one more under maxCount 2.
    const r = await f.a.applyMailboxBatch([env('hal', 3), env('hal', 4)], [], { maxCount: 2, maxBytes: 1e9, senderMaxCount: 1e9, senderMaxBytes: 1e12 });
    expect(r.ids.map((x) => typeof x)).toEqual(['number', 'string']);
  });

  test('rate windows count every hit once across instances, then reset', async () => {
    await open();
    const w = { max: 5, windowMs: 1000 };
    const waits = await Promise.all(Array.from({ length: 12 }, (_, i) => either(i).hitRate('ip:10.0.0.1', w, 10_000)));
    expect(waits.filter((x) => x === 0)).toHaveLength(5);
    expect(waits.filter((x) => x > 0).every((x) => x <= 1000)).toBe(true);
    expect(await f.a.hitRate('ip:10.0.0.2', w, 10_500)).toBe(0);
    expect(await f.b.hitRate('ip:10.0.0.1', w, 11_000)).toBe(0);
  });

  test('a weighted hit counts its weight against the window, on every instance', async () => {
    await open();
    const w = { max: 10, windowMs: 1000 };
    expect(await f.a.hitRate('budget:ann', w, 20_000, 4)).toBe(0);
    expect(await f.b.hitRate('budget:ann', w, 20_100, 6)).toBe(0);
    expect(await f.a.hitRate('budget:ann', w, 20_200, 1)).toBe(800);
    // A new window starts with the weight of its first hit.
    expect(await f.b.hitRate('budget:ann', w, 21_000, 11)).toBeGreaterThan(0);
    expect(await f.a.hitRate('budget:ben', w, 21_000)).toBe(0);
  });

  test('P26 account records: the first put sets the key hash, others must match it; delete needs it', async () => {
    await open();
    const puts = await Promise.all([f.a.records.putRecord('ida', key(1), key(10, 64), key(11), 5), f.b.records.putRecord('ida', key(2), key(20, 64), key(11), 6)]);
    expect([...puts].sort()).toEqual(['mismatch', 'stored']);
    const winner = puts[0] === 'stored' ? key(1) : key(2);
    const loser = puts[0] === 'stored' ? key(2) : key(1);
    expect(await f.a.records.putRecord('ida', winner, key(30, 64), key(11), 7)).toBe('stored');
    expect(await f.b.records.getRecord('ida')).toEqual({ keyHash: winner, record: key(30, 64), takeoverKey: key(11), updatedAt: 7 });
    // P37: the takeover key is fixed with the first record.
    expect(await f.a.records.putRecord('ida', winner, key(31, 64), key(12), 8)).toBe('mismatch');
    expect(await f.a.records.deleteRecord('ida', loser)).toBe('mismatch');
    expect(await f.a.records.deleteRecord('ida', winner)).toBe('deleted');
    expect(await f.a.records.deleteRecord('ida', winner)).toBe('absent');
    expect(await f.b.records.getRecord('ida')).toBeUndefined();
  });

  test('P37 takeover drops the old prekeys and tokens, stores the new ones and sets the device gate', async () => {
    await open();
    await f.a.createAccount(account('jo', { oneTime: 3, kem: 2 }));
    await f.a.putToken(key(6), 'jo', 1e12);
    expect(await f.a.records.deviceHash('jo')).toBeUndefined();
    await f.b.takeOverDevice('jo', { signedPreKey: { id: 2, publicKey: key(11), signature: key(12, 64) }, oneTimePreKeys: [{ id: 50, publicKey: key(13) }], kemPreKeys: [{ id: 60, publicKey: key(14, 1184), lastResort: true, signature: key(15, 64) }] }, key(16));
    expect(await f.a.tokenUser(key(6), 0)).toBeUndefined();
    expect(await f.a.records.deviceHash('jo')).toEqual(key(16));
    expect(await f.a.preKeyCounts('jo')).toEqual({ oneTime: 1, kem: 0 });
    const b = (await f.a.takeBundle('jo'))!;
    expect(b.signedPreKey.id).toBe(2);
    expect(b.oneTimePreKey?.id).toBe(50);
    expect(b.kemPreKey.id).toBe(60);
  });

  test('P34 a committed batch survives closing and reopening the store', async () => {
    await open();
    await f.a.createAccount(account('kim'));
    const { ids } = await f.a.applyMailboxBatch([env('kim', 1), env('kim', 2)], [], LOOSE);
    const s = await f.reopen();
    expect((await s.pendingEnvelopes('kim', 0, 10)).map((e) => e.id)).toEqual(ids);
    expect(await s.mailboxUsage('kim')).toEqual({ count: 2, bytes: 20 });
  });

  test('P40 a sender share holds across instances: FIFO per sender, other senders still get in', async () => {
    await open();
    await f.a.createAccount(account('lee'));
    const share: MailboxQuota = { maxCount: 100, maxBytes: 1e9, senderMaxCount: 2, senderMaxBytes: 25 };
    const from = (sender: string, n: number, size = 10): NewEnvelope => ({ ...env('lee', n, size), sender });
    const r = await f.a.applyMailboxBatch([from('mal', 1), from('mal', 2), from('mal', 3), from('ned', 4)], [], share);
    expect(r.ids.map((x) => (typeof x === 'number' ? 'ok' : x))).toEqual(['ok', 'ok', 'senderCount', 'ok']);
    // Shared: the other instance sees mal's two waiting envelopes; bytes are a share too.
    const r2 = await f.b.applyMailboxBatch([from('mal', 5), from('ned', 6, 20)], [], share);
    expect(r2.ids.map((x) => (typeof x === 'number' ? 'ok' : x))).toEqual(['senderCount', 'senderBytes']);
    // An ack gives the sender its room back.
    await f.b.applyMailboxBatch([], [{ username: 'lee', ids: [r.ids[0] as number] }], share);
    expect(typeof (await f.a.applyMailboxBatch([from('mal', 7)], [], share)).ids[0]).toBe('number');
  });

  test('P40 a sender share counts what was stored while the mailbox was too small to need shares, and starts over once it empties', async () => {
    await open();
    await f.a.createAccount(account('mo'));
    const share: MailboxQuota = { maxCount: 100, maxBytes: 1e9, senderMaxCount: 3, senderMaxBytes: 1e9 };
    const from = (sender: string, n: number): NewEnvelope => ({ ...env('mo', n), sender });
    const outcome = (r: { ids: (number | string)[] }) => r.ids.map((x) => (typeof x === 'number' ? 'ok' : x));
    // Three in all: no sender can be past a share of three yet.
    const first = await f.a.applyMailboxBatch([from('pat', 1), from('pat', 2)], [], share);
    const second = await f.b.applyMailboxBatch([from('quin', 3)], [], share);
    expect([...outcome(first), ...outcome(second)]).toEqual(['ok', 'ok', 'ok']);
    // This batch could take the mailbox past one share: pat's two earlier ones count.
    expect(outcome(await f.a.applyMailboxBatch([from('pat', 4), from('pat', 5), from('quin', 6)], [], share))).toEqual(['ok', 'senderCount', 'ok']);
    // Acked down to empty (through the other instance), every sender starts over...
    const all = storedIds((await f.b.pendingEnvelopes('mo', 0, 100)).map((e) => e.id));
    await f.b.applyMailboxBatch([], [{ username: 'mo', ids: all }], share);
    expect((await f.a.mailboxUsage('mo')).count).toBe(0);
    expect(outcome(await f.b.applyMailboxBatch([from('pat', 7), from('pat', 8)], [], share))).toEqual(['ok', 'ok']);
    // ...and is counted again when the mailbox could pass a share once more.
    expect(outcome(await f.a.applyMailboxBatch([from('pat', 9), from('pat', 10), from('quin', 11)], [], share))).toEqual(['ok', 'senderCount', 'ok']);
    // One batch alone cannot carry a sender past its share either.
    await f.b.applyMailboxBatch([], [{ username: 'mo', ids: storedIds((await f.b.pendingEnvelopes('mo', 0, 100)).map((e) => e.id)) }], share);
    expect(outcome(await f.a.applyMailboxBatch([from('pat', 12), from('pat', 13), from('pat', 14), from('pat', 15)], [], share))).toEqual(['ok', 'ok', 'ok', 'senderCount']);
  });

  test('P40 pages are bounded by bytes, and never empty', async () => {
    await open();
    await f.a.createAccount(account('moe'));
    await f.a.applyMailboxBatch([env('moe', 1, 40), env('moe', 2, 40), env('moe', 3, 40)], [], LOOSE);
    expect((await f.b.pendingEnvelopes('moe', 0, 10, 50)).length).toBe(2);
    expect((await f.b.pendingEnvelopes('moe', 0, 10, 10)).length).toBe(1);
    expect((await f.b.pendingEnvelopes('moe', 0, 10)).length).toBe(3);
  });

  test('page reads asked for together (as a burst of pokes does) each get exactly their own page', async () => {
    await open();
    const names = Array.from({ length: 12 }, (_, i) => `pk${i}`);
    for (const n of names) await f.a.createAccount(account(n));
    // Mailbox i holds i envelopes of 10 + i bytes; one more for someone not asked about.
    const ids = new Map<string, number[]>();
    for (const [i, n] of names.entries()) {
      const r = await f.a.applyMailboxBatch(Array.from({ length: i }, (_, k) => env(n, k, 10 + i)), [], LOOSE);
      ids.set(n, storedIds(r.ids));
    }
    const asks = names.flatMap((n, i) => [
      { n, after: 0, limit: 100, bytes: Infinity },
      { n, after: ids.get(n)![1] ?? 0, limit: 2, bytes: Infinity },
      { n, after: 0, limit: 100, bytes: 2 * (10 + i) }
    ]);
    const together = await Promise.all(asks.map((a, k) => either(k).pendingEnvelopes(a.n, a.after, a.limit, a.bytes)));
    const alone: (readonly number[])[] = [];
    for (const a of asks) alone.push((await f.a.pendingEnvelopes(a.n, a.after, a.limit, a.bytes)).map((e) => e.id));
    expect(together.map((page) => page.map((e) => e.id))).toEqual(alone);
    for (const [k, page] of together.entries()) for (const e of page) expect(e.recipient).toBe(asks[k]!.n);
    const all = names.map((n, i) => ({ n, i, page: together[3 * names.indexOf(n)]! }));
    for (const { n, i, page } of all) {
      expect(page.map((e) => e.id)).toEqual(ids.get(n));
      expect(page.every((e) => e.body.length === 10 + i && e.sender === 'alice')).toBe(true);
    }
  });

  test('P40 an upload whose last-resort key would not land changes nothing; a spent budget keeps one-time keys', async () => {
    await open();
    await f.a.createAccount(account('ned', { oneTime: 2, kem: 2 }));
    const lr = (id: number) => ({ id, publicKey: key(6, 1184), lastResort: true, signature: key(4, 64) });
    expect(await f.b.addPreKeys('ned', { oneTimePreKeys: [{ id: 90, publicKey: key(4) }], kemPreKeys: [lr(100)] })).toBe(false);
    expect(await f.a.addPreKeys('ned', { oneTimePreKeys: [], kemPreKeys: [lr(7), lr(8)] })).toBe(false);
    expect(await f.a.preKeyCounts('ned')).toEqual({ oneTime: 2, kem: 2 });
    expect((await f.a.takeBundle('ned'))!.kemPreKey).toMatchObject({ id: 100, lastResort: false });
    const spent = (await f.b.takeBundle('ned', false))!;
    expect(spent.oneTimePreKey).toBeUndefined();
    expect(spent.kemPreKey).toMatchObject({ id: 1, lastResort: true });
    expect(await f.a.preKeyCounts('ned')).toEqual({ oneTime: 1, kem: 1 });
  });

  test('P38 the issuer key is made once and shared by every instance', async () => {
    await open();
    const made = [{ privateKey: key(21, 64), publicKey: key(22) }, { privateKey: key(23, 64), publicKey: key(24) }];
    const [x, y] = await Promise.all([f.a.records.issuerKey(() => made[0]!), f.b.records.issuerKey(() => made[1]!)]);
    expect(x).toEqual(y);
    expect(await f.a.records.issuerKey(() => made[1]!)).toEqual(x);
  });

  test("a batch reports each mailbox's previous highest id when several instances write it", async () => {
    await open();
    await f.a.createAccount(account('ora'));
    const one = await f.a.applyMailboxBatch([env('ora', 1)], [], LOOSE);
    const two = await f.b.applyMailboxBatch([env('ora', 2), env('ora', 3)], [], LOOSE);
    if (!backend.multiInstance) return void expect(two.before).toBeUndefined();
    expect(one.before).toEqual([0]);
    expect(two.before).toEqual([one.ids[0], two.ids[0]]);
  });

  test('a large batch of bodies that are views into one buffer reads back byte for byte, in order', async () => {
    await open();
    await f.a.createAccount(account('pat'));
    const big = new Uint8Array(300 * 600).map((_, i) => (i * 7) % 251);
    const inserts = Array.from({ length: 300 }, (_, i) => ({ recipient: 'pat', sender: 'x', receivedAt: i, body: big.subarray(i * 600, i * 600 + 200 + i) }));
    const { ids } = await f.a.applyMailboxBatch(inserts, [], LOOSE);
    const got = await f.b.pendingEnvelopes('pat', 0, 1000);
    expect(got.map((e) => e.id)).toEqual(ids);
    got.forEach((e, i) => expect(e.body).toEqual(inserts[i]!.body.slice()));
  });
});
