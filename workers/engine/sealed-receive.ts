/**
 * Opening a sealed envelope (SECURITY.md P41) for the receive loop (inbox.ts `receiveEnvelopes`,
 * which handles it in the same pages, transactions and commit-then-ack order as any other):
 * open both layers (sealed-sender.ts) and verify the certificate against the pinned trust at the
 * time the host accepted the envelope. What it answers is the inner session message as if from
 * the certificate's username, with that certificate, which inbox.ts checks names the identity of
 * the session that decrypts it; a group message (sealed sender v2 or v3, sender-key content) is
 * marked `group`, and its certificate is checked against the group's member (group-sealed.ts). A
 * v3 envelope is opened with the seal keys our groups' members gave us (group-seal-keys.ts).
 *
 * An envelope that does not open or whose certificate is forged, expired, revoked or for another
 * sealing key is answered as refused, with its code: inbox.ts records it as a failure (no sender:
 * none is known), reports a `receive-error` event and acks it, so it never blocks the mailbox;
 * nothing else changes. Writes nothing itself. Knows nothing of pages or acks.
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import type { SenderCertificate } from '../../src/lib/crypto/certificates';
import { openSealedEnvelope } from '../../src/lib/crypto/sealed-envelope';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { GROUP_MESSAGE_TYPE } from '../../src/lib/crypto/group/sender-key-message';
import { SEALED_SENDER_V3_VERSION } from '../../src/lib/crypto/sealed-sender-v2';
import { txListGroups } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { sealKeyCandidates } from './group-seal-keys';
import { requireMe, type EngineContext } from './context';
import { pinnedTrust, sealedCache } from './sealed-state';
import type { Envelope, SealedEnvelope } from './transport';

/** What a failure record names as sender when none could be learnt. */
export const UNKNOWN_SENDER = '' as Username;

export type OpenedSealed = { inner: Envelope; from: SenderCertificate; group?: true } | { refused: string };

/** An envelope as received and, for a sealed one, what opening it gave (inbox.ts pages these). */
export interface Incoming {
  received: Envelope | SealedEnvelope;
  /** The 1:1 envelope: the received one, or a sealed one's inner message from its certificate's username. */
  env: Envelope;
  /** A sealed envelope's verified certificate. */
  from?: SenderCertificate;
  /** A sealed envelope that did not open: its code (its `env` then names UNKNOWN_SENDER). */
  refused?: string;
  /** A sealed envelope carrying a group (sender-key) message, sealed sender v2 (group-sealed.ts). */
  group?: true;
}

/** A sealed v3 envelope: it opens only with the seal keys stored when it is opened. */
export function opensWithSealKeys(received: Envelope | SealedEnvelope): boolean {
  return 'sealed' in received && received.body[0] === SEALED_SENDER_V3_VERSION;
}

/** A plain envelope as it is; a sealed one opened (writes nothing). */
export async function unseal(ctx: EngineContext, received: Envelope | SealedEnvelope): Promise<Incoming> {
  if (!('sealed' in received)) return { received, env: received };
  const opened = await openSealed(ctx, received);
  if ('inner' in opened) return { received, env: opened.inner, from: opened.from, ...(opened.group ? { group: opened.group } : {}) };
  const { serverId, body, receivedAt } = received;
  return { received, env: { serverId, sender: UNKNOWN_SENDER, body, receivedAt }, refused: opened.refused };
}

/** Opens `env`; a protocol error is a refusal, anything else (our storage, the host) propagates. */
export async function openSealed(ctx: EngineContext, env: SealedEnvelope): Promise<OpenedSealed> {
  const me = requireMe(ctx);
  try {
    const trust = await pinnedTrust(ctx);
    if (!trust) fail('UntrustedIdentity', 'no sealed-sender trust root is pinned');
    const cache = await sealedCache(ctx);
    // v3 names no sender: every seal key our groups' members gave us is tried (group-seal-keys.ts).
    const candidates = opensWithSealKeys(env) ? sealKeyCandidates(await commit(ctx.vault, (tx) => txListGroups(tx))) : undefined;
    const opened = openSealedEnvelope(
      {
        message: env.body,
        ourIdentity: me.identity,
        ourAddress: { username: me.username, device: 1 },
        trust,
        receivedAt: env.receivedAt,
        ...(cache ? { cache } : {}),
        ...(candidates ? { candidates } : {})
      },
      ctx.deps
    );
    // v3 is for group (sender-key) messages only: a seal key is given with a sender key.
    if (candidates && opened.contentType !== SealedContentType.senderKey) fail('InvalidMessage', 'sealed v3 carries no group message');
    // P20: a sender-key (group) message travels only as sender-key content, a 1:1 one only as session content.
    const group = opened.contentType === SealedContentType.senderKey;
    if (!group && opened.contentType !== SealedContentType.session) fail('InvalidMessage', `sealed content type ${opened.contentType} is unknown`);
    if (group !== (opened.content[0] === GROUP_MESSAGE_TYPE)) fail('InvalidMessage', 'sealed content type does not match the message inside');
    const inner = { serverId: env.serverId, sender: opened.sender.username, body: opened.content, receivedAt: env.receivedAt };
    return group ? { inner, from: opened.sender, group } : { inner, from: opened.sender };
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return { refused: e.code };
  }
}
