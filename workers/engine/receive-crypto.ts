/**
 * The crypto half of receiving (DESIGN.md §5): envelope bytes + stored sessions -> plaintext and
 * the sessions to store. No writes happen here; inbox.ts commits the result in one transaction.
 *
 * A PreKeyMessage either repeats the handshake of a session we already have (Alice resends it
 * until Bob replies) or starts a new one, which goes to the front — unless that handshake was
 * accepted before (replay-guard.ts: a replay never displaces a newer session, P13). A
 * RatchetMessage is tried on the current session, then the older ones; the one that works becomes
 * current (P35). Also reported: the message's ref and the messages it revealed as missing (P14).
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
import type { MessageRef } from '../../src/lib/wire/content';
import { engineFail } from './errors';
import { envelopeRef } from './refs';
import { wasAccepted } from './replay-guard';

export interface Decrypted {
  /** Sessions with the sender to store, current first. */
  sessions: SessionState[];
  plaintext: Uint8Array;
  /** Set when a new session was accepted: prekeys to delete, the identity it presented, its base key. */
  accepted?: { consumed: ConsumedPreKeys; identity: Uint8Array; baseKey: Uint8Array };
  /** This message's header (the sender's ratchet key and n). */
  ref: MessageRef;
  /** Messages this one revealed as missing (skipped keys now stored), oldest first (P14). */
  gaps: MessageRef[];
  /** True when this message filled an earlier gap. */
  late: boolean;
}

function promote(sessions: SessionState[], index: number, next: SessionState): SessionState[] {
  return [next, ...sessions.filter((_, i) => i !== index)];
}

/**
 * Skipped keys in `after` that `before` did not have: the gap this message revealed (`added` of
 * them, as the ratchet counted). The ratchet edits skipped keys copy-on-write per bucket, so only
 * buckets that are not the same object can hold new keys: on the per-message path this looks at
 * one bucket, not at every stored key.
 */
function newGaps(before: SessionState | undefined, after: SessionState, added: number): MessageRef[] {
  if (!before) return missingMessages(after.ratchet);
  if (added === 0) return [];
  const old = before.ratchet.skipped.buckets;
  const out: MessageRef[] = [];
  for (const [id, bucket] of after.ratchet.skipped.buckets) {
    const was = old.get(id);
    if (was === bucket) continue;
    for (const k of bucket.values()) if (!was?.has(k.n)) out.push({ ratchetKey: k.ratchetKey, n: k.n });
  }
  return out;
}

function sameStates(a: SessionState[], b: SessionState[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function headerRef(body: Uint8Array): MessageRef {
  const ref = envelopeRef(body);
  // Unreachable after a successful decrypt (the ratchet parsed the same header).
  if (!ref) return fail('Internal', 'a decrypted message has no readable header');
  return ref;
}

/**
 * Sessions come from this tab's cache (session-repo.ts: exact on the driver's per-message path),
 * or from `pending`: what earlier envelopes of the same page left (inbox.ts);
 * a protocol failure is believed only after a verified read of what is stored, and the envelope
 * is tried once more if that differs, so a cache that missed a change elsewhere can never turn
 * into a refused (and acked) message.
 */
export async function decryptEnvelope(ctx: EngineContext, env: Envelope, pending?: SessionState[]): Promise<Decrypted> {
  requireMe(ctx);
  // Within a page (inbox.ts), the sessions an earlier envelope left, not yet committed: they are
  // what this envelope follows, and nothing stored may stand in for them.
  if (pending) return decryptWith(ctx, env, pending);
  const cached = await loadSessions(ctx.vault, env.sender, { cached: true });
  try {
    return await decryptWith(ctx, env, cached);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    const stored = await loadSessions(ctx.vault, env.sender);
    if (sameStates(stored, cached)) throw e;
    return decryptWith(ctx, env, stored);
  }
}

async function decryptWith(ctx: EngineContext, env: Envelope, sessions: SessionState[]): Promise<Decrypted> {
  const me = requireMe(ctx);
  if (peekMessageType(env.body) === 'prekey') {
    const m = decodePreKeyMessage(env.body);
    // The host's claim and the authenticated sender must agree, or the host misrouted/relabelled it.
    if (m.senderUsername !== env.sender) fail('InvalidMessage', 'prekey message sender differs from the envelope sender');
    const i = sessions.findIndex((s) => isPreKeyMessageForSession(s, env.body));
    if (i >= 0) {
      const r = sessionDecrypt(sessions[i]!, env.body, ctx.deps);
      return { sessions: promote(sessions, i, r.state), plaintext: r.plaintext, ref: headerRef(env.body), gaps: newGaps(sessions[i], r.state, r.skipped), late: r.late };
    }
    if (await wasAccepted(ctx.vault, m.baseKey)) engineFail('ReplayedPreKeyMessage', 'this handshake was accepted before');
    const prekeys = await preKeyLookup(ctx.vault, m);
    const r = acceptSession({ ourIdentity: me.identity, ourUsername: me.username, message: env.body, prekeys }, ctx.deps);
    return {
      sessions: [r.state, ...sessions],
      plaintext: r.plaintext,
      accepted: { consumed: r.consumed, identity: encodeIdentityPublic(r.theirIdentity), baseKey: m.baseKey },
      ref: headerRef(env.body),
      // acceptSession does not report a gap; the keys it stored for skipped messages are one.
      gaps: newGaps(undefined, r.state, 0),
      late: false
    };
  }
  if (sessions.length === 0) fail('NotInitialized', 'no session with the sender');
  let first: unknown;
  for (let i = 0; i < sessions.length; i++) {
    try {
      const r = sessionDecrypt(sessions[i]!, env.body, ctx.deps);
      return { sessions: promote(sessions, i, r.state), plaintext: r.plaintext, ref: headerRef(env.body), gaps: newGaps(sessions[i], r.state, r.skipped), late: r.late };
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      first ??= e;
    }
  }
  throw first;
}
