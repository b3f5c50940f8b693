/**
 * The group core's cost to a sender, per member: one sender-key encryption for the whole group
 * against pairwise 1:1 encryption (the Double Ratchet, sessions set up once) to each member, in
 * the same run, on the same 1 KiB random messages, every ciphertext checked by a receiver.
 *
 *   node --import tsx tests/bench/group-core.ts [--json] [--rounds=7] [--smoke]
 *
 * For N = 10, 100, 1000 members it times, in alternating order over several rounds:
 *   senderKey  groupEncrypt once (what a group send costs, whatever N);
 *   pairwise   sessionEncrypt to each of the N members' sessions;
 *   rotation   P21: a new sender key plus its distribution sessionEncrypt-ed to N members (what a
 *              leave or removal costs the sender once);
 *   wire       the engine's send by the authenticated fan-out (group text, groupEncrypt, upload);
 *   sealed v3  the default path (P41) once every member holds a seal key of ours: the same sealed
 *              once as sealed sender v3 (with the group's kept KeyedSendPlan, as the engine: one
 *              keyed BLAKE2b per member, no public-key operation) plus the tokens' upload, and one member's open (trying one seal key
 *              per member of the group, the right one at a different place each round) + groupDecrypt;
 *   sealed v2  the path before seal keys reach everyone: sealed sender v2 (sealSenderMulti with the
 *              per-pair cache warm, as in the vault: one X25519 per member), upload, open + decrypt;
 *   pairwise sealed  what that one upload replaces: sessionEncrypt + sealSender (v1, cache warm)
 *              to each member;
 * and the receiver's groupDecrypt. It prints the median with the spread (min..max) of the rounds,
 * the per-member figures, and the targets (1000 members: send <= 50 ms CPU and <= 0.1x pairwise).
 * With --json it prints bench:group's line per size, {"members","sendMs","recvMs","uploadBytes",
 * "pairwiseSendMs"} for the sealed v3 path, then one JSON object with every figure. --smoke runs tiny
 * groups for a couple of rounds (tests/crypto/group/bench-smoke.test.ts); its figures mean nothing.
 */
import { randomBytes } from 'node:crypto';
import { cpuUsage } from 'node:process';
import { initSodium } from '../../src/lib/crypto/sodium';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { acceptSession, initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import { address } from '../../src/lib/crypto/group/address';
import { createSenderKey, groupDecrypt, groupEncrypt, rotateSenderKey, type OurSenderKey, type TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { encodeSenderKeyDistribution } from '../../src/lib/crypto/group/sender-key-message';
import { bundleOf, lookupOf, makeUser } from '../support/pqxdh-fixtures';
import { median } from './harness';
import { decodeGroupText, encodeGroupText } from '../../src/lib/wire/group-content';
import { encodeFanOut } from '../../src/lib/wire/group-api';
import { asUsername } from '../../src/lib/codec/username';
import { generateServerSigningKey, generateTrustRoot, issueSenderCertificate } from '../../src/lib/crypto/certificates';
import { identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { ContentHint, SealedContentType } from '../../src/lib/crypto/sealed-content';
import { openSealedSender, sealSender } from '../../src/lib/crypto/sealed-sender';
import { openSealedSenderV2, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti, type V2Recipient } from '../../src/lib/crypto/sealed-sender-v2';
import { decodeSealedMultiUpload, encodeSealedMultiUpload, sealedMultiUploadInPlace, tokensLength } from '../../src/lib/wire/sealed-multi-api';
import { openSealedSenderV3, type SealKeyCandidate } from '../../src/lib/crypto/sealed-sender-v3';
import { KeyedPlanCache } from '../../src/lib/crypto/sealed-sender-v3-plan';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { DELIVERY_TOKEN_LEN } from '../../src/lib/crypto/delivery-token';

await initSodium();

const json = process.argv.includes('--json');
const smoke = process.argv.includes('--smoke');
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : smoke ? 2 : 7;
if (!(ROUNDS >= 1)) throw new Error(`--rounds must be at least 1, got ${roundsArg}`);
const SIZES = smoke ? [2, 5] : [10, 100, 1000];
const MESSAGE_LEN = 1024;
const deps = systemDeps;
const log = (s = '') => console.log(s);
const message = () => new Uint8Array(randomBytes(MESSAGE_LEN));

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || !a.every((x, i) => x === b[i])) throw new Error(`${what}: decrypted plaintext differs from what was sent`);
}

interface Member {
  username: string;
  identity: IdentityKeyPair;
  /** Alice's session with this member (she sends on it). */
  ours: SessionState;
  /** The member's session with Alice (to check what she sent). */
  theirs: SessionState;
}

/** Alice and `n` members with established sessions (handshake plus one reply, so Alice sends RatchetMessages). */
const alice = generateIdentity(deps);
function setUp(n: number): Member[] {
  const out: Member[] = [];
  for (let i = 0; i < n; i++) {
    const bob = makeUser(`member${i}`, deps);
    const a0 = initiateSession({ ourIdentity: alice, ourUsername: 'alice', theirUsername: bob.username, bundle: bundleOf(bob) }, deps);
    const first = sessionEncrypt(a0, message(), deps);
    const acc = acceptSession({ ourIdentity: bob.identity, ourUsername: bob.username, message: first.message, prekeys: lookupOf(bob) }, deps);
    const reply = sessionEncrypt(acc.state, message(), deps);
    out.push({ username: bob.username, identity: bob.identity, ours: sessionDecrypt(first.state, reply.message, deps).state, theirs: reply.state });
  }
  return out;
}

/** Wall and CPU milliseconds of `fn`. */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c0 = cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

interface Arm {
  wall: number[];
  cpu: number[];
}
const arm = (): Arm => ({ wall: [], cpu: [] });
const record = (a: Arm, t: { wall: number; cpu: number }, per = 1) => {
  a.wall.push(t.wall / per);
  a.cpu.push(t.cpu / per);
};

const largest = Math.max(...SIZES);
log(`setting up ${largest} pairwise sessions (PQXDH + one reply each)…`);
const t0 = performance.now();
const members = setUp(largest);
const setupMs = performance.now() - t0;
log(`  done in ${(setupMs / 1000).toFixed(1)} s`);

const groupId = deps.rng(32);
const annAddress = address('alice');
let sender: OurSenderKey = createSenderKey({ groupId, ourAddress: annAddress }, deps).state;
const receiverOf = (s: OurSenderKey): TheirSenderKey => ({
  groupId: s.groupId,
  theirAddress: s.ourAddress,
  distributionId: s.distributionId,
  iteration: s.iteration,
  chainKey: s.chainKey,
  signingKey: s.signing.publicKey,
  skipped: { size: 0, buckets: new Map() }
});
let receiver = receiverOf(sender);

// Sender-key sends are ~0.1 ms: each timing repeats this many and divides, so the clock's
// resolution does not dominate.
const SK_REPEAT = smoke ? 3 : 50;

interface Figures {
  members: number;
  senderKey: Arm;
  pairwise: Arm;
  rotation: Arm;
  decrypt: Arm;
  /** What the engine does per send: group text framing, groupEncrypt, and the fan-out upload's encoding. */
  wireSend: Arm;
  /** What the receiver does: groupDecrypt and the group text's decoding. */
  wireRecv: Arm;
  uploadBytes: number;
  /** The app's default path (README "Groups", P41): the above sealed once to all as sealed sender v2 with the tokens. */
  sealedSend: Arm;
  /** A member's side of it: open the v2 envelope, groupDecrypt, decode. */
  sealedRecv: Arm;
  sealedUploadBytes: number;
  /** Sealed sender v3 (the default once seal keys are given): send + upload, one member's open + decrypt. */
  v3Send: Arm;
  v3Recv: Arm;
  v3UploadBytes: number;
  /** What one sealed upload replaces: pairwise 1:1 encryption to each member, each sealed (v1, cache warm). */
  pairwiseSealed: Arm;
}
const results: Figures[] = SIZES.map((n) => ({ members: n, senderKey: arm(), pairwise: arm(), rotation: arm(), decrypt: arm(), wireSend: arm(), wireRecv: arm(), uploadBytes: 0, sealedSend: arm(), sealedRecv: arm(), sealedUploadBytes: 0, v3Send: arm(), v3Recv: arm(), v3UploadBytes: 0, pairwiseSealed: arm() }));
const recipients = new Map(SIZES.map((n) => [n, Array.from({ length: n }, (_, i) => asUsername(`member${i}`))]));
const headHash = new Uint8Array(32).fill(7);

/** The whole send as the engine runs it (README "Groups"): one encryption, one upload for N members. */
function wireRound(f: Figures): void {
  const plain = Array.from({ length: SK_REPEAT }, message);
  const uploads: Uint8Array[] = [];
  const to = recipients.get(f.members)!;
  record(
    f.wireSend,
    timed(() => {
      for (const p of plain) {
        const r = groupEncrypt(sender, encodeGroupText({ headVersion: 1, headHash, content: p }));
        sender = r.state;
        uploads.push(encodeFanOut({ to, body: r.message }));
      }
    }),
    SK_REPEAT
  );
  f.uploadBytes = uploads[0]!.length;
  const bodies = uploads.map((u) => u.subarray(u.length - (u.length - fanOutHeader(to))));
  const got: Uint8Array[] = [];
  record(
    f.wireRecv,
    timed(() => {
      for (const b of bodies) {
        const r = groupDecrypt(receiver, b, deps);
        receiver = r.state;
        got.push(decodeGroupText(r.plaintext).content);
      }
    }),
    SK_REPEAT
  );
  plain.forEach((p, i) => same(got[i]!, p, 'group text'));
}

// Sealed sender v2 (P41) as the engine runs it once every member gave us their profile key:
// Alice's certificate and the members' verified identities and tokens are at hand (the engine
// memoises them, sealed-recipients.ts), the per-pair cache is warm after the first send.
const root = generateTrustRoot(deps);
const server = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: 1, expires: Date.now() + 3_600_000 }, deps);
const trust = { root: root.publicKey, revokedServerKeyIds: [] };
const certificate = issueSenderCertificate({ server, username: 'alice', device: 1, identity: identityPublic(alice), lifetimeMs: 3_600_000 }, deps);
const sealedCache = new SealedSenderCache(trust);
const v2Recipients = new Map<number, { recipients: V2Recipient[]; tokens: Uint8Array[] }>();
function v2For(n: number): { recipients: V2Recipient[]; tokens: Uint8Array[] } {
  let r = v2Recipients.get(n);
  if (!r) {
    const ms = members.slice(0, n);
    r = { recipients: ms.map((m) => ({ username: m.username, devices: [1], identity: identityPublic(m.identity) })), tokens: ms.map(() => deps.rng(DELIVERY_TOKEN_LEN)) };
    v2Recipients.set(n, r);
  }
  return r;
}

function sealedRound(f: Figures, round: number): void {
  const { recipients, tokens } = v2For(f.members);
  const p = message();
  let upload: Uint8Array = new Uint8Array(0);
  record(
    f.sealedSend,
    timed(() => {
      const r = groupEncrypt(sender, encodeGroupText({ headVersion: 1, headHash, content: p }));
      sender = r.state;
      const sent = sealSenderMulti({ ourIdentity: alice, senderCertificate: certificate, recipients, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, content: r.message, cache: sealedCache }, deps);
      upload = encodeSealedMultiUpload({ tokens, sent });
    })
  );
  f.sealedUploadBytes = upload.length;
  // The host's fan-out (untimed), then one member (a different one each round) reads its copy.
  const parsed = parseSealedSenderV2Sent(decodeSealedMultiUpload(upload).sent, 1 << 20);
  const k = round % f.members;
  const mine = receivedSealedSenderV2(parsed.recipients[k]!, parsed);
  let got: Uint8Array = new Uint8Array(0);
  record(
    f.sealedRecv,
    timed(() => {
      const opened = openSealedSenderV2({ message: mine, ourIdentity: members[k]!.identity, ourAddress: { username: asUsername(members[k]!.username), device: 1 }, trust }, deps);
      const r = groupDecrypt(receiver, opened.content, deps);
      receiver = r.state;
      got = decodeGroupText(r.plaintext).content;
    })
  );
  same(got, p, 'sealed group text');
}

// Sealed sender v3 as the engine runs it (engine/group-sealed.ts, group-seal-keys.ts): the
// members' verified identities and tokens are memoised objects (sealed-recipients.ts), while the
// seal keys come out of the group record the flush has just read (workers/storage/group-repo.ts
// keeps them as base64 in its sealed JSON), so they are decoded afresh, untimed, for each send,
// and the send seals with the group's plan from the engine's KeyedPlanCache (sealed-sender-v3-
// plan.ts), as `sealForMembers` does: made by the first (warm-up) send, kept while the list holds.
const plans = new KeyedPlanCache();
interface V3Setup { recipients: V2Recipient[]; tokens: Uint8Array[]; stored: string[]; others: Uint8Array[] }
const v3Setups = new Map<number, V3Setup>();
function v3For(n: number): V3Setup {
  let r = v3Setups.get(n);
  if (!r) {
    const v2 = v2For(n);
    // `others`: the seal keys the other members gave a receiver (none opens Alice's message).
    r = { recipients: v2.recipients, tokens: v2.tokens, stored: v2.recipients.map(() => toBase64Url(deps.rng(32))), others: v2.recipients.map(() => deps.rng(32)) };
    v3Setups.set(n, r);
  }
  return r;
}
const aliceEncoded = encodeIdentityPublic(identityPublic(alice));

function v3Round(f: Figures, round: number): void {
  const { recipients, tokens, stored, others } = v3For(f.members);
  const sealKeys = stored.map((k) => fromBase64Url(k, 64));
  const p = message();
  let upload: Uint8Array = new Uint8Array(0);
  record(
    f.v3Send,
    timed(() => {
      const r = groupEncrypt(sender, encodeGroupText({ headVersion: 1, headHash, content: p }));
      sender = r.state;
      const sealed = plans.seal(`group${f.members}`, { ourIdentity: alice, senderCertificate: certificate, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, content: r.message, headroom: tokensLength(tokens) }, recipients, sealKeys, deps);
      upload = sealedMultiUploadInPlace(tokens, sealed);
    })
  );
  f.v3UploadBytes = upload.length;
  const parsed = parseSealedSenderV2Sent(decodeSealedMultiUpload(upload).sent, 1 << 20);
  const k = round % f.members;
  const mine = receivedSealedSenderV2(parsed.recipients[k]!, parsed);
  // Member k holds one seal key per other member of the group; Alice's at a place that moves.
  const candidates: SealKeyCandidate[] = recipients.map((x, i) => ({ sealKey: i === k ? sealKeys[i]! : others[i]!, username: i === k ? 'alice' : x.username, identity: aliceEncoded }));
  let got: Uint8Array = new Uint8Array(0);
  record(
    f.v3Recv,
    timed(() => {
      const opened = openSealedSenderV3({ message: mine, ourIdentity: members[k]!.identity, ourAddress: { username: asUsername(members[k]!.username), device: 1 }, trust, candidates }, deps);
      const r = groupDecrypt(receiver, opened.content, deps);
      receiver = r.state;
      got = decodeGroupText(r.plaintext).content;
    })
  );
  same(got, p, 'sealed v3 group text');
}

function pairwiseSealedRound(f: Figures, round: number): void {
  const { recipients } = v2For(f.members);
  const plain = message();
  const out: Uint8Array[] = new Array(f.members);
  record(
    f.pairwiseSealed,
    timed(() => {
      for (let i = 0; i < f.members; i++) {
        const r = sessionEncrypt(members[i]!.ours, plain, deps);
        members[i]!.ours = r.state;
        out[i] = sealSender({ ourIdentity: alice, senderCertificate: certificate, theirIdentity: recipients[i]!.identity, contentType: SealedContentType.session, content: r.message, cache: sealedCache }, deps);
      }
    })
  );
  const k = (round + 1) % f.members;
  const opened = openSealedSender({ message: out[k]!, ourIdentity: members[k]!.identity, ourAddress: { username: asUsername(members[k]!.username), device: 1 }, trust }, deps);
  const r = sessionDecrypt(members[k]!.theirs, opened.content, deps);
  members[k]!.theirs = r.state;
  same(r.plaintext, plain, 'pairwise sealed');
}

/** Bytes before the message in a fan-out upload (u16 count, then length-prefixed names). */
function fanOutHeader(to: readonly string[]): number {
  return 2 + to.reduce((s, u) => s + 1 + new TextEncoder().encode(u).length, 0);
}

function senderKeyRound(f: Figures): void {
  const plain = Array.from({ length: SK_REPEAT }, message);
  const out: Uint8Array[] = [];
  record(
    f.senderKey,
    timed(() => {
      for (const p of plain) {
        const r = groupEncrypt(sender, p);
        sender = r.state;
        out.push(r.message);
      }
    }),
    SK_REPEAT
  );
  const got: Uint8Array[] = [];
  record(
    f.decrypt,
    timed(() => {
      for (const m of out) {
        const r = groupDecrypt(receiver, m, deps);
        receiver = r.state;
        got.push(r.plaintext);
      }
    }),
    SK_REPEAT
  );
  plain.forEach((p, i) => same(got[i]!, p, 'sender key'));
}

function pairwiseRound(f: Figures, round: number): void {
  const plain = message();
  const out: Uint8Array[] = new Array(f.members);
  record(
    f.pairwise,
    timed(() => {
      for (let i = 0; i < f.members; i++) {
        const r = sessionEncrypt(members[i]!.ours, plain, deps);
        members[i]!.ours = r.state;
        out[i] = r.message;
      }
    })
  );
  // One member per round reads its copy (others catch up later within MAX_SKIP).
  const k = round % f.members;
  const r = sessionDecrypt(members[k]!.theirs, out[k]!, deps);
  members[k]!.theirs = r.state;
  same(r.plaintext, plain, 'pairwise');
}

function rotationRound(f: Figures): void {
  let distributions: Uint8Array[] = [];
  let next = sender;
  record(
    f.rotation,
    timed(() => {
      const rotated = rotateSenderKey(sender, deps);
      const bytes = encodeSenderKeyDistribution(rotated.distribution);
      distributions = new Array(f.members);
      for (let i = 0; i < f.members; i++) {
        const r = sessionEncrypt(members[i]!.ours, bytes, deps);
        members[i]!.ours = r.state;
        distributions[i] = r.message;
      }
      next = rotated.state;
    })
  );
  const k = f.members - 1;
  const r = sessionDecrypt(members[k]!.theirs, distributions[k]!, deps);
  members[k]!.theirs = r.state;
  same(r.plaintext, encodeSenderKeyDistribution({ groupId, sender: annAddress, distributionId: next.distributionId, iteration: 0, chainKey: next.chainKey, signingKey: next.signing.publicKey }), 'distribution');
  sender = next;
  receiver = receiverOf(sender);
}

// Warm-up, untimed, the same for every arm at every size: each arm's code is run until V8 has
// compiled it. process.cpuUsage counts the whole process, so a timed send that V8's compiler or
// GC threads run beside would charge their work to it: with one warm-up round, a 1000-member v3
// send measured 6-18 ms in its first calls and 0.8-1 ms once compiled (a cold send is reported
// apart, below). The pairwise arm's 1000 encryptions per round warm it within its first round.
const WARMUP = smoke ? 1 : 5;
const coldV3: number[] = [];
for (let w = 0; w < WARMUP; w++) {
  for (const f of results) {
    senderKeyRound(f);
    pairwiseRound(f, w);
    rotationRound(f);
    wireRound(f);
    sealedRound(f, w);
    v3Round(f, w);
    pairwiseSealedRound(f, w);
  }
  coldV3.push(results.at(-1)!.v3Send.cpu.at(-1)!);
}
for (const f of results) Object.assign(f, { senderKey: arm(), pairwise: arm(), rotation: arm(), decrypt: arm(), wireSend: arm(), wireRecv: arm(), sealedSend: arm(), sealedRecv: arm(), v3Send: arm(), v3Recv: arm(), pairwiseSealed: arm() });

for (let round = 0; round < ROUNDS; round++) {
  for (const f of results) {
    // Alternate which arm goes first, so drift on a shared machine hits both.
    if (round % 2 === 0) {
      senderKeyRound(f);
      pairwiseRound(f, round);
    } else {
      pairwiseRound(f, round);
      senderKeyRound(f);
    }
    rotationRound(f);
    wireRound(f);
    // Alternate the sealed arms too.
    if (round % 2 === 0) {
      v3Round(f, round);
      sealedRound(f, round);
      pairwiseSealedRound(f, round);
    } else {
      pairwiseSealedRound(f, round);
      sealedRound(f, round);
      v3Round(f, round);
    }
  }
}

// ---- report ----
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const spread = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})`;
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(26))).join('');
log();
log(row(['ms (median, min..max of rounds)', ...SIZES.map((n) => `${n} members`)]));
log(row(['sender-key send, CPU', ...results.map((f) => spread(f.senderKey.cpu))]));
log(row(['sender-key send, wall', ...results.map((f) => spread(f.senderKey.wall))]));
log(row(['pairwise to all, CPU', ...results.map((f) => spread(f.pairwise.cpu))]));
log(row(['pairwise to all, wall', ...results.map((f) => spread(f.pairwise.wall))]));
log(row(['rotation (new key to all), CPU', ...results.map((f) => spread(f.rotation.cpu))]));
log(row(['receiver group decrypt, CPU', ...results.map((f) => spread(f.decrypt.cpu))]));
log(row(['engine send + fan-out upload, CPU', ...results.map((f) => spread(f.wireSend.cpu))]));
log(row(['engine receive, CPU', ...results.map((f) => spread(f.wireRecv.cpu))]));
log(row(['upload bytes (one for the group)', ...results.map((f) => String(f.uploadBytes))]));
log(row(['sealed v2 send + upload, CPU', ...results.map((f) => spread(f.sealedSend.cpu))]));
log(row(['sealed v2 receive, CPU', ...results.map((f) => spread(f.sealedRecv.cpu))]));
log(row(['sealed upload bytes', ...results.map((f) => String(f.sealedUploadBytes))]));
log(row(['sealed v3 send + upload, CPU', ...results.map((f) => spread(f.v3Send.cpu))]));
log(row(['sealed v3 receive (N keys), CPU', ...results.map((f) => spread(f.v3Recv.cpu))]));
log(row(['sealed v3 upload bytes', ...results.map((f) => String(f.v3UploadBytes))]));
log(row(['pairwise sealed (v1) to all, CPU', ...results.map((f) => spread(f.pairwiseSealed.cpu))]));
// The targets are about CPU: on a shared machine a wall clock also counts other processes' time.
const summary = results.map((f) => {
  const sk = median(f.senderKey.cpu);
  const pw = median(f.pairwise.cpu);
  return {
    members: f.members,
    senderKeySendCpuMs: sk,
    pairwiseSendCpuMs: pw,
    perMemberSenderKeyUs: (sk / f.members) * 1000,
    perMemberPairwiseUs: (pw / f.members) * 1000,
    ratio: sk / pw,
    senderKeySendWallMs: median(f.senderKey.wall),
    pairwiseSendWallMs: median(f.pairwise.wall),
    rotationCpuMs: median(f.rotation.cpu),
    groupDecryptCpuMs: median(f.decrypt.cpu),
    wireSendCpuMs: median(f.wireSend.cpu),
    wireRecvCpuMs: median(f.wireRecv.cpu),
    uploadBytes: f.uploadBytes,
    sealedSendCpuMs: median(f.sealedSend.cpu),
    sealedRecvCpuMs: median(f.sealedRecv.cpu),
    sealedUploadBytes: f.sealedUploadBytes,
    sealedRatio: median(f.sealedSend.cpu) / pw,
    pairwiseSealedCpuMs: median(f.pairwiseSealed.cpu),
    sealedVsPairwiseSealed: median(f.sealedSend.cpu) / median(f.pairwiseSealed.cpu),
    v3SendCpuMs: median(f.v3Send.cpu),
    v3RecvCpuMs: median(f.v3Recv.cpu),
    v3UploadBytes: f.v3UploadBytes,
    v3Ratio: median(f.v3Send.cpu) / pw,
    spread: {
      sealedSendCpuMs: [Math.min(...f.sealedSend.cpu), Math.max(...f.sealedSend.cpu)],
      v3SendCpuMs: [Math.min(...f.v3Send.cpu), Math.max(...f.v3Send.cpu)],
      v3Ratio: [Math.min(...f.v3Send.cpu) / Math.max(...f.pairwise.cpu), Math.max(...f.v3Send.cpu) / Math.min(...f.pairwise.cpu)],
      wireSendCpuMs: [Math.min(...f.wireSend.cpu), Math.max(...f.wireSend.cpu)],
      senderKeySendCpuMs: [Math.min(...f.senderKey.cpu), Math.max(...f.senderKey.cpu)],
      pairwiseSendCpuMs: [Math.min(...f.pairwise.cpu), Math.max(...f.pairwise.cpu)],
      ratio: [Math.min(...f.senderKey.cpu) / Math.max(...f.pairwise.cpu), Math.max(...f.senderKey.cpu) / Math.min(...f.pairwise.cpu)]
    }
  };
});
log();
log(row(['per member, µs CPU', ...SIZES.map((n) => `${n} members`)]));
log(row(['sender key (one send / N)', ...summary.map((s) => fmt(s.perMemberSenderKeyUs))]));
log(row(['pairwise (N sends / N)', ...summary.map((s) => fmt(s.perMemberPairwiseUs))]));
log(row(['ratio sender key / pairwise (CPU)', ...summary.map((s) => `${s.ratio.toFixed(4)}x`)]));
log(row(['  worst-case ratio of the rounds', ...summary.map((s) => `${s.spread.ratio[1]!.toFixed(4)}x`)]));
const big = summary.find((s) => s.members === 1000);
if (big) {
  log();
  log(`target, 1000 members: sender-key send ${fmt(big.senderKeySendCpuMs)} ms CPU <= 50 ms: ${big.senderKeySendCpuMs <= 50 ? 'yes' : 'NO'}; ` + `ratio ${big.ratio.toFixed(4)}x <= 0.1x: ${big.ratio <= 0.1 ? 'yes' : 'NO'}`);
}
log(`(${ROUNDS} rounds after ${WARMUP} untimed warm-up rounds, arms alternating; sender-key figures are the mean of ${SK_REPEAT} sends per round; 1 KiB messages; setup ${(setupMs / 1000).toFixed(1)} s untimed)`);
log(`cold: the first ${WARMUP} sealed v3 sends to ${SIZES.at(-1)} members in this process (warm-up, untimed above) took ${coldV3.map(fmt).join(', ')} ms CPU`);
if (smoke) log('(--smoke: tiny groups, a couple of rounds; these figures mean nothing)');
if (big) {
  const w = big.wireSendCpuMs;
  log(`target, 1000 members (engine send incl. fan-out upload): ${fmt(w)} ms CPU <= 50 ms: ${w <= 50 ? 'yes' : 'NO'}; ratio ${(w / big.pairwiseSendCpuMs).toFixed(4)}x <= 0.1x: ${w / big.pairwiseSendCpuMs <= 0.1 ? 'yes' : 'NO'}; one upload of ${big.uploadBytes} bytes`);
  const sv = big.sealedSendCpuMs;
  log(`target, 1000 members (sealed v2 send, the default path): ${fmt(sv)} ms CPU <= 50 ms: ${sv <= 50 ? 'yes' : 'NO'}; ratio ${big.sealedRatio.toFixed(4)}x <= 0.1x: ${big.sealedRatio <= 0.1 ? 'yes' : 'NO'}; one upload of ${big.sealedUploadBytes} bytes`);
  log(`  against the N sealed 1:1 envelopes it replaces (${fmt(big.pairwiseSealedCpuMs)} ms): ${big.sealedVsPairwiseSealed.toFixed(3)}x`);
  const v3 = big.v3SendCpuMs;
  log(`target, 1000 members (sealed v3 send, the default path once seal keys are given): ${fmt(v3)} ms CPU <= 50 ms: ${v3 <= 50 ? 'yes' : 'NO'}; ratio ${big.v3Ratio.toFixed(4)}x <= 0.1x: ${big.v3Ratio <= 0.1 ? 'yes' : 'NO'} (worst round ${big.spread.v3Ratio[1]!.toFixed(4)}x); one upload of ${big.v3UploadBytes} bytes`);
}
if (json) {
  // bench:group's contract: one line per group size, then the full figures as the last line. The
  // line is the default path, sealed v3 (v2's figures are in the full line as sealed*, the fan-out's as wire*).
  for (const x of summary) log(JSON.stringify({ members: x.members, sendMs: x.v3SendCpuMs, recvMs: x.v3RecvCpuMs, uploadBytes: x.v3UploadBytes, pairwiseSendMs: x.pairwiseSendCpuMs }));
  log(JSON.stringify({ rounds: ROUNDS, warmupRounds: WARMUP, coldV3SendCpuMs: coldV3, messageBytes: MESSAGE_LEN, results: summary }));
}
