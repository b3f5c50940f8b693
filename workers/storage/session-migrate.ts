/**
 * Schema v2 -> v3 for sessions: v1–v2 vaults stored each contact's sessions whole (ratchet state
 * with every skipped key, session-state.ts v1), each sealed under the wrapping key with async
 * WebCrypto. The v3 upgrade renamed that store `legacySessions` and marked the vault; here, when
 * the vault opens, every legacy row is unsealed and decoded (async, before any transaction), its
 * sessions are sealed in the v3 layout (session-repo.ts), and ONE transaction writes them, deletes
 * the legacy rows and clears the mark. A crash midway leaves the mark and the legacy rows, so the
 * next open runs it again; a second tab finding the mark already cleared writes nothing.
 *
 * A legacy row that does not open or decode is left where it is and never read again: that
 * contact has no session afterwards (their next message starts over, retry.ts), which beats
 * refusing to open the whole vault for one damaged row. Knows nothing of the protocol.
 */
import { isCodedError } from '../../src/lib/codec/errors';
import { decodeSession, type SessionState } from '../../src/lib/crypto/session';
import { Meta, type Tx, type Vault } from './schema';
import { unseal } from './seal';
import { putSessions, sealSessions, type SessionWrite } from './session-repo';

export interface LegacySessions {
  writes: SessionWrite[];
  /** Legacy rows that did not open or decode (left in place). */
  unreadable: number;
}

/** Async half, before the transaction: reads, opens and re-seals every legacy session row. */
export async function prepareLegacySessions(vault: Vault): Promise<LegacySessions> {
  const out: LegacySessions = { writes: [], unreadable: 0 };
  for (const row of await vault.db.getAll('legacySessions')) {
    let states: SessionState[];
    try {
      states = [];
      for (const s of row.sealed) states.push(decodeSession(await unseal(vault.key, s)));
    } catch (e) {
      if (!isCodedError(e)) throw e;
      out.unreadable++;
      continue;
    }
    out.writes.push(await sealSessions(vault, row.username, states));
  }
  return out;
}

/** Sync half, the one transaction; returns how many contacts' sessions it converted. */
export async function applyLegacySessions(tx: Tx, prepared: LegacySessions): Promise<number> {
  const meta = tx.objectStore('meta');
  if ((await meta.get(Meta.migrateSessions)) !== true) return 0;
  for (const w of prepared.writes) {
    await putSessions(tx, w);
    await tx.objectStore('legacySessions').delete(w.username);
  }
  await meta.delete(Meta.migrateSessions);
  return prepared.writes.length;
}
