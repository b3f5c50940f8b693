/**
 * The encryption self-test behind the start page's button: two throw-away identities
 * with a full PQXDH prekey set, a session alice -> bob, one message encrypted and decrypted.
 *
 * Runs entirely inside the vault worker and returns only what is safe to show: the decrypted
 * text, the ciphertext size and the (public) safety number. No key bytes, no state, nothing
 * stored: the identities die with the call.
 */
import type { Deps } from '../../src/lib/crypto/deps';
import { fail } from '../../src/lib/codec/errors';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic
} from '../../src/lib/crypto/prekeys';
import { formatSafetyNumber, safetyNumber } from '../../src/lib/crypto/safety-number';
import { acceptSession, initiateSession, sessionEncrypt } from '../../src/lib/crypto/session';
import { BUNDLE_VERSION, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import type { SelfTestReport } from '../../src/lib/vault/views';

/** Longer input is refused: the self-test is a smoke check, not a transport. */
export const SELF_TEST_MAX_CHARS = 4096;


export function runSelfTest(text: string, deps: Deps): SelfTestReport {
  if (typeof text !== 'string' || text.length > SELF_TEST_MAX_CHARS) {
    fail('InvalidArgument', `self-test text must be a string of at most ${SELF_TEST_MAX_CHARS} chars`);
  }
  const alice = generateIdentity(deps);
  const bob = generateIdentity(deps);
  const signed = generateSignedPreKey(bob, 1, deps);
  const [oneTime] = generateOneTimePreKeys(1, 1, deps);
  const kem = generateKemPreKey(bob, 1, false, deps);
  if (!oneTime) fail('Internal', 'no one-time prekey generated');

  const bundle: PreKeyBundle = {
    version: BUNDLE_VERSION,
    username: 'bob',
    identity: identityPublic(bob),
    signedPreKey: signedPreKeyPublic(signed),
    oneTimePreKey: oneTimePreKeyPublic(oneTime),
    kemPreKey: kemPreKeyPublic(kem)
  };
  const aliceState = initiateSession({ ourIdentity: alice, ourUsername: 'alice', theirUsername: 'bob', bundle }, deps);
  const { message } = sessionEncrypt(aliceState, new TextEncoder().encode(text), deps);
  const received = acceptSession(
    {
      ourIdentity: bob,
      ourUsername: 'bob',
      message,
      prekeys: {
        signedPreKey: (id) => (id === signed.id ? signed : undefined),
        oneTimePreKey: (id) => (id === oneTime.id ? oneTime : undefined),
        kemPreKey: (id) => (id === kem.id ? kem : undefined)
      }
    },
    deps
  );
  const safety = safetyNumber({
    ourUsername: 'bob',
    ourIdentity: received.state.ourIdentity,
    theirUsername: received.theirUsername,
    theirIdentity: received.theirIdentity
  });
  return {
    plaintext: new TextDecoder('utf-8', { fatal: true }).decode(received.plaintext),
    ciphertextBytes: message.length,
    safety: formatSafetyNumber(safety)
  };
}
