/**
 * Envelopes at rest (README "Envelopes at rest"; issue "Private groups": a breach of the host
 * shows no member list or count). The copies of one group message waiting in several mailboxes
 * must not share a byte or an exact time in the host's files; each still reaches its member
 * exactly as sent. Also: the batch order keeps each mailbox's order, a row altered or moved in
 * the database is withheld rather than delivered, and a database an older host wrote in clear is
 * sealed at the first start (SQLite and PostgreSQL), bound to its key from then on.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { interleave } from '../../src/host/storage/envelope-batch';
import { AT_REST_TIME_STEP_MS, ENVELOPE_SEAL_OVERHEAD, envelopeSeal } from '../../src/host/storage/envelope-seal';
import { nameSeal } from '../../src/host/storage/name-seal';
import { bindEnvelopeKey, bindNameKey, openHostStore, type StoreLocation } from '../../src/host/storage/open';
import { EnvelopeKeyMismatchError } from '../../src/host/storage/seal-stored-bodies';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { toBase64Url } from '../../src/lib/codec/base64url';
import type { Username } from '../../src/lib/codec/username';
import { GROUP_API, encodeFanOut } from '../../src/lib/wire/group-api';
import { hostBodies, hostNames, storedRows } from '../support/host-names';
import { scanDataDir } from '../support/scan-data-dir';
import { sharedCluster } from './store-backends';
import { WsClient, registerUser, startHost, tempDir, type TestUser } from './support';
import { testAccount } from './test-account';

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);
const QUOTA = { maxCount: 100, maxBytes: 1e6, senderMaxCount: 100, senderMaxBytes: 1e6 };
/** A body no file could hold by chance: 96 bytes of a counting pattern. */
const GROUP_MESSAGE = Uint8Array.from({ length: 96 }, (_, i) => (i * 7 + 3) & 255);

const hosts: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});

describe('the envelope seal', () => {
  const s = envelopeSeal(KEY_A);
  const at = 1_790_000_123_457;

  test('opens back to the exact body and time; the copies of one body, in one batch or two, share no 8-byte window past the version byte', () => {
    const batch = s.seal([GROUP_MESSAGE, GROUP_MESSAGE, Uint8Array.of(), GROUP_MESSAGE].map((body, i) => ({ receivedAt: at + i, body })));
    const again = s.seal([{ receivedAt: at, body: GROUP_MESSAGE }]);
    expect(batch.map((b) => b.length)).toEqual([96, 96, 0, 96].map((n) => n + ENVELOPE_SEAL_OVERHEAD));
    expect(s.open([...batch, ...again])).toEqual([
      { receivedAt: at, body: GROUP_MESSAGE },
      { receivedAt: at + 1, body: GROUP_MESSAGE },
      { receivedAt: at + 2, body: new Uint8Array(0) },
      { receivedAt: at + 3, body: GROUP_MESSAGE },
      { receivedAt: at, body: GROUP_MESSAGE }
    ]);
    const all = [...batch, ...again].filter((b) => b.length > ENVELOPE_SEAL_OVERHEAD).map((b) => Buffer.from(b));
    for (let i = 0; i < all.length; i++) {
      expect(all[i]!.indexOf(Buffer.from(GROUP_MESSAGE.subarray(0, 16)))).toBe(-1);
      // Past the version byte nothing repeats: not a shared nonce, not a visible offset, not the body.
      for (let j = 0; j < all.length; j++) {
        if (i === j) continue;
        for (let o = 1; o + 8 <= all[i]!.length; o += 4) expect(all[j]!.indexOf(all[i]!.subarray(o, o + 8)), `${i}@${o} in ${j}`).toBe(-1);
      }
    }
    // The next whole hour: never earlier than the receipt, so the sweep never comes early.
    expect(s.coarse(at)).toBe(at - (at % AT_REST_TIME_STEP_MS) + AT_REST_TIME_STEP_MS);
    expect(s.coarse(7 * AT_REST_TIME_STEP_MS)).toBe(7 * AT_REST_TIME_STEP_MS);
  });

  test('another key reads nothing; what is not in the format is refused; a batch of one big body round-trips', () => {
    const [sealed] = s.seal([{ receivedAt: at, body: GROUP_MESSAGE }]);
    const [other] = envelopeSeal(KEY_B).open([sealed!]);
    expect(other?.body).not.toEqual(GROUP_MESSAGE);
    expect(other?.receivedAt).not.toBe(at);
    expect(s.open([GROUP_MESSAGE, sealed!.subarray(0, ENVELOPE_SEAL_OVERHEAD - 1), Uint8Array.of(2, ...sealed!.subarray(1))])).toEqual([undefined, undefined, undefined]);
    expect(envelopeSeal(KEY_B).check).not.toEqual(s.check);
    const big = new Uint8Array(300_001).map((_, i) => i & 255);
    expect(s.open(s.seal([{ receivedAt: 1, body: Uint8Array.of(1) }, { receivedAt: 2, body: big }]))[1]).toEqual({ receivedAt: 2, body: big });
  });
});

describe('a batch is written interleaved, each mailbox in its own order', () => {
  test('a permutation that keeps every key in input order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 60 }), (keys) => {
        const order = interleave(keys);
        expect([...order].sort((x, y) => x - y)).toEqual(keys.map((_, i) => i));
        for (const k of new Set(keys)) {
          const mine = order.filter((i) => keys[i] === k);
          expect(mine).toEqual([...mine].sort((x, y) => x - y));
        }
      })
    );
  });

  test('not the arrival order: a fan-out to 40 mailboxes is not written as one run', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const runs = Array.from({ length: 5 }, () => interleave(keys).every((v, i) => v === i));
    expect(runs.filter(Boolean).length).toBe(0);
  });

  test('through a real store: ids and bodies come back per input, each mailbox ascending in its order', async () => {
    const store = await openHostStore({ dataDir: tempDir(), bodies: envelopeSeal(KEY_A) });
    try {
      const to = ['ann', 'ben', 'cat', 'ann', 'ben', 'ann', 'cat', 'cat'];
      const inserts = to.map((recipient, i) => ({ recipient, sender: '', receivedAt: 1_000 + i, body: Uint8Array.of(i, i, i) }));
      const r = await store.applyMailboxBatch(inserts, [], QUOTA);
      for (const who of ['ann', 'ben', 'cat']) {
        const ids = to.flatMap((t, i) => (t === who ? [r.ids[i] as number] : []));
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        const page = await store.pendingEnvelopes(who, 0, 10);
        expect(page.map((e) => e.id)).toEqual(ids);
        expect(page.map((e) => e.body[0])).toEqual(to.flatMap((t, i) => (t === who ? [i] : [])));
        expect(page.map((e) => e.receivedAt)).toEqual(to.flatMap((t, i) => (t === who ? [1_000 + i] : [])));
      }
    } finally {
      await store.close();
    }
  });
});

test('the sweep never takes an envelope before its time: the clear hour is rounded up', async () => {
  const store = await openHostStore({ dataDir: tempDir(), bodies: envelopeSeal(KEY_A) });
  try {
    const at = 1_800_000_000_000 + 1_234_567;
    await store.applyMailboxBatch([{ recipient: 'ann', sender: '', receivedAt: at, body: Uint8Array.of(1) }], [], QUOTA);
    expect(await store.sweep(at + 1, at + 1)).toBe(0);
    expect(await store.sweep(at + AT_REST_TIME_STEP_MS, at + AT_REST_TIME_STEP_MS)).toBe(1);
  } finally {
    await store.close();
  }
});

async function fanOut(url: string, from: TestUser, to: string[], body: Uint8Array): Promise<void> {
  const res = await fetch(url + GROUP_API.messages, {
    method: 'POST',
    headers: { authorization: `Bearer ${toBase64Url(from.token)}`, 'content-type': 'application/octet-stream' },
    body: encodeFanOut({ to: to as Username[], body }) as BodyInit
  });
  expect(res.status).toBe(201);
  expect(await res.json()).toEqual({ stored: to.length, refused: 0 });
}

describe('a real host: the copies of one group message while they wait', () => {
  test('share no byte pattern and no exact time in the files, and each member gets the exact message with its exact time', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann_rest');
    const members = ['ben_rest', 'cat_rest', 'dan_rest', 'eve_rest'];
    const users = await Promise.all(members.map((m) => registerUser(host.url, m)));
    await fanOut(host.url, ann, members, GROUP_MESSAGE);

    const rows = storedRows(host.dataDir);
    expect(rows.length).toBe(4);
    const n = hostNames(host.dataDir);
    expect(rows.map((r) => n.open(r.recipient)).sort()).toEqual(members);
    // No two copies share a 16-byte window, and none holds the message.
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) expect(Buffer.from(rows[j]!.body).indexOf(Buffer.from(rows[i]!.body.subarray(20, 36)))).toBe(-1);
    }
    for (const r of rows) {
      expect(r.receivedAt % AT_REST_TIME_STEP_MS).toBe(0);
      expect(hostBodies(host.dataDir).open([r.body])[0]?.body).toEqual(GROUP_MESSAGE);
    }
    expect(scanDataDir(host.dataDir, { message: GROUP_MESSAGE.subarray(8, 72) })).toEqual([]);
    // Positive control: a sealed row's own bytes are found in the files.
    expect(scanDataDir(host.dataDir, { row: rows[0]!.body.subarray(1, 40) }).length).toBeGreaterThan(0);

    const got: ReturnType<WsClient['envelopes']> = [];
    for (const u of users) {
      const ws = await WsClient.open(host.url, u.token);
      await ws.until(1);
      got.push(ws.envelopes()[0]!);
      await ws.close();
    }
    for (const e of got) {
      expect(e.body).toEqual(GROUP_MESSAGE);
      expect(e.sender).toBe('ann_rest');
      expect(Math.abs(e.receivedAt - Date.now())).toBeLessThan(60_000);
    }
    // Each copy's exact time is kept inside its seal; the clear column holds only that time's hour,
    // rounded up. (The copies are queued one by one, each at its own clock reading: a member the
    // host has not looked up yet is queued after that lookup, so exact times may differ by a few ms.)
    const times = got.map((e) => e.receivedAt);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(5_000);
    const coarse = envelopeSeal(new Uint8Array(32)).coarse;
    const byValue = (a: number, b: number) => a - b;
    expect(rows.map((r) => r.receivedAt).sort(byValue)).toEqual(times.map((t) => coarse(t)).sort(byValue));
  });

  test('a row in no sealed format (written into the database by hand) is logged and handed out as stored, the rest after it', async () => {
    const lines: string[] = [];
    const dataDir = tempDir();
    let host = await startHost({ dataDir, log: (l) => lines.push(l) });
    const ann = await registerUser(host.url, 'ann_tamper');
    const ben = await registerUser(host.url, 'ben_tamper');
    for (const k of [1, 2, 3]) await fanOut(host.url, ann, ['ben_tamper'], GROUP_MESSAGE.map((b) => b ^ k));
    await host.close();
    const db = new Database(join(dataDir, DB_FILE));
    const first = db.prepare('SELECT id FROM envelopes ORDER BY id LIMIT 1').pluck().get() as number;
    db.prepare('UPDATE envelopes SET body = ? WHERE id = ?').run(Buffer.from(GROUP_MESSAGE), first);
    db.close();

    host = await startHost({ dataDir, log: (l) => lines.push(l) });
    hosts.push(host);
    const ws = await WsClient.open(host.url, ben.token);
    await ws.until(3);
    await new Promise((r) => setTimeout(r, 100));
    // As any envelope the host altered: the client's end-to-end check is what refuses it.
    expect(ws.envelopes().map((e) => e.body)).toEqual([GROUP_MESSAGE, ...[2, 3].map((k) => GROUP_MESSAGE.map((b) => b ^ k))]);
    await ws.close();
    expect(lines.some((l) => l.includes(`envelope ${first} is not sealed at rest`))).toBe(true);
  });
});

describe('a database an older host wrote in clear is sealed on the first start', () => {
  const names = nameSeal(KEY_A);
  const bodies = envelopeSeal(KEY_A);
  const EXACT = 1_790_000_999_123;

  async function writeInClear(at: StoreLocation): Promise<void> {
    await bindNameKey(at, names);
    const old = await openHostStore({ ...at, names }); // names sealed, bodies as an older host left them
    for (const u of ['carol_old', 'dave_old']) expect(await old.createAccount(testAccount(u))).toBe(true);
    const r = await old.applyMailboxBatch(
      [
        { recipient: 'dave_old', sender: 'carol_old', receivedAt: EXACT, body: GROUP_MESSAGE },
        { recipient: 'carol_old', sender: '', receivedAt: EXACT + 1, body: GROUP_MESSAGE }
      ],
      [],
      QUOTA
    );
    expect(r.ids.every((id) => typeof id === 'number')).toBe(true);
    await old.close();
  }

  async function expectSealedAndReadable(at: StoreLocation): Promise<void> {
    const store = await openHostStore({ ...at, names, bodies });
    try {
      const [d] = await store.pendingEnvelopes('dave_old', 0, 10);
      expect(d).toMatchObject({ recipient: 'dave_old', sender: 'carol_old', receivedAt: EXACT, body: GROUP_MESSAGE });
      const [c] = await store.pendingEnvelopes('carol_old', 0, 10);
      expect(c).toMatchObject({ receivedAt: EXACT + 1, body: GROUP_MESSAGE });
      // The byte counters moved with the bodies: acking everything leaves the mailbox empty.
      const before = await store.mailboxUsage('dave_old');
      expect(before.count).toBe(1);
      const acked = await store.applyMailboxBatch([], [{ username: 'dave_old', ids: [d!.id] }], QUOTA);
      expect(acked.acked[0]).toMatchObject({ count: 1, bytes: before.bytes });
      expect(await store.mailboxUsage('dave_old')).toMatchObject({ count: 0, bytes: 0 });
    } finally {
      await store.close();
    }
  }

  test('SQLite: every body sealed and its time coarsened, the file compacted, the mail still delivered exactly', async () => {
    const dataDir = tempDir();
    await writeInClear({ dataDir });
    expect(scanDataDir(dataDir, { message: GROUP_MESSAGE }).length).toBeGreaterThan(0);
    expect(await bindEnvelopeKey({ dataDir }, bodies)).toBe(2);
    expect(scanDataDir(dataDir, { message: GROUP_MESSAGE.subarray(8, 72) })).toEqual([]);
    for (const r of storedRows(dataDir)) expect(r.receivedAt % AT_REST_TIME_STEP_MS).toBe(0);
    // Never sealed twice, and bound to its key from now on.
    expect(await bindEnvelopeKey({ dataDir }, bodies)).toBe(0);
    await expect(bindEnvelopeKey({ dataDir }, envelopeSeal(KEY_B))).rejects.toThrow(EnvelopeKeyMismatchError);
    await expectSealedAndReadable({ dataDir });
  });

  test('PostgreSQL: every body sealed, the usage counters grown by the overhead, bound to the key', async () => {
    const databaseUrl = await (await sharedCluster()).createDatabase();
    const at = { dataDir: tempDir(), databaseUrl };
    await writeInClear(at);
    expect(await bindEnvelopeKey(at, bodies)).toBe(2);
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      const rows = (await c.query<{ received_at: string; body: Buffer }>('SELECT received_at, body FROM envelopes')).rows;
      expect(rows.length).toBe(2);
      for (const r of rows) {
        expect(Number(r.received_at) % AT_REST_TIME_STEP_MS).toBe(0);
        expect(r.body.length).toBe(GROUP_MESSAGE.length + ENVELOPE_SEAL_OVERHEAD);
        expect(r.body.indexOf(Buffer.from(GROUP_MESSAGE.subarray(8, 40)))).toBe(-1);
      }
      const usage = (await c.query<{ bytes: string }>('SELECT bytes FROM mailbox_usage')).rows.map((r) => Number(r.bytes));
      expect(usage).toEqual([GROUP_MESSAGE.length + ENVELOPE_SEAL_OVERHEAD, GROUP_MESSAGE.length + ENVELOPE_SEAL_OVERHEAD]);
    } finally {
      await c.end();
    }
    expect(await bindEnvelopeKey(at, bodies)).toBe(0);
    await expect(bindEnvelopeKey(at, envelopeSeal(KEY_B))).rejects.toThrow(EnvelopeKeyMismatchError);
    await expectSealedAndReadable(at);
  });
});
