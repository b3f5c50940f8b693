/**
 * Delivery of one ciphertext (SECURITY.md P41): sealed when we can, else over the authenticated
 * connection. Sealed needs the recipient's delivery token (they gave us their profile key, so a
 * session with them exists), the identity the ciphertext was encrypted to, and our sender
 * certificate; a first message to a stranger has no token and goes unsealed, as the design says.
 * Receipts and call signals go sealed too, with the `implicit` hint; every sealed envelope of
 * short content is the same size (sealed-content.ts padding), so the host cannot tell a read
 * receipt from a text by size.
 *
 * A sealed send the host refuses for its token (the recipient rotated its profile key, e.g. after
 * blocking us) falls back to the authenticated send, as Signal's clients do: the recipient then
 * decides. Knows nothing of the outbox's bookkeeping.
 */
import { fail, isCodedError, isProtocolError } from '../../src/lib/codec/errors';
import { isEngineError } from './errors';
import { decodeIdentityPublic } from '../../src/lib/crypto/identity';
import { ContentHint, SealedContentType } from '../../src/lib/crypto/sealed-content';
import { sealSender } from '../../src/lib/crypto/sealed-sender';
import { getContact } from '../storage/contact-repo';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { theirDeliveryToken } from './sealed-access';
import { sealedCache, senderCertificate } from './sealed-state';
import type { Username } from '../../src/lib/codec/username';

export interface DeliverOptions {
  /** The encoded identity the ciphertext was encrypted to (the seal goes to the same key). */
  identity?: Uint8Array;
  /** Receipts and call signals: the recipient shows no error if it cannot read it. */
  implicit: boolean;
}

/** Sends `message` to `to`; resolves with how it went once the host stored it. */
export async function deliver(ctx: EngineContext, to: Username, message: Uint8Array, o: DeliverOptions): Promise<'sealed' | 'unsealed'> {
  const me = requireMe(ctx);
  // No linked devices: nothing is ever addressed to ourselves (Note to self stays local).
  if (to === me.username) fail('InvalidArgument', 'no envelope is addressed to our own username');
  let sealed: { body: Uint8Array; token: Uint8Array } | undefined;
  try {
    sealed = await sealFor(ctx, to, message, o);
  } catch (e) {
    // Host down: retry later. Any other trouble with certificates goes unsealed, never stuck.
    if (isEngineError(e, 'Unavailable') || !isCodedError(e)) throw e;
  }
  if (sealed) {
    try {
      await ctx.transport.sendSealed!(to, sealed.body, sealed.token);
      return 'sealed';
    } catch (e) {
      if (!isProtocolError(e, 'InvalidSignature')) throw e;
    }
  }
  await ctx.transport.send(hostAuth(me), to, message);
  return 'unsealed';
}

async function sealFor(ctx: EngineContext, to: Username, message: Uint8Array, o: DeliverOptions): Promise<{ body: Uint8Array; token: Uint8Array } | undefined> {
  if (!ctx.transport.sendSealed || !o.identity) return undefined;
  const contact = await getContact(ctx.vault, to);
  const token = theirDeliveryToken(contact);
  if (!token) return undefined;
  const certificate = await senderCertificate(ctx);
  if (!certificate) return undefined;
  const me = requireMe(ctx);
  const cache = await sealedCache(ctx);
  const body = sealSender(
    {
      ourIdentity: me.identity,
      senderCertificate: certificate,
      theirIdentity: decodeIdentityPublic(o.identity),
      contentType: SealedContentType.session,
      contentHint: o.implicit ? ContentHint.implicit : ContentHint.default,
      content: message,
      ...(cache ? { cache } : {})
    },
    ctx.deps
  );
  return { body, token };
}
