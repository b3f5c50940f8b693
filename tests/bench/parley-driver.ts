/**
 * Parley's core behind the benchmark `Driver` interface: the bundle arrives as wire bytes and is
 * decoded and verified (initiateSession checks every signature), Alice's first message is a
 * PreKeyMessage, and Bob starts his session with acceptSession. Sessions are plain state objects
 * passed in and out, as the worker holds them between IndexedDB commits.
 */
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic,
  type KemPreKey,
  type OneTimePreKey,
  type SignedPreKey
} from '../../src/lib/crypto/prekeys';
import {
  acceptSession,
  encodeSession,
  initiateSession,
  sessionDecrypt,
  sessionEncrypt,
  type PreKeyLookup,
  type SessionState
} from '../../src/lib/crypto/session';
import { BUNDLE_VERSION, decodeBundle, encodeBundle } from '../../src/lib/crypto/bundle';
import type { Conversation, Driver, Envelope, Handshake, Side } from './harness';

/** A copy, as a store read would return: the ratchet may wipe key pairs it is handed. */
function copy<T>(k: T | undefined): T | undefined {
  return k === undefined ? undefined : structuredClone(k);
}

/**
 * `webcryptoRng` swaps libsodium's randombytes_buf (≈60 µs a call in Node, measured) for
 * crypto.getRandomValues (≈2 µs), to show what systemDeps' RNG costs; the default measures
 * systemDeps exactly as the app uses it.
 */
export function parleyDriver(options: { webcryptoRng?: boolean } = {}): Driver {
  const deps: Deps = options.webcryptoRng
    ? { ...systemDeps, rng: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)) }
    : systemDeps;
  const alice = generateIdentity(deps);
  const bob = generateIdentity(deps);
  const spk: SignedPreKey = generateSignedPreKey(bob, 2, deps);
  const [opk] = generateOneTimePreKeys(1, 1, deps) as [OneTimePreKey];
  const kem: KemPreKey = generateKemPreKey(bob, 3, true, deps);
  // One-time keys stay available so every benchmark handshake can use the same bundle.
  const prekeys: PreKeyLookup = {
    signedPreKey: (id) => copy(id === spk.id ? spk : undefined),
    oneTimePreKey: (id) => copy(id === opk.id ? opk : undefined),
    kemPreKey: (id) => copy(id === kem.id ? kem : undefined)
  };
  const bundleBytes = encodeBundle({
    version: BUNDLE_VERSION,
    username: 'bob',
    identity: identityPublic(bob),
    signedPreKey: signedPreKeyPublic(spk),
    oneTimePreKey: oneTimePreKeyPublic(opk),
    kemPreKey: kemPreKeyPublic(kem)
  });

  async function handshake(first: Uint8Array<ArrayBuffer>): Promise<Handshake> {
    const states: Record<Side, SessionState | undefined> = { a: undefined, b: undefined };
    states.a = initiateSession({ ourIdentity: alice, ourUsername: 'alice', theirUsername: 'bob', bundle: decodeBundle(bundleBytes) }, deps);

    const conversation: Conversation = {
      async encrypt(from: Side, plaintext: Uint8Array<ArrayBuffer>): Promise<Envelope> {
        const state = states[from];
        if (!state) throw new Error(`${from} has no session`);
        const r = sessionEncrypt(state, plaintext, deps);
        states[from] = r.state;
        return { bytes: r.message, prekey: state.pendingPreKey !== undefined };
      },
      async decrypt(to: Side, env: Envelope): Promise<Uint8Array> {
        const state = states[to];
        if (!state) {
          const r = acceptSession({ ourIdentity: bob, ourUsername: 'bob', message: env.bytes, prekeys }, deps);
          states[to] = r.state;
          return r.plaintext;
        }
        const r = sessionDecrypt(state, env.bytes, deps);
        states[to] = r.state;
        return r.plaintext;
      },
      stateSizes() {
        const size = (s: Side) => (states[s] ? encodeSession(states[s]).length : 0);
        return { a: size('a'), b: size('b') };
      }
    };

    const firstMessage = await conversation.encrypt('a', first);
    const received = await conversation.decrypt('b', firstMessage);
    return { conversation, firstMessage, received };
  }

  return { name: 'parley', handshake };
}
