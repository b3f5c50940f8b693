/**
 * What the crypto benchmark measures, independent of the implementation under test.
 *
 * A `Driver` runs one complete handshake (bundle bytes in, responder plaintext out) and returns a
 * `Conversation`; every metric is defined once, here, over that interface, so Parley and
 * libsignal are timed by the same loops on the same messages. Every decrypted plaintext is
 * compared with what was sent: a benchmark that does not check its output measures nothing.
 */
import { randomBytes } from 'node:crypto';

export type Side = 'a' | 'b';

export interface Envelope {
  bytes: Uint8Array;
  prekey: boolean;
}

export interface Conversation {
  encrypt(from: Side, plaintext: Uint8Array<ArrayBuffer>): Promise<Envelope>;
  /**
   * Encrypts a run of queued messages at `from` as the outbox takes them, where the
   * implementation has runs (the stored arm: one transaction). Absent: one `encrypt` each.
   */
  encryptPage?(from: Side, plaintexts: Uint8Array<ArrayBuffer>[]): Promise<Envelope[]>;
  /** Decrypts at `to` (the other side sent it). */
  decrypt(to: Side, envelope: Envelope): Promise<Uint8Array>;
  /**
   * Decrypts a backlog at `to` as one page of the receive loop, where the implementation has
   * pages (the stored arm: one transaction for the page). Absent: one `decrypt` per envelope.
   */
  decryptPage?(to: Side, envelopes: Envelope[]): Promise<Uint8Array[]>;
  /** Serialized (for the stored arm: sealed, as stored) session state of each side, in bytes. */
  stateSizes(): { a: number; b: number } | Promise<{ a: number; b: number }>;
}

export interface Driver {
  /** `parley`: the core on in-memory state; `stored`: the same core on the worker's IndexedDB path. */
  name: 'parley' | 'libsignal' | 'stored';
  /**
   * Alice processes Bob's bundle (from its wire bytes) and encrypts `first`; Bob starts his
   * session from that prekey message and decrypts it.
   */
  handshake(first: Uint8Array<ArrayBuffer>): Promise<Handshake>;
}

export interface Handshake {
  conversation: Conversation;
  firstMessage: Envelope;
  /** What Bob decrypted from `firstMessage`. */
  received: Uint8Array;
}

export const MESSAGE_LEN = 1024;
const POOL = 64;
/** The same 1 KiB random messages for both implementations. */
export const messages: Uint8Array<ArrayBuffer>[] = Array.from({ length: POOL }, () => new Uint8Array(randomBytes(MESSAGE_LEN)));
export const messageAt = (i: number): Uint8Array<ArrayBuffer> => messages[i % POOL]!;

export function assertSame(got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.length !== want.length || !Buffer.from(got.buffer, got.byteOffset, got.length).equals(want)) {
    throw new Error(`${what}: decrypted plaintext differs from what was sent`);
  }
}

const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

/** Encrypt at `from`, decrypt at the other side, check. */
export async function deliver(c: Conversation, from: Side, plaintext: Uint8Array<ArrayBuffer>): Promise<Envelope> {
  const env = await c.encrypt(from, plaintext);
  assertSame(await c.decrypt(other(from), env), plaintext, `${from} -> ${other(from)}`);
  return env;
}

/** One handshake, its first plaintext checked. */
export async function handshake(d: Driver, first: Uint8Array<ArrayBuffer>): Promise<Handshake> {
  const h = await d.handshake(first);
  if (!h.firstMessage.prekey) throw new Error(`${d.name}: first message is not a prekey message`);
  assertSame(h.received, first, `${d.name} handshake`);
  return h;
}

/** A handshake plus Bob's reply, so Alice's later messages are ordinary (non-prekey) ones. */
export async function established(d: Driver): Promise<Conversation> {
  const { conversation } = await handshake(d, messageAt(0));
  await deliver(conversation, 'b', messageAt(1));
  return conversation;
}

/**
 * What a measurement counts: wall-clock time (the default, what a user waits), or the CPU time
 * this process used, all threads (`--cpu-time`: on a machine shared with other work, wall time
 * also counts the time the scheduler gave to others, unevenly between arms that use one thread
 * and arms that also use worker threads).
 */
let cpuTime = false;
export function measureCpuTime(on: boolean): void {
  cpuTime = on;
}

function clockMs(): number {
  if (!cpuTime) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `step` until `budgetMs` of wall time has passed; returns the count and the time measured. */
export async function timeLoop(step: (i: number) => Promise<void>, budgetMs: number): Promise<{ n: number; ms: number }> {
  let n = 0;
  const t0 = performance.now();
  const c0 = clockMs();
  do {
    await step(n);
    n++;
  } while (performance.now() - t0 < budgetMs);
  return { n, ms: clockMs() - c0 };
}

export interface Workload {
  /** Fresh per-round setup (untimed). */
  setup(d: Driver): Promise<(i: number) => Promise<void>>;
  /** What one step counts for in the rate (default 1). */
  pairsPerStep?: number;
}

export const handshakes: Workload = {
  setup: async (d) => async (i) => {
    await handshake(d, messageAt(i));
  }
};

/** A pair = a->b then b->a; alternating directions makes every message a DH ratchet step. */
export const pingPong: Workload = {
  setup: async (d) => {
    const c = await established(d);
    return async (i) => {
      await deliver(c, 'a', messageAt(2 * i));
      await deliver(c, 'b', messageAt(2 * i + 1));
    };
  }
};

/** A pair = two a->b messages on one sending chain (no DH step). */
export const stream: Workload = {
  setup: async (d) => {
    const c = await established(d);
    return async (i) => {
      await deliver(c, 'a', messageAt(2 * i));
      await deliver(c, 'a', messageAt(2 * i + 1));
    };
  }
};

/** Decrypts `envs` at `to` as one page if the conversation has pages, else one by one. */
async function receivePage(c: Conversation, to: Side, envs: Envelope[]): Promise<Uint8Array[]> {
  if (c.decryptPage) return c.decryptPage(to, envs);
  const out: Uint8Array[] = [];
  for (const env of envs) out.push(await c.decrypt(to, env));
  return out;
}

/** Encrypts `plaintexts` at `from` as one run if the conversation has runs, else one by one. */
async function sendPage(c: Conversation, from: Side, plaintexts: Uint8Array<ArrayBuffer>[]): Promise<Envelope[]> {
  if (c.encryptPage) return c.encryptPage(from, plaintexts);
  const out: Envelope[] = [];
  for (const p of plaintexts) out.push(await c.encrypt(from, p));
  return out;
}

/**
 * A backlog on one sending chain: a encrypts `page` queued messages as the outbox takes them (one
 * run, workers/engine/outbox.ts), then b receives them as one page of the receive loop
 * (workers/engine/inbox.ts).
 * Counted in pairs (two messages), as `stream`.
 */
export function streamBacklog(page: number): Workload {
  if (page % 2 !== 0) throw new Error('a backlog page holds whole pairs');
  return {
    setup: async (d) => {
      const c = await established(d);
      return async (i) => {
        const plaintexts = Array.from({ length: page }, (_, k) => messageAt(i * page + k));
        const envs = await sendPage(c, 'a', plaintexts);
        const got = await receivePage(c, 'b', envs);
        got.forEach((g, k) => assertSame(g, plaintexts[k]!, `backlog #${k}`));
      };
    },
    pairsPerStep: page / 2
  };
}

/**
 * Rates for several drivers, interleaved: `rounds` rounds, each giving every driver
 * `budgetMs / rounds`, in alternating order, so a burst of load from elsewhere on the machine
 * hits all alike. Returns each driver's rate per round (round r of every driver ran back to back,
 * so per-round ratios compare like with like).
 */
export async function measureRates(drivers: Driver[], w: Workload, budgetMs: number, rounds: number): Promise<Map<Driver, number[]>> {
  const rates = new Map<Driver, number[]>(drivers.map((d) => [d, []]));
  for (let r = 0; r < rounds; r++) {
    for (const d of r % 2 === 0 ? drivers : [...drivers].reverse()) {
      const step = await w.setup(d);
      const { n, ms } = await timeLoop(step, budgetMs / rounds);
      rates.get(d)!.push((n * (w.pairsPerStep ?? 1) * 1000) / ms);
    }
  }
  return rates;
}

/**
 * Encrypt `count` a->b messages (untimed), decrypt them newest first (timed); milliseconds. With
 * `page`, the reversed backlog arrives in pages of that many (one transaction each, where the
 * driver has pages), as the receive loop takes a backlog pushed on connect.
 */
export async function reverseDecryptMs(d: Driver, count: number, page?: number): Promise<number> {
  const c = await established(d);
  const sent: { env: Envelope; plaintext: Uint8Array<ArrayBuffer> }[] = [];
  for (let i = 0; i < count; i++) {
    const plaintext = messageAt(i);
    sent.push({ env: await c.encrypt('a', plaintext), plaintext });
  }
  const t0 = clockMs();
  if (page !== undefined) {
    const reversed = [...sent].reverse();
    for (let k = 0; k < reversed.length; k += page) {
      const chunk = reversed.slice(k, k + page);
      const got = await receivePage(c, 'b', chunk.map((x) => x.env));
      got.forEach((g, j) => assertSame(g, chunk[j]!.plaintext, `reverse page #${k + j}`));
    }
    return clockMs() - t0;
  }
  for (let i = count - 1; i >= 0; i--) {
    const { env, plaintext } = sent[i]!;
    assertSame(await c.decrypt('b', env), plaintext, `reverse #${i}`);
  }
  return clockMs() - t0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median and range of `xs`. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}
