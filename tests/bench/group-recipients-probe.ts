// Probe: what a 1000-member sealed group send spends before sealing, reading every member's
// contact row (workers/engine/sealed-recipients.ts `sealedRecipients`: one IndexedDB get and one
// sealed-record open per member; identities and tokens memoised) on fake-indexeddb:
// `node --import tsx tests/bench/group-recipients-probe.ts [members] [avatarBytes]`. Each contact
// caches its profile; with `avatarBytes`, each also has a picture of that size (as profiles.ts
// caches it: in a row of its own since schema 7, so a send should read none of them).
import 'fake-indexeddb/auto';
import { initSodium } from '../../src/lib/crypto/sodium';
import { seededDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { toBase64Url } from '../../src/lib/codec/base64url';
import type { Username } from '../../src/lib/codec/username';
import { commit, loadVault } from '../../workers/storage/vault';
import { newContact, putContact } from '../../workers/storage/contact-repo';
import { sealedRecipients } from '../../workers/engine/sealed-recipients';
import type { EngineContext } from '../../workers/engine/context';
import { median } from './harness';

await initSodium();
const deps = seededDeps('recipients-probe');
const N = Number(process.argv[2] ?? 1000);
const AVATAR = Number(process.argv[3] ?? 0);
const vault = await loadVault('recipients-probe');
const to = Array.from({ length: N }, (_, i) => `member${i}` as Username);
await commit(vault, async (tx) => {
  for (const u of to) await putContact(tx, { ...newContact(u, encodeIdentityPublic(identityPublic(generateIdentity(deps)))), profileKey: toBase64Url(deps.rng(32)), profile: { displayName: u, about: 'about ' + u, ...(AVATAR > 0 ? { avatar: toBase64Url(deps.rng(AVATAR)) } : {}) } });
});
// Only what sealedRecipients touches: the vault (and the context as its memo's key).
const ctx = { vault } as EngineContext;
const xs: number[] = [];
for (let k = 0; k < 12; k++) {
  const t = performance.now();
  const r = await sealedRecipients(ctx, to);
  xs.push(performance.now() - t);
  if (!r || r.recipients.length !== N) throw new Error('recipients missing');
}
const rest = xs.slice(2);
console.log(`${N} members${AVATAR > 0 ? `, ${AVATAR}-byte avatars` : ''}: first ${xs[0]!.toFixed(1)} ms (identities verified, tokens derived); then ${median(rest).toFixed(1)} (${Math.min(...rest).toFixed(1)}..${Math.max(...rest).toFixed(1)}) ms per send (median (min..max) of 10)`);
