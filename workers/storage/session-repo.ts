/**
 * Sessions at rest, one record per contact: the current session first, then up to
 * MAX_OLD_SESSIONS older ones. Old sessions are kept because when both sides start a session at
 * once each ends up answering the other's handshake; trying the old ones on receive lets the pair
 * converge (Signal keeps "previous session states" for the same reason, P35).
 */
import { decodeSession, encodeSession, type SessionState } from '../../src/lib/crypto/session';
import type { SessionRecord, Tx, Vault } from './schema';
import { seal, unseal } from './seal';
import type { Username } from '../../src/lib/codec/username';

export const MAX_OLD_SESSIONS = 3;

export async function loadSessions(vault: Vault, username: Username): Promise<SessionState[]> {
  const rec = await vault.db.get('sessions', username);
  if (!rec) return [];
  const out: SessionState[] = [];
  for (const s of rec.sealed) out.push(decodeSession(await unseal(vault.key, s)));
  return out;
}

/** Seals `states` (current first), trimming to the cap; async, before the transaction. */
export async function sealSessions(vault: Vault, username: Username, states: SessionState[]): Promise<SessionRecord> {
  const kept = states.slice(0, 1 + MAX_OLD_SESSIONS);
  const sealed = [];
  for (const s of kept) sealed.push(await seal(vault.key, encodeSession(s)));
  return { username, sealed };
}

export async function putSessions(tx: Tx, record: SessionRecord): Promise<void> {
  if (record.sealed.length === 0) await tx.objectStore('sessions').delete(record.username);
  else await tx.objectStore('sessions').put(record);
}
