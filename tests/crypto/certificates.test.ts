import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  SENDER_CERTIFICATE_MAX_LEN,
  SENDER_CERTIFICATE_MAX_LIFETIME_MS,
  SERVER_CERTIFICATE_LEN,
  decodeSenderCertificate,
  decodeServerCertificate,
  encodeSenderCertificate,
  encodeServerCertificate,
  generateServerSigningKey,
  generateTrustRoot,
  issueSenderCertificate,
  issueServerCertificate,
  verifySenderCertificate,
  verifyServerCertificate,
  type SenderCertificate
} from '../../src/lib/crypto/certificates';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { identityPublic } from '../../src/lib/crypto/identity';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { isProtocolError, type ProtocolErrorCode } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { asUsername } from '../../src/lib/codec/username';
import { expectFailsUnchanged, flipBit } from '../support/pqxdh-fixtures';
import { DAY, sealedWorld } from './sealed-fixtures';

const world = sealedWorld('certificates');
const { deps, trust, server } = world;
const alice = world.user('alice');
const now = deps.now();

/** The error code `fn` throws (fails the test if it returns or throws something untyped). */
function codeOf(fn: () => unknown): ProtocolErrorCode {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError, got a result');
}

/** Re-signs `c`'s body with `key` as the server key would (for certificates the issuer refuses to make). */
function signedBy(c: Omit<SenderCertificate, 'signature'>, key: Uint8Array): SenderCertificate {
  const unsigned = encodeSenderCertificate({ ...c, signature: new Uint8Array(64) }).slice(0, -64);
  return { ...c, signature: ed25519Sign(key, concatBytes(new TextEncoder().encode('Parley_SenderCertificate'), unsigned)) };
}

describe('P41 sender certificates: issue, encode, verify', () => {
  test('a certificate issued by the host verifies, and round-trips through its codec byte for byte', () => {
    const c = alice.certificate;
    expect(c.username).toBe('alice');
    expect(c.device).toBe(1);
    expect(c.expires).toBe(now + DAY);
    expect(c.identity).toEqual(identityPublic(alice.identity));
    verifySenderCertificate(c, trust, now);
    const bytes = encodeSenderCertificate(c);
    expect(bytes.length).toBe(SENDER_CERTIFICATE_MAX_LEN - (32 - 'alice'.length));
    expect(decodeSenderCertificate(bytes)).toEqual(c);
    expect(encodeSenderCertificate(decodeSenderCertificate(bytes))).toEqual(bytes);
    expect(encodeServerCertificate(server.certificate).length).toBe(SERVER_CERTIFICATE_LEN);
    expect(decodeServerCertificate(encodeServerCertificate(server.certificate))).toEqual(server.certificate);
  });

  test('valid up to and including its expiry ms, UntrustedIdentity one ms later', () => {
    verifySenderCertificate(alice.certificate, trust, alice.certificate.expires);
    expectFailsUnchanged('UntrustedIdentity', () => verifySenderCertificate(alice.certificate, trust, alice.certificate.expires + 1), alice.certificate, trust);
  });

  test('the issuer cuts a certificate short at its server certificate expiry', () => {
    const short = generateServerSigningKey({ rootPrivateKey: world.root.privateKey, keyId: 8, expires: now + 1000 }, deps);
    const c = issueSenderCertificate({ server: short, username: 'bob', device: 1, identity: identityPublic(alice.identity) }, deps);
    expect(c.expires).toBe(now + 1000);
    verifySenderCertificate(c, trust, now + 1000);
  });

  test('a certificate under another trust root is refused: InvalidSignature', () => {
    const otherRoot = generateTrustRoot(deps);
    expect(codeOf(() => verifySenderCertificate(alice.certificate, { root: otherRoot.publicKey, revokedServerKeyIds: [] }, now))).toBe('InvalidSignature');
  });

  test('a server key certified by a rogue root, with the genuine key id, is refused', () => {
    const rogueRoot = generateTrustRoot(deps);
    const rogue = generateServerSigningKey({ rootPrivateKey: rogueRoot.privateKey, keyId: server.certificate.keyId, expires: now + DAY }, deps);
    const forged = issueSenderCertificate({ server: rogue, username: 'alice', device: 1, identity: identityPublic(alice.identity) }, deps);
    expect(codeOf(() => verifySenderCertificate(forged, trust, now))).toBe('InvalidSignature');
  });

  test('the genuine server certificate embedded, but signed by another key: InvalidSignature', () => {
    const other = generateTrustRoot(deps); // any Ed25519 key pair
    const { signature: _, ...body } = alice.certificate;
    expect(codeOf(() => verifySenderCertificate(signedBy(body, other.privateKey), trust, now))).toBe('InvalidSignature');
    // The same body signed with the real server key is accepted: the helper signs like the host.
    verifySenderCertificate(signedBy(body, server.privateKey), trust, now);
  });

  test.each([
    ['username', { username: asUsername('mallory') }],
    ['device', { device: 2 }],
    ['identity', { identity: identityPublic(world.user('mallory').identity) }],
    ['expiry', { expires: alice.certificate.expires + DAY }],
    ['server key id', { signer: { ...server.certificate, keyId: 9 } }],
    ['server expiry', { signer: { ...server.certificate, expires: server.certificate.expires + DAY } }]
  ] as const)('an edited %s breaks a signature: InvalidSignature', (_field, edit) => {
    const edited: SenderCertificate = { ...alice.certificate, ...edit };
    expect(codeOf(() => verifySenderCertificate(edited, trust, now))).toBe('InvalidSignature');
    // And the same edit survives the codec unchanged, so it is the signature that refuses it.
    expect(decodeSenderCertificate(encodeSenderCertificate(edited))).toEqual(edited);
  });

  test('a revoked server key id is refused even though every signature holds: UntrustedIdentity', () => {
    const revoked = generateServerSigningKey({ rootPrivateKey: world.root.privateKey, keyId: 0xdeadc357, expires: now + DAY }, deps);
    const c = issueSenderCertificate({ server: revoked, username: 'alice', device: 1, identity: identityPublic(alice.identity) }, deps);
    verifySenderCertificate(c, { ...trust, revokedServerKeyIds: [] }, now);
    expect(codeOf(() => verifySenderCertificate(c, trust, now))).toBe('UntrustedIdentity');
  });

  test('an expired server certificate is refused: UntrustedIdentity', () => {
    expect(codeOf(() => verifyServerCertificate(server.certificate, trust, server.certificate.expires + 1))).toBe('UntrustedIdentity');
  });

  test('a certificate that outlives its server certificate is refused (a server key signing beyond its term)', () => {
    const { signature: _, ...body } = alice.certificate;
    const long = signedBy({ ...body, expires: server.certificate.expires + 1 }, server.privateKey);
    expect(codeOf(() => verifySenderCertificate(long, trust, now))).toBe('UntrustedIdentity');
  });

  test('an identity whose IKd is not signed by its IKs is refused, even when the host signed it', () => {
    const { signature: _, ...body } = alice.certificate;
    const mallory = world.user('mallory');
    const spliced = { ...body, identity: { ...body.identity, dhKey: mallory.identity.dh.publicKey } };
    expect(codeOf(() => verifySenderCertificate(signedBy(spliced, server.privateKey), trust, now))).toBe('InvalidSignature');
  });

  test('the host-side issuer refuses what it must not sign', () => {
    const id = identityPublic(alice.identity);
    const bad = { ...id, dhKey: world.user('x_x').identity.dh.publicKey };
    expect(codeOf(() => issueSenderCertificate({ server, username: 'alice', device: 1, identity: bad }, deps))).toBe('InvalidSignature');
    expect(codeOf(() => issueSenderCertificate({ server, username: 'Alice', device: 1, identity: id }, deps))).toBe('InvalidArgument');
    expect(codeOf(() => issueSenderCertificate({ server, username: 'alice', device: 0, identity: id }, deps))).toBe('InvalidArgument');
    expect(codeOf(() => issueSenderCertificate({ server, username: 'alice', device: 1, identity: id, lifetimeMs: SENDER_CERTIFICATE_MAX_LIFETIME_MS + 1 }, deps))).toBe('InvalidArgument');
    const expired = issueServerCertificate({ rootPrivateKey: world.root.privateKey, keyId: 3, key: server.certificate.key, expires: now - 1 });
    expect(codeOf(() => issueSenderCertificate({ server: { ...server, certificate: expired }, username: 'alice', device: 1, identity: id }, deps))).toBe('InvalidArgument');
  });
});

describe('P41 certificate codecs are strict', () => {
  const bytes = encodeSenderCertificate(alice.certificate);

  test('every truncation and every extension is DecodeFailed', () => {
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeSenderCertificate(bytes.subarray(0, n))), `prefix ${n}`).toBe('DecodeFailed');
    expect(codeOf(() => decodeSenderCertificate(concatBytes(bytes, Uint8Array.of(0))))).toBe('DecodeFailed');
    const server = encodeServerCertificate(world.server.certificate);
    for (let n = 0; n < server.length; n++) expect(codeOf(() => decodeServerCertificate(server.subarray(0, n)))).toBe('DecodeFailed');
    expect(codeOf(() => decodeServerCertificate(concatBytes(server, Uint8Array.of(0))))).toBe('DecodeFailed');
  });

  test('unknown versions are UnsupportedVersion; device 0 and a non-canonical username are DecodeFailed', () => {
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(codeOf(() => decodeSenderCertificate(v2))).toBe('UnsupportedVersion');
    const dev0 = bytes.slice();
    dev0.fill(0, 1 + 1 + 5, 1 + 1 + 5 + 4);
    expect(codeOf(() => decodeSenderCertificate(dev0))).toBe('DecodeFailed');
    const upper = bytes.slice();
    upper[2] = 'A'.charCodeAt(0);
    expect(codeOf(() => decodeSenderCertificate(upper))).toBe('DecodeFailed');
  });

  test('every single bit flip anywhere in a certificate is refused by decode or verify, with a typed error', () => {
    const seen = new Set<string>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const code = codeOf(() => verifySenderCertificate(decodeSenderCertificate(flipBit(bytes, bit)), trust, now));
      seen.add(code);
    }
    // Flips land in lengths/types/versions (decoding), in signed fields (signatures) and in the
    // username's letters (canonical form): never accepted.
    expect([...seen].sort()).toEqual(['DecodeFailed', 'InvalidKey', 'InvalidSignature', 'UnsupportedVersion']);
  });
});

describe('P41 the verified-certificate memo never changes an answer', () => {
  test('with a memo, time and revocation are still checked on every call', () => {
    const cache = new SealedSenderCache(trust);
    verifySenderCertificate(alice.certificate, trust, now, cache);
    expect(cache.hasVerifiedCertificate(encodeSenderCertificate(alice.certificate))).toBe(true);
    expect(codeOf(() => verifySenderCertificate(alice.certificate, trust, alice.certificate.expires + 1, cache))).toBe('UntrustedIdentity');
    const revoking = { ...trust, revokedServerKeyIds: [server.certificate.keyId] };
    expect(codeOf(() => verifySenderCertificate(alice.certificate, revoking, now, cache))).toBe('InvalidArgument');
    expect(codeOf(() => verifySenderCertificate(alice.certificate, revoking, now, new SealedSenderCache(revoking)))).toBe('UntrustedIdentity');
  });

  test('a forged certificate is never remembered, and is refused the same way the second time', () => {
    const cache = new SealedSenderCache(trust);
    const forged = { ...alice.certificate, username: asUsername('mallory') };
    expect(codeOf(() => verifySenderCertificate(forged, trust, now, cache))).toBe('InvalidSignature');
    expect(cache.hasVerifiedCertificate(encodeSenderCertificate(forged))).toBe(false);
    expect(codeOf(() => verifySenderCertificate(forged, trust, now, cache))).toBe('InvalidSignature');
  });

  test('property: for any certificate time and check time, the answer with a warm memo equals the answer without', () => {
    const cache = new SealedSenderCache(trust);
    fc.assert(
      fc.property(fc.integer({ min: -2 * DAY, max: 40 * DAY }), fc.integer({ min: 1, max: 7 * DAY }), (offset, lifetime) => {
        const c = issueSenderCertificate({ server, username: 'alice', device: 1, identity: identityPublic(alice.identity), lifetimeMs: lifetime }, deps);
        const at = now + offset;
        const plain = (() => { try { verifySenderCertificate(c, trust, at); return 'ok'; } catch (e) { return isProtocolError(e) ? e.code : 'untyped'; } })();
        verifySenderCertificate(c, trust, now, cache); // warm
        const memo = (() => { try { verifySenderCertificate(c, trust, at, cache); return 'ok'; } catch (e) { return isProtocolError(e) ? e.code : 'untyped'; } })();
        expect(memo).toBe(plain);
      }),
      { numRuns: 60, seed: 41 }
    );
  });
});
