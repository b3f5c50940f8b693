/**
 * The `sealed` figure of bench:crypto (SECURITY.md P41): a 1 KiB message sealed, as the app will
 * send it, against the same message unsealed, on the same run.
 *
 *   unsealed  = sessionEncrypt + sessionDecrypt
 *   sealed    = sessionEncrypt + sealSender + openSealedSender (certificate chain verified) +
 *               checkSenderMatchesSession + sessionDecrypt, each side with its SealedSenderCache
 *               as the vault worker keeps one (the headline)
 *   uncached  = the same with no cache: both static DHs and three Ed25519 verifications every time
 *
 * Two conversation shapes, each arm with its own pair of sessions set up the same way: `reply`
 * (each message answers the last, so every decrypt is a DH ratchet step: a chat) and `stream`
 * (one side sends many in a row: no DH step, the cheapest unsealed path). The arms take turns in
 * short rounds, sending the same messages in the same directions, their order rotating each round
 * so load from elsewhere on the machine hits all alike; each round gives a per-message time (this
 * process's CPU time, user + system, so waiting for a shared core is not counted), the figures are
 * medians over rounds (the ratio is the median of per-round ratios) with the interquartile range
 * as spread. Every plaintext is checked.
 *
 *   node --import tsx tests/bench/sealed-arm.ts [--json] [--rounds=N] [--per-round=N] [--smoke]
 *
 * `measureSealedArm()` is what bench:crypto's JSON takes its `sealed` figure from (the reply shape
 * is the headline; `stream` is reported beside it). --smoke runs a few messages only; its figures
 * mean nothing (tests/crypto/sealed-bench-smoke.test.ts runs it so the arm cannot rot).
 */
import { randomBytes } from 'node:crypto';
import { cpuUsage } from 'node:process';
import { pathToFileURL } from 'node:url';
import { initSodium } from '../../src/lib/crypto/sodium';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { acceptSession, initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import { generateServerSigningKey, generateTrustRoot, issueSenderCertificate, type SealedSenderTrust, type SenderCertificate } from '../../src/lib/crypto/certificates';
import { checkSenderMatchesSession, openSealedSender, sealSender } from '../../src/lib/crypto/sealed-sender';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { asUsername } from '../../src/lib/codec/username';
import type { PreKeyBundle } from '../../src/lib/crypto/bundle';

export const SEALED_MESSAGE_LEN = 1024;

interface Party {
  username: string;
  identity: IdentityKeyPair;
  certificate: SenderCertificate;
}

interface Pair {
  a: SessionState;
  b: SessionState;
}

interface World {
  alice: Party;
  bob: Party;
  trust: SealedSenderTrust;
  /** Fresh session pairs of the same shape, one per arm. */
  pairs(): [Pair, Pair, Pair];
}

function setup(deps: Deps): World {
  const root = generateTrustRoot(deps);
  const server = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: 1, expires: deps.now() + 30 * 86_400_000 }, deps);
  const party = (username: string): Party => {
    const identity = generateIdentity(deps);
    const certificate = issueSenderCertificate({ server, username, device: 1, identity: identityPublic(identity) }, deps);
    return { username, identity, certificate };
  };
  const alice = party('alice');
  const bob = party('bob');
  const spk = generateSignedPreKey(bob.identity, 1, deps);
  const kem = generateKemPreKey(bob.identity, 2, true, deps);
  const pairs = (): [Pair, Pair, Pair] => {
    const one = (): Pair => {
      const [opk] = generateOneTimePreKeys(100, 1, deps);
      const bundle: PreKeyBundle = {
        version: 1,
        username: 'bob',
        identity: identityPublic(bob.identity),
        signedPreKey: signedPreKeyPublic(spk),
        oneTimePreKey: oneTimePreKeyPublic(opk!),
        kemPreKey: kemPreKeyPublic(kem)
      };
      let a = initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle }, deps);
      const first = sessionEncrypt(a, randomBytes(16), deps);
      a = first.state;
      const acc = acceptSession(
        {
          ourIdentity: bob.identity,
          ourUsername: 'bob',
          message: first.message,
          prekeys: { signedPreKey: () => structuredClone(spk), oneTimePreKey: () => structuredClone(opk), kemPreKey: () => structuredClone(kem) }
        },
        deps
      );
      // Bob replies, so both sides are past the PreKeyMessage stage (ordinary messages from here).
      const reply = sessionEncrypt(acc.state, randomBytes(16), deps);
      a = sessionDecrypt(a, reply.message, deps).state;
      return { a, b: reply.state };
    };
    return [one(), one(), one()];
  };
  return { alice, bob, trust: { root: root.publicKey, revokedServerKeyIds: [] }, pairs };
}

function check(got: Uint8Array, want: Uint8Array): void {
  if (got.length !== want.length || !Buffer.from(got).equals(want)) throw new Error('sealed arm: decrypted plaintext differs from what was sent');
}

type Dir = 'ab' | 'ba';
/** Each side's memo (sealed-cache.ts), as each vault worker keeps one. */
type Caches = { a: SealedSenderCache; b: SealedSenderCache };

/** One message unsealed: returns the new pair. */
function unsealedStep(p: Pair, dir: Dir, msg: Uint8Array, deps: Deps): Pair {
  const [from, to] = dir === 'ab' ? [p.a, p.b] : [p.b, p.a];
  const e = sessionEncrypt(from, msg, deps);
  const d = sessionDecrypt(to, e.message, deps);
  check(d.plaintext, msg);
  return dir === 'ab' ? { a: e.state, b: d.state } : { a: d.state, b: e.state };
}

/** The same message sealed on the way. */
function sealedStep(w: World, p: Pair, dir: Dir, msg: Uint8Array, deps: Deps, caches?: Caches): Pair {
  const [from, to] = dir === 'ab' ? [p.a, p.b] : [p.b, p.a];
  const [sender, recipient] = dir === 'ab' ? [w.alice, w.bob] : [w.bob, w.alice];
  const e = sessionEncrypt(from, msg, deps);
  const sealed = sealSender(
    {
      ourIdentity: sender.identity,
      senderCertificate: sender.certificate,
      theirIdentity: to.ourIdentity,
      contentType: SealedContentType.session,
      content: e.message,
      cache: caches?.[dir === 'ab' ? 'a' : 'b']
    },
    deps
  );
  const opened = openSealedSender(
    { message: sealed, ourIdentity: recipient.identity, ourAddress: { username: asUsername(recipient.username), device: 1 }, trust: w.trust, cache: caches?.[dir === 'ab' ? 'b' : 'a'] },
    deps
  );
  checkSenderMatchesSession(opened.sender, to);
  const d = sessionDecrypt(to, opened.content, deps);
  check(d.plaintext, msg);
  return dir === 'ab' ? { a: e.state, b: d.state } : { a: d.state, b: e.state };
}

export interface Figure {
  /** Median over rounds of CPU µs per message (encrypt + decrypt, plus seal + open when sealed). */
  sealedUs: number;
  unsealedUs: number;
  /** Median over rounds of the per-round ratio sealed / unsealed. */
  ratio: number;
  /** Interquartile range over rounds. */
  spread: { sealedUs: [number, number]; unsealedUs: [number, number]; ratio: [number, number] };
}

export interface ShapeFigures extends Figure {
  /** The same without a SealedSenderCache: every envelope verifies the chain and does both static DHs. */
  uncached: Figure;
}

export interface SealedArmResult extends ShapeFigures {
  /** The headline figure's shape: every message a reply (each decrypt a DH ratchet step). */
  shape: 'reply';
  rounds: number;
  messagesPerRound: number;
  /** One side sending many in a row (no DH ratchet step): the cheapest unsealed path. */
  stream: ShapeFigures;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function figure(sealed: number[], unsealed: number[]): Figure {
  const ratios = sealed.map((s, i) => s / unsealed[i]!);
  const iqr = (xs: number[], r: (x: number) => number): [number, number] => [r(quantile(xs, 0.25)), r(quantile(xs, 0.75))];
  return {
    sealedUs: round1(quantile(sealed, 0.5)),
    unsealedUs: round1(quantile(unsealed, 0.5)),
    ratio: round3(quantile(ratios, 0.5)),
    spread: { sealedUs: iqr(sealed, round1), unsealedUs: iqr(unsealed, round1), ratio: iqr(ratios, round3) }
  };
}

function measureShape(w: World, shape: 'reply' | 'stream', rounds: number, perRound: number, deps: Deps): ShapeFigures {
  const msgs = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(SEALED_MESSAGE_LEN)));
  const caches: Caches = { a: new SealedSenderCache(w.trust), b: new SealedSenderCache(w.trust) };
  const [p0, p1, p2] = w.pairs();
  const state = { unsealed: p0, cached: p1, uncached: p2 };
  const dirOf = (i: number): Dir => (shape === 'stream' || i % 2 === 0 ? 'ab' : 'ba');
  const step: Record<keyof typeof state, (p: Pair, dir: Dir, m: Uint8Array) => Pair> = {
    unsealed: (p, dir, m) => unsealedStep(p, dir, m, deps),
    cached: (p, dir, m) => sealedStep(w, p, dir, m, deps, caches),
    uncached: (p, dir, m) => sealedStep(w, p, dir, m, deps)
  };
  const times: Record<keyof typeof state, number[]> = { unsealed: [], cached: [], uncached: [] };
  const arms = Object.keys(state) as (keyof typeof state)[];
  for (let r = 0; r < rounds; r++) {
    const first = r * perRound;
    // Every arm sends the same messages in the same directions this round; the order of the arms
    // rotates from round to round so no arm always runs first or last.
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(r + k) % arms.length]!;
      const c0 = cpuUsage();
      for (let j = first; j < first + perRound; j++) state[arm] = step[arm](state[arm], dirOf(j), msgs[j % msgs.length]!);
      const c = cpuUsage(c0);
      times[arm].push((c.user + c.system) / perRound);
    }
  }
  return { ...figure(times.cached, times.unsealed), uncached: figure(times.uncached, times.unsealed) };
}

/** The sealed arm: the reply shape as the headline figure, the stream shape beside it. */
export function measureSealedArm(options: { rounds?: number; perRound?: number; warmup?: number; deps?: Deps } = {}): SealedArmResult {
  const deps = options.deps ?? systemDeps;
  const rounds = options.rounds ?? 21;
  const perRound = options.perRound ?? 30;
  const w = setup(deps);
  const warm = options.warmup ?? 3;
  if (warm > 0) {
    measureShape(w, 'reply', warm, perRound, deps);
    measureShape(w, 'stream', warm, perRound, deps);
  }
  const reply = measureShape(w, 'reply', rounds, perRound, deps);
  const stream = measureShape(w, 'stream', rounds, perRound, deps);
  return { shape: 'reply', rounds, messagesPerRound: perRound, ...reply, stream };
}

function arg(name: string): number | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  const n = Number(a.slice(name.length + 3));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${a}`);
  return n;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await initSodium();
  const smoke = process.argv.includes('--smoke');
  const result = measureSealedArm(smoke ? { rounds: 2, perRound: 2, warmup: 0 } : { rounds: arg('rounds'), perRound: arg('per-round') });
  const row = (name: string, f: Figure) =>
    console.log(
      `${name.padEnd(10)} unsealed ${f.unsealedUs.toFixed(1).padStart(8)} µs [${f.spread.unsealedUs.join('–')}]   ` +
        `sealed ${f.sealedUs.toFixed(1).padStart(8)} µs [${f.spread.sealedUs.join('–')}]   ` +
        `ratio ${f.ratio.toFixed(3)} [${f.spread.ratio.join('–')}]`
    );
  console.log(`sealed vs unsealed, ${SEALED_MESSAGE_LEN}-byte message, CPU µs per message, ${result.rounds} alternating rounds of ${result.messagesPerRound} (median [IQR]), target ratio ≤ 1.5`);
  row('reply', result);
  row('  uncached', result.uncached);
  row('stream', result.stream);
  row('  uncached', result.stream.uncached);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ sealed: result }));
}
