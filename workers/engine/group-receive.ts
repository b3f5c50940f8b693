/**
 * The receive loop's group branch (inbox.ts `receiveEnvelopes`; README "Groups"; SECURITY.md P19,
 * P20, P41): a group message, by the authenticated fan-out or sealed (v2, v3), is checked against
 * the sealed certificate's member (group-sealed.ts), decrypted and stored, all in one transaction
 * (group-messages.ts), or recorded as a failure with its code; acked either way. Knows nothing of
 * 1:1 pages or sessions.
 */
import { isCodedError } from '../../src/lib/codec/errors';
import type { SenderCertificate } from '../../src/lib/crypto/certificates';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { isEngineError } from './errors';
import { receiveGroupEnvelope, type GroupReceiveOutcome } from './group-messages';
import { syncFromBlob } from './group-sync';
import { triggerSync } from './group-sync-gate';
import { ack, recordFailure, type ReceiveOutcome } from './receive-records';
import type { Envelope } from './transport';

/** A group message (group-messages.ts): stored, or recorded as a failure with its code; acked either way. */
export async function receiveGroup(ctx: EngineContext, env: Envelope, sealedFrom?: SenderCertificate): Promise<ReceiveOutcome> {
  let r: GroupReceiveOutcome;
  try {
    r = await receiveGroupEnvelope(ctx, env, sealedFrom);
  } catch (e) {
    if (!isCodedError(e) || isEngineError(e, 'StorageLost')) throw e;
    r = { stored: false, events: [], code: e.code };
  }
  // From someone we blocked: dropped as a 1:1 envelope from them is, nothing recorded.
  if (!r.stored && r.code !== 'DuplicateMessage' && r.code !== 'Blocked') {
    const failure = { sender: env.sender, serverId: env.serverId, code: r.code ?? 'Internal', at: ctx.deps.now() };
    await commit(ctx.vault, (tx) => recordFailure(tx, failure));
    r.events.push({ type: 'receive-error', username: env.sender, code: failure.code });
  }
  await ack(ctx, env);
  for (const e of r.events) ctx.events.emit(e);
  // A stored group message queued a delivery receipt to its sender (group-receipts.ts).
  if (r.stored) ctx.kickOutbox();
  // Behind a member's head, or a key we were never given: fetch the blob after this step (P19),
  // as often as the gate allows (group-sync-gate.ts: the host can forge the second).
  const sync = r.sync;
  if (sync) void triggerSync(ctx, sync, () => syncFromBlob(ctx, sync));
  return r.stored ? 'stored' : r.code === 'DuplicateMessage' ? 'duplicate' : r.code === 'Blocked' ? 'dropped' : 'failed';
}
