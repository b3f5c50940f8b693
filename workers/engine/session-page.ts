/**
 * The session half of receiving a page of envelopes (inbox.ts `receiveEnvelopes`; DESIGN.md §5):
 * each envelope is decrypted on the sessions the envelopes before it left, held here in memory
 * and written nowhere yet; then each sender's final sessions are sealed ONCE (session-repo.ts:
 * the head row, and only the skipped-key rows that changed) and put in the page's one
 * transaction. Until that transaction commits, what is stored is still what the page started
 * from, so a crash loses nothing and decrypts nothing twice (P12, P34).
 *
 * The crypto benchmark's stored arm runs exactly this (tests/bench/stored-driver.ts). Knows
 * nothing of message rows, acks or the host.
 */
import type { Username } from '../../src/lib/codec/username';
import type { SessionState } from '../../src/lib/crypto/session';
import type { Tx, Vault } from '../storage/schema';
import { putSessions, sealSessions, type SessionWrite } from '../storage/session-repo';
import type { EngineContext } from './context';
import { decryptEnvelope, type Decrypted } from './receive-crypto';
import type { Envelope } from './transport';

export class SessionPage {
  readonly #sessions = new Map<Username, SessionState[]>();

  /** Decrypts `env` on what the page holds for its sender (else on what is stored); changes nothing. */
  decrypt(ctx: EngineContext, env: Envelope): Promise<Decrypted> {
    return decryptEnvelope(ctx, env, this.#sessions.get(env.sender));
  }

  /** The page now follows these sessions with `sender` (an accepted envelope's `Decrypted.sessions`). */
  follow(sender: Username, sessions: SessionState[]): void {
    this.#sessions.set(sender, sessions);
  }

  /** Seals every sender's final sessions (before the transaction: sealing is synchronous, reads are not). */
  async seal(vault: Vault): Promise<SessionWrite[]> {
    const out: SessionWrite[] = [];
    for (const [sender, states] of this.#sessions) out.push(await sealSessions(vault, sender, states));
    return out;
  }
}

/** Inside the page's transaction: writes what `SessionPage.seal` computed. */
export async function putSessionWrites(tx: Tx, writes: readonly SessionWrite[]): Promise<void> {
  for (const w of writes) await putSessions(tx, w);
}
