/**
 * What sealed sender v2 adds to a group send (SECURITY.md P41; README "Groups"): the sender's
 * `sealSenderMulti` of one 1 KiB sender-key message to N members (with the per-context
 * SealedSenderCache warm, as in the vault, so the static DH per member is memoised and each
 * member costs one ephemeral X25519 and three HMAC-SHA-256, sealed-v2-keys.ts), the host's parse
 * and per-member received forms, and one member's open. Also the engine's preparation of the
 * recipients' identities (sealed-recipients.ts): decoding and signature-checking each (what every
 * send did before the memo) against the memo's hits. Medians with the spread (min..max) over the
 * rounds, CPU time.
 *
 *   node --import tsx tests/bench/group-sealed.ts [--json] [--rounds=5]
 */
import { randomBytes } from 'node:crypto';
import { cpuUsage } from 'node:process';
import { initSodium } from '../../src/lib/crypto/sodium';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateServerSigningKey, generateTrustRoot, issueSenderCertificate } from '../../src/lib/crypto/certificates';
import { decodeIdentityPublic, encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { verifiedIdentity } from '../../workers/engine/sealed-recipients';
import type { EngineContext } from '../../workers/engine/context';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { openSealedSenderV2, parseSealedSenderV2Sent, receivedSealedSenderV2, sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { median } from './harness';

await initSodium();
const json = process.argv.includes('--json');
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 5;
const deps = systemDeps;
const root = generateTrustRoot(deps);
const server = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: 1, expires: Date.now() + 3_600_000 }, deps);
const trust = { root: root.publicKey, revokedServerKeyIds: [] };
const alice = generateIdentity(deps);
const cert = issueSenderCertificate({ server, username: 'alice', device: 1, identity: identityPublic(alice), lifetimeMs: 3_600_000 }, deps);

const cpuMs = (f: () => void): number => {
  const t = cpuUsage();
  f();
  const d = cpuUsage(t);
  return (d.user + d.system) / 1000;
};
const fmt = (xs: number[]) => `${median(xs).toFixed(2)} ms (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`;

const results: { members: number; sealMs: number; hostMs: number; openMs: number; uploadBytes: number; verifyEachMs: number; memoMs: number }[] = [];
for (const n of [10, 100, 1000]) {
  const members = Array.from({ length: n }, (_, i) => ({ username: `member${i}`, identity: generateIdentity(deps) }));
  const recipients = members.map((m) => ({ username: m.username, devices: [1], identity: identityPublic(m.identity) }));
  const cache = new SealedSenderCache(trust);
  const seal = () => sealSenderMulti({ ourIdentity: alice, senderCertificate: cert, recipients, contentType: SealedContentType.senderKey, content: new Uint8Array(randomBytes(1024)), cache }, deps);
  let sent = seal(); // warms the cache
  const sealT: number[] = [];
  const hostT: number[] = [];
  const openT: number[] = [];
  const verifyT: number[] = [];
  const memoT: number[] = [];
  const encoded = members.map((m) => encodeIdentityPublic(identityPublic(m.identity)));
  // The memo is keyed by engine context; a stand-in object is one context here.
  const ctx = {} as EngineContext;
  for (const b of encoded) verifiedIdentity(ctx, b);
  for (let r = 0; r < ROUNDS; r++) {
    verifyT.push(cpuMs(() => encoded.forEach((b) => decodeIdentityPublic(b))));
    memoT.push(cpuMs(() => encoded.forEach((b) => verifiedIdentity(ctx, b))));
    sealT.push(cpuMs(() => (sent = seal())));
    let first: Uint8Array | undefined;
    hostT.push(cpuMs(() => {
      const parsed = parseSealedSenderV2Sent(sent, sent.length);
      for (const rec of parsed.recipients) first ??= receivedSealedSenderV2(rec, parsed);
    }));
    openT.push(cpuMs(() => openSealedSenderV2({ message: first!, ourIdentity: members[0]!.identity, ourAddress: { username: 'member0' as never, device: 1 }, trust }, deps)));
  }
  results.push({ members: n, sealMs: median(sealT), hostMs: median(hostT), openMs: median(openT), uploadBytes: sent.length, verifyEachMs: median(verifyT), memoMs: median(memoT) });
  if (!json) console.log(`${n} members: seal ${fmt(sealT)}, host parse+forms ${fmt(hostT)}, open ${fmt(openT)}, upload ${sent.length} bytes; recipients' identities: verify each ${fmt(verifyT)}, memo ${fmt(memoT)}`);
}
if (json) console.log(JSON.stringify(results));
