/**
 * Receiving a sealed envelope (SECURITY.md P41): open both layers (sealed-sender.ts), verify the
 * certificate against the pinned trust at the time the host accepted the envelope, then hand the
 * inner session message to inbox.ts as if from the certificate's username, which checks that the
 * certificate names the identity of the session that decrypts it.
 *
 * An envelope that does not open or whose certificate is forged, expired, revoked or for another
 * sealing key is refused: recorded as a failure (no sender: none is known), reported as a
 * `receive-error` event, acked so it never blocks the mailbox, and nothing else changes. A
 * certificate that verifies but does not match the session fails inside inbox.ts like any
 * message that cannot be read, and is marked in that conversation (P14).
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import { openSealedEnvelope } from '../../src/lib/crypto/sealed-envelope';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { ack, receiveEnvelope, recordFailure, type ReceiveOutcome } from './inbox';
import { pinnedTrust, sealedCache } from './sealed-state';
import type { Envelope, SealedEnvelope } from './transport';
import type { Username } from '../../src/lib/codec/username';

/** What a failure record names as sender when none could be learnt. */
const UNKNOWN_SENDER = '' as Username;

export async function receiveSealed(ctx: EngineContext, env: SealedEnvelope): Promise<ReceiveOutcome> {
  const me = requireMe(ctx);
  let inner: Envelope;
  let opened;
  try {
    const trust = await pinnedTrust(ctx);
    if (!trust) fail('UntrustedIdentity', 'no sealed-sender trust root is pinned');
    const cache = await sealedCache(ctx);
    opened = openSealedEnvelope(
      {
        message: env.body,
        ourIdentity: me.identity,
        ourAddress: { username: me.username, device: 1 },
        trust,
        receivedAt: env.receivedAt,
        ...(cache ? { cache } : {})
      },
      ctx.deps
    );
    if (opened.contentType !== SealedContentType.session) fail('InvalidMessage', `sealed content type ${opened.contentType} is not a session message`);
    inner = { serverId: env.serverId, sender: opened.sender.username, body: opened.content, receivedAt: env.receivedAt };
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    await refuse(ctx, env, e.code);
    return 'failed';
  }
  return receiveEnvelope(ctx, inner, opened.sender);
}

async function refuse(ctx: EngineContext, env: SealedEnvelope, code: string): Promise<void> {
  await commit(ctx.vault, (tx) => recordFailure(tx, { sender: UNKNOWN_SENDER, serverId: env.serverId, code, at: ctx.deps.now() }));
  await ack(ctx, env);
  ctx.events.emit({ type: 'receive-error', username: UNKNOWN_SENDER, code });
}
