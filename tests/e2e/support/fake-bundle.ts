/**
 * A malicious host's substituted identity (SECURITY.md P2): a fresh identity the host controls,
 * answered for `username` where the app asks for that person's key: the anonymous lookup (P49,
 * GET /api/v1/discovery/<hash>) and the prekey bundle (GET /api/v1/bundles/<name>). Built in the
 * test process with the real crypto core and wire codec, so the vault accepts it exactly as it
 * would from a lying host: the only defence is the safety number.
 */
import type { BrowserContext } from '@playwright/test';
import { systemDeps } from '../../../src/lib/crypto/deps';
import { encodeIdentityPublic, generateIdentity, identityPublic } from '../../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../../src/lib/crypto/prekeys';
import { initSodium } from '../../../src/lib/crypto/sodium';
import { usernameLookupHash } from '../../../src/lib/crypto/username-hash';
import { toBase64Url } from '../../../src/lib/codec/base64url';
import { BUNDLE_VERSION, encodeBundle } from '../../../src/lib/crypto/bundle';
import { DISCOVERY_PATH, encodeLookupAnswer, lookupHashText } from '../../../src/lib/wire/discovery-api';

export interface Substitute {
  /** The JSON body of GET /api/v1/bundles/<name> for the substituted identity. */
  bundle: string;
  /** The JSON body of the anonymous lookup of <name>, answering the substituted identity. */
  lookup: string;
  /** The path of that lookup (its hash is the name's). */
  lookupPath: string;
}

export async function substituteIdentity(username: string): Promise<Substitute> {
  await initSodium();
  const identity = generateIdentity(systemDeps);
  const bundle = encodeBundle({
    version: BUNDLE_VERSION,
    username,
    identity: identityPublic(identity),
    signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 1, systemDeps)),
    kemPreKey: kemPreKeyPublic(generateKemPreKey(identity, 1, true, systemDeps))
  });
  return {
    bundle: JSON.stringify({ bundle: toBase64Url(bundle) }),
    lookup: JSON.stringify(encodeLookupAnswer({ exists: true, identity: encodeIdentityPublic(identityPublic(identity)) })),
    lookupPath: DISCOVERY_PATH + lookupHashText(usernameLookupHash(username))
  };
}

/**
 * Answers every lookup of `username` in `context` with the substitute, as a lying host would;
 * returns how many it answered.
 */
export async function lieAtLookup(context: BrowserContext, username: string, fake: Substitute): Promise<() => number> {
  let n = 0;
  await context.route(`**${fake.lookupPath}`, async (route) => {
    n++;
    await route.fulfill({ status: 200, contentType: 'application/json', body: fake.lookup });
  });
  return () => n;
}
