/**
 * The crypto half of receiving (DESIGN.md §5): envelope bytes + stored sessions -> plaintext and
 * the sessions to store. No writes happen here; inbox.ts commits the result in one transaction.
 *
 * A PreKeyMessage either repeats the handshake of a session we already have (Alice resends it
 * until Bob replies) or starts a new one, which goes to the front. A RatchetMessage is tried on
 * the current session, then the older ones; the one that works becomes current (P35).
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import type { ConsumedPreKeys } from '../../src/lib/crypto/pqxdh';
import {
  acceptSession,
  isPreKeyMessageForSession,
  peekMessageType,
  sessionDecrypt,
  type SessionState
} from '../../src/lib/crypto/session';
import { missingMessages } from '../../src/lib/crypto/ratchet/double-ratchet';
import { decodePreKeyMessage } from '../../src/lib/crypto/message';
import { preKeyLookup } from '../storage/prekey-repo';
import { loadSessions } from '../storage/session-repo';
import { requireMe, type EngineContext } from './context';
import type { Envelope } from './transport';

export interface Decrypted {
  /** Sessions with the sender to store, current first. */
  sessions: SessionState[];
  plaintext: Uint8Array;
  /** Set when a new session was accepted: prekeys to delete and the identity it presented. */
  accepted?: { consumed: ConsumedPreKeys; identity: Uint8Array };
  skipped: number;
  late: boolean;
}

function promote(sessions: SessionState[], index: number, next: SessionState): SessionState[] {
  return [next, ...sessions.filter((_, i) => i !== index)];
}

export async function decryptEnvelope(ctx: EngineContext, env: Envelope): Promise<Decrypted> {
  const me = requireMe(ctx);
  const sessions = await loadSessions(ctx.vault, env.sender);
  if (peekMessageType(env.body) === 'prekey') {
    const m = decodePreKeyMessage(env.body);
    // The host's claim and the authenticated sender must agree, or the host misrouted/relabelled it.
    if (m.senderUsername !== env.sender) fail('InvalidMessage', 'prekey message sender differs from the envelope sender');
    const i = sessions.findIndex((s) => isPreKeyMessageForSession(s, env.body));
    if (i >= 0) {
      const r = sessionDecrypt(sessions[i]!, env.body, ctx.deps);
      return { sessions: promote(sessions, i, r.state), plaintext: r.plaintext, skipped: r.skipped, late: r.late };
    }
    const prekeys = await preKeyLookup(ctx.vault, m);
    const r = acceptSession({ ourIdentity: me.identity, ourUsername: me.username, message: env.body, prekeys }, ctx.deps);
    return {
      sessions: [r.state, ...sessions],
      plaintext: r.plaintext,
      accepted: { consumed: r.consumed, identity: encodeIdentityPublic(r.theirIdentity) },
      // acceptSession does not report a gap; the keys it stored for skipped messages are one.
      skipped: missingMessages(r.state.ratchet).length,
      late: false
    };
  }
  if (sessions.length === 0) fail('NotInitialized', 'no session with the sender');
  let first: unknown;
  for (let i = 0; i < sessions.length; i++) {
    try {
      const r = sessionDecrypt(sessions[i]!, env.body, ctx.deps);
      return { sessions: promote(sessions, i, r.state), plaintext: r.plaintext, skipped: r.skipped, late: r.late };
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      first ??= e;
    }
  }
  throw first;
}
