/**
 * The session half of sending a run of queued items to one contact (outbox.ts; DESIGN.md §5):
 * each item is encrypted on the session the one before it advanced, held in memory, and the
 * advanced sessions are sealed ONCE (session-repo.ts: the head row, and only the skipped-key rows
 * that changed) for the one transaction that also stores every ciphertext of the run. So a
 * ciphertext is never stored without the state that made it, nor that state without it, and a
 * retry re-sends stored ciphertext instead of re-running the ratchet (P12, P34).
 *
 * The crypto benchmark's stored arm runs exactly this (tests/bench/stored-driver.ts). Knows
 * nothing of outbox rows, trust or the host.
 */
import type { Username } from '../../src/lib/codec/username';
import type { Deps } from '../../src/lib/crypto/deps';
import { sessionEncrypt, type SessionState } from '../../src/lib/crypto/session';
import type { Vault } from '../storage/schema';
import { sealSessions, type SessionWrite } from '../storage/session-repo';

export interface EncryptedRun {
  /** One ciphertext per content, in order. */
  messages: Uint8Array[];
  /** The advanced sessions, sealed, for `putSessions` in the transaction storing `messages`. */
  write: SessionWrite;
}

/** Encrypts `contents` in order on `sessions[0]` (the current session, current first). */
export async function encryptRun(vault: Vault, username: Username, sessions: SessionState[], contents: readonly Uint8Array[], deps: Deps): Promise<EncryptedRun> {
  let state = sessions[0]!;
  const messages: Uint8Array[] = [];
  for (const content of contents) {
    const r = sessionEncrypt(state, content, deps);
    state = r.state;
    messages.push(r.message);
  }
  return { messages, write: await sealSessions(vault, username, [state, ...sessions.slice(1)]) };
}
