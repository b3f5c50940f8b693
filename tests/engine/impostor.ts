/**
 * A party the host controls that speaks AS someone else (SECURITY.md P3, P36): its own fresh
 * identity, a session it starts with the victim from the victim's published keys, and envelopes
 * it stores in the host's mailbox under the name it impersonates — exactly what a malicious host
 * can do. It can also try to read whatever the victim sends to the impersonated name, which is
 * how tests show that nothing was encrypted to its key.
 */
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityPublic, generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { BUNDLE_VERSION, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import { initiateSession, sessionDecrypt, sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import { decodeContent, encodeContent, type Content } from '../../src/lib/wire/content';
import type { MemoryHost } from '../../workers/engine/memory-host';
import type { Envelope } from '../../workers/engine/transport';
import { asUsername, type Username } from '../../src/lib/codec/username';

export class Impostor {
  readonly identity: IdentityKeyPair = generateIdentity(systemDeps);
  #session: SessionState | undefined;
  readonly as: Username;
  readonly to: Username;

  constructor(
    private readonly host: MemoryHost,
    as: string,
    to: string
  ) {
    this.as = asUsername(as);
    this.to = asUsername(to);
  }

  /** Forgets its session: the next send starts a fresh handshake with the same identity. */
  newSession(): void {
    this.#session = undefined;
  }

  get encodedIdentity(): Uint8Array {
    return encodeIdentityPublic(identityPublic(this.identity));
  }

  /** Encrypts `content` as `as` to `to` and hands it to the host (pushed if the host pushes). */
  send(content: Content): Envelope {
    if (!this.#session) {
      const acct = this.host.accounts.get(this.to)!;
      const bundle: PreKeyBundle = { version: BUNDLE_VERSION, username: this.to, identity: acct.identity, signedPreKey: acct.signedPreKey, kemPreKey: acct.lastResort! };
      this.#session = initiateSession({ ourIdentity: this.identity, ourUsername: this.as, theirUsername: this.to, bundle }, systemDeps);
    }
    const { state, message } = sessionEncrypt(this.#session, encodeContent(content), systemDeps);
    this.#session = state;
    return this.host.store(this.as, this.to, message);
  }

  /** Every content `to` sent to `as` that this impostor's session can read. */
  readAll(): Content[] {
    const out: Content[] = [];
    for (const s of this.host.sent) {
      if (s.from !== this.to || s.to !== this.as || !this.#session) continue;
      try {
        const r = sessionDecrypt(this.#session, s.body, systemDeps);
        this.#session = r.state;
        out.push(decodeContent(r.plaintext));
      } catch {
        // Not for this session: exactly what the tests want.
      }
    }
    return out;
  }
}
