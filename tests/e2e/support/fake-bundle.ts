/**
 * A malicious host's substituted prekey bundle (SECURITY.md P2): a bundle for `username` signed
 * by a fresh identity the host controls. Built in the test process with the real crypto core and
 * wire codec, so the vault accepts it exactly as it would from a lying host: the only defence is
 * the safety number.
 */
import { systemDeps } from '../../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../../src/lib/crypto/prekeys';
import { initSodium } from '../../../src/lib/crypto/sodium';
import { toBase64Url } from '../../../src/lib/codec/base64url';
import { BUNDLE_VERSION, encodeBundle } from '../../../src/lib/crypto/bundle';

/** The JSON body the host's GET /api/v1/bundles/<name> answers with, for a substituted identity. */
export async function substitutedBundleResponse(username: string): Promise<string> {
  await initSodium();
  const identity = generateIdentity(systemDeps);
  const bundle = encodeBundle({
    version: BUNDLE_VERSION,
    username,
    identity: identityPublic(identity),
    signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 1, systemDeps)),
    kemPreKey: kemPreKeyPublic(generateKemPreKey(identity, 1, true, systemDeps))
  });
  return JSON.stringify({ bundle: toBase64Url(bundle) });
}
