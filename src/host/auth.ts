/**
 * Authentication by signature (DESIGN.md §4 "Identity"): the host hands out random 32-byte
 * challenges, each single-use and short-lived; the client signs
 * `Labels.hostAuth || challenge || username` with its Ed25519 identity key; the host answers
 * with a random bearer token and stores only its SHA-256, so a database dump yields no usable
 * token. No passwords. Knows nothing of prekeys or mailboxes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519Verify } from '../lib/crypto/primitives';
import { fromBase64Url, toBase64Url } from '../lib/codec/base64url';
import { HostLimits, hostAuthMessage } from '../lib/wire/host-api';
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { HostStorage } from './storage/types';

export interface Auth {
  challenge(): { challenge: Uint8Array; expiresAt: number };
  /** Consumes the challenge (even if the signature is wrong) and verifies the signature. */
  verifyChallenge(username: string, challenge: Uint8Array, signature: Uint8Array, signingKey: Uint8Array): void;
  issueToken(username: string): { token: Uint8Array; expiresAt: number };
  /** The username for a raw token, or undefined. */
  userForToken(token: Uint8Array): string | undefined;
  /** The username for a base64url bearer string, or a 401. */
  requireUser(bearerText: string | undefined): string;
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function createAuth(storage: HostStorage, limits: Limits, clock: () => number): Auth {
  // In memory on purpose: a restart invalidates outstanding challenges, which only costs a retry.
  const challenges = new Map<string, number>();

  function prune(now: number): void {
    for (const [k, exp] of challenges) if (exp <= now) challenges.delete(k);
    for (const k of challenges.keys()) {
      if (challenges.size < limits.maxChallenges) break;
      challenges.delete(k);
    }
  }

  const auth: Auth = {
    challenge() {
      const now = clock();
      if (challenges.size >= limits.maxChallenges) prune(now);
      const challenge = new Uint8Array(randomBytes(HostLimits.challengeLen));
      const expiresAt = now + limits.challengeTtlMs;
      challenges.set(toBase64Url(challenge), expiresAt);
      return { challenge, expiresAt };
    },
    verifyChallenge(username, challenge, signature, signingKey) {
      const key = toBase64Url(challenge);
      const exp = challenges.get(key);
      challenges.delete(key);
      if (exp === undefined || exp <= clock()) throw new HostError(401, 'Unauthorized', 'unknown, used or expired challenge');
      if (!ed25519Verify(signingKey, hostAuthMessage(challenge, username), signature)) {
        throw new HostError(401, 'Unauthorized', 'signature does not verify under the identity key');
      }
    },
    issueToken(username) {
      const token = new Uint8Array(randomBytes(HostLimits.tokenLen));
      const expiresAt = clock() + limits.tokenTtlMs;
      storage.putToken(sha256(token), username, expiresAt);
      return { token, expiresAt };
    },
    userForToken(token) {
      if (token.length !== HostLimits.tokenLen) return undefined;
      return storage.tokenUser(sha256(token), clock());
    },
    requireUser(text) {
      let user: string | undefined;
      try {
        user = text === undefined ? undefined : auth.userForToken(fromBase64Url(text, HostLimits.tokenLen));
      } catch {
        user = undefined;
      }
      if (!user) throw new HostError(401, 'Unauthorized', 'missing, unknown or expired bearer token');
      return user;
    }
  };
  return auth;
}
