// Session-level interaction model (after libsignal's fuzz/interaction target), PQXDH start
// included: alice initiates from bob's bundle (with a one-time prekey, or last-resort KEM only),
// then the network sends either way (bob only once he has accepted), delivers a random in-flight
// envelope, drops, duplicates, shuffles, reloads (session and prekey store through their
// codecs), tampers and reflects. Receiving computes on the side and commits only on success, as
// workers/engine does; every refusal must leave the stored bytes identical.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { seededDeps, type TestDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import type { ConsumedPreKeys } from '../../src/lib/crypto/pqxdh';
import {
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodeSignedPreKey,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodeSignedPreKey,
  type KemPreKey,
  type OneTimePreKey,
  type SignedPreKey
} from '../../src/lib/crypto/prekeys';
import { decodeMessage } from '../../src/lib/crypto/ratchet/header';
import {
  acceptSession,
  decodeSession,
  encodeSession,
  initiateSession,
  isPreKeyMessageForSession,
  peekMessageType,
  sessionDecrypt,
  sessionEncrypt,
  type PreKeyLookup,
  type SessionState
} from '../../src/lib/crypto/session';
import { concatBytes, toHex } from '../../src/lib/codec/bytes';
import { decodePreKeyMessage, decodeRatchetMessage } from '../../src/lib/crypto/message';
import { bundleOf, makeUser } from '../support/pqxdh-fixtures';

type Who = 'alice' | 'bob';
const other = (w: Who): Who => (w === 'alice' ? 'bob' : 'alice');
const te = new TextEncoder();
const td = new TextDecoder();

const setupDeps = seededDeps('session-interaction-users');
const aliceUser = makeUser('alice', setupDeps);
const bobUser = makeUser('bob', setupDeps);

/** Bob's prekey store, as the worker keeps it: records that survive a reload through their codecs. */
class PreKeyStore implements PreKeyLookup {
  constructor(
    readonly signed: SignedPreKey,
    readonly oneTime: Map<number, OneTimePreKey>,
    readonly kem: Map<number, KemPreKey>
  ) {}
  signedPreKey = (id: number) => (id === this.signed.id ? this.signed : undefined);
  oneTimePreKey = (id: number) => this.oneTime.get(id);
  kemPreKey = (id: number) => this.kem.get(id);

  /** Commits after an accepted session: one-time keys go, a last-resort KEM key stays (P9). */
  consume(c: ConsumedPreKeys): PreKeyStore {
    const oneTime = new Map(this.oneTime);
    const kem = new Map(this.kem);
    if (c.oneTimePreKeyId !== undefined) oneTime.delete(c.oneTimePreKeyId);
    if (!c.kemLastResort) kem.delete(c.kemPreKeyId);
    return new PreKeyStore(this.signed, oneTime, kem);
  }

  encode(): Uint8Array[] {
    return [
      encodeSignedPreKey(this.signed),
      ...[...this.oneTime.values()].map(encodeOneTimePreKey),
      ...[...this.kem.values()].map(encodeKemPreKey)
    ];
  }

  reload(): PreKeyStore {
    return new PreKeyStore(
      decodeSignedPreKey(encodeSignedPreKey(this.signed)),
      new Map([...this.oneTime.values()].map((k) => [k.id, decodeOneTimePreKey(encodeOneTimePreKey(k))])),
      new Map([...this.kem.values()].map((k) => [k.id, decodeKemPreKey(encodeKemPreKey(k))]))
    );
  }
}

type Event =
  | { t: 'send'; who: Who; len: number }
  | { t: 'deliver'; i: number }
  | { t: 'duplicate'; i: number }
  | { t: 'drop'; i: number }
  | { t: 'shuffle'; by: number }
  | { t: 'reload'; who: Who }
  | { t: 'tamper'; i: number; bit: number }
  | { t: 'reflect'; i: number };

const who = fc.constantFrom<Who>('alice', 'bob');
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('send' as const), who, len: fc.nat(200) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('deliver' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('shuffle' as const), by: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reload' as const), who }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tamper' as const), i: fc.nat(), bit: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reflect' as const), i: fc.nat() }) }
);

interface Envelope {
  id: number;
  from: Who;
  bytes: Uint8Array;
  text: string;
}

/** The sender's ratchet key (hex) inside an envelope's inner message. */
function chainOf(bytes: Uint8Array): string {
  const inner = peekMessageType(bytes) === 'prekey' ? decodePreKeyMessage(bytes).message : decodeRatchetMessage(bytes);
  return toHex(decodeMessage(inner).header.ratchetKey);
}

function knowsChain(s: SessionState, hex: string): boolean {
  const r = s.ratchet;
  return (r.theirRatchetKey !== null && toHex(r.theirRatchetKey) === hex) || r.oldChains.some((c) => toHex(c.ratchetKey) === hex);
}

class World {
  readonly sessions: Record<Who, SessionState | undefined>;
  store: PreKeyStore;
  readonly seen: Record<Who, Set<string>> = { alice: new Set(), bob: new Set() };
  readonly shown = new Set<number>();

  constructor(
    readonly deps: TestDeps,
    withOneTime: boolean
  ) {
    this.store = new PreKeyStore(bobUser.signedPreKey, new Map(bobUser.oneTimePreKeys), new Map(bobUser.kemPreKeys));
    const bundle = bundleOf(bobUser, withOneTime ? {} : { oneTimeId: null, kemId: 999 });
    const alice = initiateSession({ ourIdentity: aliceUser.identity, ourUsername: 'alice', theirUsername: 'bob', bundle }, deps);
    this.sessions = { alice, bob: undefined };
  }

  /** Everything `to` has stored, as bytes. */
  stored(to: Who): Uint8Array {
    const s = this.sessions[to];
    const session = s ? encodeSession(s) : new Uint8Array(0);
    return to === 'bob' ? concatBytes(session, ...this.store.encode()) : session;
  }

  /** What the engine would compute for `bytes` arriving at `to`; nothing is committed here. */
  receive(to: Who, bytes: Uint8Array): { state: SessionState; plaintext: Uint8Array; consumed?: ConsumedPreKeys } {
    const s = this.sessions[to];
    if (peekMessageType(bytes) === 'prekey' && to === 'bob' && !(s && isPreKeyMessageForSession(s, bytes))) {
      return acceptSession({ ourIdentity: bobUser.identity, ourUsername: 'bob', message: bytes, prekeys: this.store }, this.deps);
    }
    if (!s) throw new Error(`model: ${to} has no session to receive a ratchet message`);
    return sessionDecrypt(s, bytes, this.deps);
  }

  commit(to: Who, r: { state: SessionState; consumed?: ConsumedPreKeys }): void {
    this.sessions[to] = r.state;
    if (r.consumed) this.store = this.store.consume(r.consumed);
  }

  /** Asserts `fn` throws a ProtocolError and `to`'s stored bytes are unchanged; returns the code. */
  refused(to: Who, fn: () => unknown): string {
    const before = this.stored(to);
    try {
      fn();
    } catch (e) {
      expect(isProtocolError(e), String(e)).toBe(true);
      expect(this.stored(to)).toEqual(before);
      return (e as { code: string }).code;
    }
    throw new Error('expected a refusal');
  }

  /** Delivers a genuine envelope: it decrypts to what was sent, once, or its chain was forgotten. */
  deliver(env: Envelope): boolean {
    const to = other(env.from);
    const s = this.sessions[to];
    const chain = chainOf(env.bytes);
    // Only a chain pushed out of the last MAX_OLD_CHAINS may legitimately fail.
    if (s && this.seen[to].has(chain) && !knowsChain(s, chain)) {
      this.refused(to, () => this.receive(to, env.bytes));
      return false;
    }
    const r = this.receive(to, env.bytes);
    expect(td.decode(r.plaintext)).toBe(env.text);
    expect(this.shown.has(env.id), `message ${env.id} shown twice`).toBe(false);
    this.shown.add(env.id);
    this.commit(to, r);
    this.seen[to].add(chain);
    return true;
  }
}

test('P9 P10 P12 P13 sessions from PQXDH on: every delivered message decrypts exactly once; failures change nothing', () => {
  fc.assert(
    fc.property(fc.nat(), fc.boolean(), fc.array(event, { minLength: 30, maxLength: 50, size: 'max' }), (seed, withOneTime, events) => {
      const w = new World(seededDeps(`session-interaction-${seed}`), withOneTime);
      const inFlight: Envelope[] = [];
      const delivered: Envelope[] = [];
      let nextId = 0;
      const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);

      for (const ev of events) {
        if (ev.t === 'send') {
          const s = w.sessions[ev.who];
          if (!s) continue; // bob sends only once he has accepted
          const text = `${ev.who}#${nextId}:${'x'.repeat(ev.len)}`;
          const e = sessionEncrypt(s, te.encode(text), w.deps);
          w.sessions[ev.who] = e.state;
          // Alice's messages are PreKeyMessages exactly until she has read a reply.
          if (ev.who === 'alice') expect(peekMessageType(e.message)).toBe(s.pendingPreKey ? 'prekey' : 'ratchet');
          inFlight.push({ id: nextId++, from: ev.who, bytes: e.message, text });
        } else if (ev.t === 'deliver') {
          const env = pick(inFlight, ev.i);
          if (!env) continue;
          inFlight.splice(inFlight.indexOf(env), 1);
          if (w.deliver(env)) delivered.push(env);
        } else if (ev.t === 'drop') {
          const env = pick(inFlight, ev.i);
          if (env) inFlight.splice(inFlight.indexOf(env), 1);
        } else if (ev.t === 'shuffle') {
          const k = inFlight.length ? ev.by % inFlight.length : 0;
          inFlight.push(...inFlight.splice(0, k));
          if (ev.by % 2) inFlight.reverse();
        } else if (ev.t === 'reload') {
          const s = w.sessions[ev.who];
          if (s) {
            const bytes = encodeSession(s);
            const back = decodeSession(bytes);
            expect(encodeSession(back)).toEqual(bytes);
            w.sessions[ev.who] = back;
          }
          if (ev.who === 'bob') w.store = w.store.reload();
        } else if (ev.t === 'duplicate') {
          const env = pick(delivered, ev.i);
          if (!env) continue;
          const to = other(env.from);
          const s = w.sessions[to]!;
          const code = w.refused(to, () => w.receive(to, env.bytes));
          if (knowsChain(s, chainOf(env.bytes))) expect(code).toBe('DuplicateMessage');
          // The same replay taken as a new handshake (a lost or archived session): its one-time
          // prekey is gone, so it cannot be shown again (P9). Last-resort-only handshakes have no
          // such key; there the session lookup above is what refuses the replay.
          if (to === 'bob' && withOneTime && peekMessageType(env.bytes) === 'prekey') {
            const replay = () => acceptSession({ ourIdentity: bobUser.identity, ourUsername: 'bob', message: env.bytes, prekeys: w.store }, w.deps);
            expect(w.refused('bob', replay)).toBe('MissingPrekey');
          }
        } else if (ev.t === 'tamper') {
          const env = pick(inFlight, ev.i);
          if (!env) continue;
          const bad = env.bytes.slice();
          const bit = ev.bit % (bad.length * 8);
          bad[bit >> 3]! ^= 1 << (bit & 7);
          const to = other(env.from);
          w.refused(to, () => w.receive(to, bad));
        } else {
          const env = pick(inFlight, ev.i);
          if (!env) continue;
          // Reflected to its own sender: never decrypts (P13).
          w.refused(env.from, () => w.receive(env.from, env.bytes));
        }
      }

      // Drain: whatever is still in flight arrives now, in the current order.
      for (const env of inFlight.splice(0)) w.deliver(env);
      const sentToBob = events.some((e) => e.t === 'send' && e.who === 'alice');
      if (sentToBob && w.sessions.bob) expect(w.shown.size).toBeGreaterThan(0);
    }),
    { numRuns: 60 }
  );
});
