/**
 * Authentication by signature (DESIGN.md §4 "Identity"): the host hands out random 32-byte
 * challenges, each single-use and short-lived; the client signs
 * `Labels.hostAuth || challenge || username` with its Ed25519 identity key; the host answers
 * with a random bearer token and stores only its SHA-256, so a database dump yields no usable
 * token. No passwords. Challenges live in the store (port.ts), so one fetched from one host
 * instance can be answered at another, and is still taken once. Knows nothing of prekeys or mailboxes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519Verify } from '../lib/crypto/primitives';
import { fromBase64Url } from '../lib/codec/base64url';
import { HostLimits, hostAuthMessage } from '../lib/wire/host-api';
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { HostStore } from './storage/port';

export interface Auth {
  challenge(): Promise<{ challenge: Uint8Array; expiresAt: number }>;
  /** Consumes the challenge (even if the signature is wrong) and verifies the signature. */
  verifyChallenge(username: string, challenge: Uint8Array, signature: Uint8Array, signingKey: Uint8Array): Promise<void>;
  issueToken(username: string): Promise<{ token: Uint8Array; expiresAt: number }>;
  /** The username for a raw token, or undefined. */
  userForToken(token: Uint8Array): Promise<string | undefined>;
  /** The username for a base64url bearer string, or a 401. */
  requireUser(bearerText: string | undefined): Promise<string>;
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function createAuth(store: HostStore, limits: Limits, clock: () => number): Auth {
  const auth: Auth = {
    async challenge() {
      const challenge = new Uint8Array(randomBytes(HostLimits.challengeLen));
      const expiresAt = clock() + limits.challengeTtlMs;
      await store.putChallenge(challenge, expiresAt);
      return { challenge, expiresAt };
    },
    async verifyChallenge(username, challenge, signature, signingKey) {
      if (!(await store.takeChallenge(challenge, clock()))) throw new HostError(401, 'Unauthorized', 'unknown, used or expired challenge');
      if (!ed25519Verify(signingKey, hostAuthMessage(challenge, username), signature)) {
        throw new HostError(401, 'Unauthorized', 'signature does not verify under the identity key');
      }
    },
    async issueToken(username) {
      const token = new Uint8Array(randomBytes(HostLimits.tokenLen));
      const expiresAt = clock() + limits.tokenTtlMs;
      await store.putToken(sha256(token), username, expiresAt);
      return { token, expiresAt };
    },
    async userForToken(token) {
      if (token.length !== HostLimits.tokenLen) return undefined;
      return store.tokenUser(sha256(token), clock());
    },
    async requireUser(text) {
      let token: Uint8Array | undefined;
      try {
        token = text === undefined ? undefined : fromBase64Url(text, HostLimits.tokenLen);
      } catch {
        token = undefined;
      }
      const user = token ? await auth.userForToken(token) : undefined;
      if (!user) throw new HostError(401, 'Unauthorized', 'missing, unknown or expired bearer token');
      return user;
    }
  };
  return auth;
}
