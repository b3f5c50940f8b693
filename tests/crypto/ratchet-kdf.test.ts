import { createHmac, hkdfSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { hkdf, hmacSha256 } from '../../src/lib/crypto/hkdf';
import { seededDeps } from '../../src/lib/crypto/deps';
import { sha256, x25519KeyPair } from '../../src/lib/crypto/primitives';
import { kdfRk } from '../../src/lib/crypto/ratchet/root-key';
import { kdfCk } from '../../src/lib/crypto/ratchet/chain-key';
import { deriveMessageKeys } from '../../src/lib/crypto/ratchet/message-key';
import {
  initReceiver,
  initSender,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState
} from '../../src/lib/crypto/ratchet/double-ratchet';
import { encodeRatchetState } from '../../src/lib/crypto/ratchet/ratchet-state';
import { fromHex, toHex } from '../../src/lib/codec/bytes';

const fill = (f: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => f(i) & 0xff);
const RK = fill((i) => i);
const DH = fill((i) => 0xa0 + i);
const CK = fill((i) => 0x40 + i);
const MK = fill((i) => 0xf0 ^ i);
const text = (s: string) => new TextEncoder().encode(s);
const nodeHkdf = (salt: Uint8Array, ikm: Uint8Array, info: string, n: number) =>
  new Uint8Array(hkdfSync('sha256', ikm, salt, info, n));
const nodeHmac = (key: Uint8Array, data: number) => new Uint8Array(createHmac('sha256', key).update(Uint8Array.of(data)).digest());

describe('P6 ratchet KDFs are exact (known answers, independent derivations)', () => {
  test('P6 kdfRk = HKDF-SHA256(salt RK, ikm DH, "Parley_Ratchet", 64) split 32/32', () => {
    const { rootKey, chainKey } = kdfRk(RK, DH);
    const viaShared = hkdf(RK, DH, text('Parley_Ratchet'), 64);
    const viaNode = nodeHkdf(RK, DH, 'Parley_Ratchet', 64);
    expect(toHex(viaShared)).toBe(toHex(viaNode));
    expect(toHex(rootKey)).toBe(toHex(viaNode.subarray(0, 32)));
    expect(toHex(chainKey)).toBe(toHex(viaNode.subarray(32)));
    expect(toHex(rootKey)).toBe('f5d5948085c255a6b4f80d1eaf400d5f6b4c6aa065ba76a7eb5007e85a9841ac');
    expect(toHex(chainKey)).toBe('27bdaaaf3d1882a9f253295d2f9e32ccd34c45ce83a87b48dd2717ac3c1c26e7');
  });

  test('P6 kdfCk: message key = HMAC(CK, 0x01), next chain key = HMAC(CK, 0x02)', () => {
    const { messageKey, chainKey } = kdfCk(CK);
    expect(toHex(messageKey)).toBe(toHex(hmacSha256(CK, Uint8Array.of(1))));
    expect(toHex(chainKey)).toBe(toHex(hmacSha256(CK, Uint8Array.of(2))));
    expect(toHex(messageKey)).toBe(toHex(nodeHmac(CK, 1)));
    expect(toHex(chainKey)).toBe(toHex(nodeHmac(CK, 2)));
    expect(toHex(messageKey)).toBe('01156abd78ef59f755f1e6945e5d1e2d7ddd1f1e5fe0a164b2f5fa8ad500bfba');
    expect(toHex(chainKey)).toBe('f0bdefbbad3cf097dccb03f2c87159f7608e2480543eef7741c8f2e7f226e78f');
  });

  test('P6 message key -> HKDF(salt 0^32, "Parley_MessageKeys", 56) = AEAD key (32) || nonce (24)', () => {
    const { key, nonce } = deriveMessageKeys(MK);
    const okm = hkdf(new Uint8Array(32), MK, text('Parley_MessageKeys'), 56);
    expect(toHex(okm)).toBe(toHex(nodeHkdf(new Uint8Array(32), MK, 'Parley_MessageKeys', 56)));
    expect(key.length).toBe(32);
    expect(nonce.length).toBe(24);
    expect(toHex(key) + toHex(nonce)).toBe(toHex(okm));
    expect(toHex(key)).toBe('0095d4c54f7fe4cda6867add9c975c8a8e5907888bad6d4889029b8426c5b2dd');
    expect(toHex(nonce)).toBe('1a2daf626004b1267e2c8bf983bbf5376b0314dc6cfe2961');
  });

  test('P6 the fast message-key path agrees with the shared HKDF on many inputs', () => {
    let mk: Uint8Array = MK;
    for (let i = 0; i < 50; i++) {
      const { key, nonce } = deriveMessageKeys(mk);
      expect(toHex(key) + toHex(nonce)).toBe(toHex(hkdf(new Uint8Array(32), mk, text('Parley_MessageKeys'), 56)));
      mk = kdfCk(mk).chainKey;
    }
  });

  test('KDF inputs of the wrong length are refused, inputs are not modified', () => {
    expect(() => kdfRk(new Uint8Array(31), DH)).toThrow(/InvalidArgument/);
    expect(() => kdfCk(new Uint8Array(33))).toThrow(/InvalidArgument/);
    expect(() => deriveMessageKeys(new Uint8Array(16))).toThrow(/InvalidArgument/);
    const ck = CK.slice();
    kdfCk(ck);
    expect(ck).toEqual(CK);
  });
});

// ---- frozen golden conversation ----

const VECTOR_PATH = new URL('../vectors/ratchet.json', import.meta.url);
const SEED = 'ratchet-golden-v1';

interface Step {
  from: 'alice' | 'bob';
  plaintext: string;
  wire: string;
}

/** A fixed conversation: in order, out of order, a gap filled late, three DH steps. */
function conversation() {
  const deps = seededDeps(SEED);
  const sharedSecret = deps.rng(32);
  const bobSignedPreKey = x25519KeyPair(deps);
  const ad = text('alice@parley|bob@parley');
  let alice: RatchetState = initSender({ sharedSecret, theirRatchetKey: bobSignedPreKey.publicKey }, deps);
  let bob: RatchetState = initReceiver({ sharedSecret, ourRatchetKeyPair: bobSignedPreKey });
  const steps: Step[] = [];
  const send = (from: 'alice' | 'bob', plaintext: string): Uint8Array => {
    const r = ratchetEncrypt(from === 'alice' ? alice : bob, text(plaintext), ad, deps);
    if (from === 'alice') alice = r.state;
    else bob = r.state;
    steps.push({ from, plaintext, wire: toHex(r.message) });
    return r.message;
  };
  const recv = (to: 'alice' | 'bob', m: Uint8Array, expected: string) => {
    const r = ratchetDecrypt(to === 'alice' ? alice : bob, m, ad, deps);
    expect(new TextDecoder().decode(r.plaintext)).toBe(expected);
    if (to === 'alice') alice = r.state;
    else bob = r.state;
  };
  const a0 = send('alice', 'hello bob');
  const a1 = send('alice', 'are you there?');
  const a2 = send('alice', 'third');
  recv('bob', a2, 'third');
  recv('bob', a0, 'hello bob');
  const b0 = send('bob', 'hi alice');
  recv('alice', b0, 'hi alice');
  deps.advance(60_000);
  const a3 = send('alice', 'new chain');
  recv('bob', a3, 'new chain');
  recv('bob', a1, 'are you there?');
  const b1 = send('bob', 'got them all');
  const b2 = send('bob', 'bye');
  recv('alice', b2, 'bye');
  recv('alice', b1, 'got them all');
  return {
    source: `frozen from seededDeps seed '${SEED}'`,
    ad: toHex(ad),
    steps,
    aliceStateSha256: toHex(sha256(encodeRatchetState(alice))),
    bobStateSha256: toHex(sha256(encodeRatchetState(bob)))
  };
}

describe('P6 golden vectors (tests/vectors/ratchet.json)', () => {
  test('P6 a fixed conversation from seededDeps reproduces the frozen wire bytes and state hashes', () => {
    const fresh = conversation();
    if (process.env.UPDATE_VECTORS === '1') {
      writeFileSync(VECTOR_PATH, JSON.stringify(fresh, null, 2) + '\n');
    }
    expect(existsSync(VECTOR_PATH), 'missing vectors: run with UPDATE_VECTORS=1 once').toBe(true);
    const frozen = JSON.parse(readFileSync(VECTOR_PATH, 'utf8')) as ReturnType<typeof conversation>;
    expect(frozen.source).toMatch(/^frozen from seededDeps seed/);
    expect(fresh).toEqual(frozen);
    // Every frozen message is a well-formed ratchet message: version 1, X25519 key type.
    for (const s of frozen.steps) expect(Array.from(fromHex(s.wire).subarray(0, 2))).toEqual([1, 5]);
  });
});
