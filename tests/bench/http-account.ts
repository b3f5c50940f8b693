/**
 * One account registered over the host's HTTP API, for probes that talk to a host with a bearer
 * and no vault (files-http.bench.ts, blob-download-probe.ts). Answers its bearer token.
 */
import { toBase64Url } from '../../src/lib/codec/base64url';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { API, decodeChallengeResponse, decodeTokenResponse, encodeRegisterRequest, hostAuthMessage } from '../../src/lib/wire/host-api';

export async function registerOverHttp(url: string, username: string): Promise<string> {
  const identity = generateIdentity(systemDeps);
  const ch = decodeChallengeResponse(await (await fetch(url + API.challenge)).json()).challenge;
  const body = encodeRegisterRequest({
    username,
    challenge: ch,
    signature: ed25519Sign(identity.signing.privateKey, hostAuthMessage(ch, username)),
    identity: identityPublic(identity),
    signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 1, systemDeps)),
    oneTimePreKeys: generateOneTimePreKeys(1, 2, systemDeps).map(oneTimePreKeyPublic),
    kemPreKeys: [kemPreKeyPublic(generateKemPreKey(identity, 1, true, systemDeps))]
  });
  const res = await fetch(url + API.accounts, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  return toBase64Url(decodeTokenResponse(await res.json()).token);
}
