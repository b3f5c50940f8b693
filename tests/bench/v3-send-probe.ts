// Probe: the sealed v3 send to 1000 members (README "Groups", *v3 figures*) in a process of its
// own, called over and over, so its code and data stay warm: where the bench (group-core.ts)
// times each arm once per round between the others, this shows the send's own steady cost, by
// parts. `node --import tsx tests/bench/v3-send-probe.ts [sends] [members]`; the first 200 sends
// are untimed.
import { initSodium } from '../../src/lib/crypto/sodium';
import { systemDeps as deps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { address } from '../../src/lib/crypto/group/address';
import { createSenderKey, groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { generateServerSigningKey, generateTrustRoot, issueSenderCertificate } from '../../src/lib/crypto/certificates';
import { ContentHint, SealedContentType } from '../../src/lib/crypto/sealed-content';
import { KeyedPlanCache } from '../../src/lib/crypto/sealed-sender-v3-plan';
import { sealedMultiUploadInPlace, tokensLength } from '../../src/lib/wire/sealed-multi-api';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { DELIVERY_TOKEN_LEN } from '../../src/lib/crypto/delivery-token';
await initSodium();
const SENDS = Number(process.argv[2] ?? 3000), N = Number(process.argv[3] ?? 1000), WARM = 200;
const alice = generateIdentity(deps);
const root = generateTrustRoot(deps);
const server = generateServerSigningKey({ rootPrivateKey: root.privateKey, keyId: 1, expires: Date.now() + 3_600_000 }, deps);
const certificate = issueSenderCertificate({ server, username: 'alice', device: 1, identity: identityPublic(alice), lifetimeMs: 3_600_000 }, deps);
const recipients = Array.from({ length: N }, (_, i) => ({ username: `member${i}`, devices: [1], identity: identityPublic(generateIdentity(deps)) }));
const tokens = recipients.map(() => deps.rng(DELIVERY_TOKEN_LEN));
const stored = recipients.map(() => toBase64Url(deps.rng(32)));
let sender = createSenderKey({ groupId: deps.rng(32), ourAddress: address('alice') }, deps).state;
const headHash = new Uint8Array(32).fill(7);
const times: number[] = [];
const parts = { groupEncrypt: 0, plan: 0, seal: 0, tokens: 0 };
const plans = new KeyedPlanCache();
for (let i = 0; i < WARM + SENDS; i++) {
  // As the flush: the seal keys decoded afresh from the record (untimed).
  const sealKeys = stored.map((k) => fromBase64Url(k, 64));
  const t0 = performance.now();
  const r = groupEncrypt(sender, encodeGroupText({ headVersion: 1, headHash, content: deps.rng(1024) }));
  sender = r.state;
  const t1 = performance.now();
  const t2 = performance.now();
  const sealed = plans.seal('group', { ourIdentity: alice, senderCertificate: certificate, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, content: r.message, headroom: tokensLength(tokens) }, recipients, sealKeys, deps);
  const t3 = performance.now();
  sealedMultiUploadInPlace(tokens, sealed);
  const t4 = performance.now();
  if (i < WARM) continue;
  times.push(t4 - t0);
  parts.groupEncrypt += t1 - t0;
  parts.plan += t2 - t1;
  parts.seal += t3 - t2;
  parts.tokens += t4 - t3;
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))]!.toFixed(3);
console.log(`${N} members, ${SENDS} sends: median ${at(0.5)} ms (p10 ${at(0.1)}, p90 ${at(0.9)}) wall per send`);
console.log(`mean by part, ms: ${Object.entries(parts).map(([k, v]) => `${k} ${(v / SENDS).toFixed(3)}`).join(', ')}`);
