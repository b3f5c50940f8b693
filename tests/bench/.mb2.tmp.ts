import { initSodium, sodium } from '../../src/lib/crypto/sodium';
import { systemDeps as deps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { acceptSession, initiateSession, sessionDecrypt, sessionEncrypt } from '../../src/lib/crypto/session';
import { kdfCk } from '../../src/lib/crypto/ratchet/chain-key';
import { deriveMessageKeys } from '../../src/lib/crypto/ratchet/message-key';
await initSodium();
const alice = generateIdentity(deps), bob = generateIdentity(deps);
const spk = generateSignedPreKey(bob, 2, deps), kem = generateKemPreKey(bob, 3, true, deps);
let a = initiateSession({ ourIdentity: alice, ourUsername: 'alice', theirUsername: 'bob', bundle: { version: 1, username: 'bob', identity: identityPublic(bob), signedPreKey: signedPreKeyPublic(spk), kemPreKey: kemPreKeyPublic(kem) } as any }, deps);
const pt = deps.rng(1024);
const e0 = sessionEncrypt(a, pt, deps); a = e0.state;
let b = acceptSession({ ourIdentity: bob, ourUsername: 'bob', message: e0.message, prekeys: { signedPreKey: () => spk, oneTimePreKey: () => undefined, kemPreKey: () => kem } }, deps).state;
const r = sessionEncrypt(b, pt, deps); b = r.state; a = sessionDecrypt(a, r.message, deps).state;
const N = 40000;
for (let rep = 0; rep < 3; rep++) {
  const msgs: Uint8Array[] = [];
  let t = performance.now();
  for (let i = 0; i < N; i++) { const e = sessionEncrypt(a, pt, deps); a = e.state; msgs.push(e.message); }
  const te = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < N; i++) { b = sessionDecrypt(b, msgs[i]!, deps).state; }
  const td = (performance.now() - t) * 1000 / N;
  const ck = deps.rng(32);
  t = performance.now();
  for (let i = 0; i < N; i++) kdfCk(ck);
  const tk = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < N; i++) deriveMessageKeys(ck);
  const tm = (performance.now() - t) * 1000 / N;
  const s = sodium(); const key = deps.rng(32), n = deps.rng(24), ad = deps.rng(312), p = deps.rng(1120);
  t = performance.now();
  for (let i = 0; i < N; i++) s.crypto_aead_xchacha20poly1305_ietf_encrypt(p, ad, null, n, key);
  const ta = (performance.now() - t) * 1000 / N;
  console.log(`enc ${te.toFixed(2)} dec ${td.toFixed(2)} kdfCk ${tk.toFixed(2)} mk ${tm.toFixed(2)} aead ${ta.toFixed(2)} us`);
}
