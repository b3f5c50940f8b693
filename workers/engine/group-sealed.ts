/**
 * Group messages under sealed sender v2 (SECURITY.md P41, P20; crypto/sealed-sender-v2.ts; host
 * side src/host/sealed-multi.ts; README "Groups"):
 *
 * - Send (`deliverGroupUpload`): when we hold a delivery token for EVERY recipient (each gave us
 *   its profile key: group members share it with each other, group-profile-key.ts) and a valid
 *   sender certificate, the group message goes as ONE multi-recipient sealed upload with no
 *   authentication, sealed to each member's identity on record; the host stores it with no
 *   sender. Otherwise, or if the host refuses a token (someone rotated their key), it goes as
 *   the authenticated fan-out, which names us (README "Groups" says so). Either way the same
 *   sender-key message, so a retry or a fallback is a duplicate the receiver's chain refuses.
 * - Receive (`checkSealedGroupSender`): the certificate of an opened v2 envelope must name a
 *   member of the group whose sender key the message uses, with the identity the group state
 *   holds for that member; else the envelope is refused (UntrustedIdentity / NotMember). The
 *   sender-key signature then decides as for any group message (group-messages.ts).
 *
 * Knows nothing of the outbox's bookkeeping, of the group record's other fields or of the UI.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';
import { fail, isCodedError, isProtocolError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import type { SenderCertificate } from '../../src/lib/crypto/certificates';
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { ContentHint, SealedContentType } from '../../src/lib/crypto/sealed-content';
import { sealSenderMulti } from '../../src/lib/crypto/sealed-sender-v2';
import { KeyedPlanCache } from '../../src/lib/crypto/sealed-sender-v3-plan';
import { encodeSealedMultiUpload, sealedMultiUploadInPlace, tokensLength } from '../../src/lib/wire/sealed-multi-api';
import type { GroupRecord } from '../storage/group-repo';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { isEngineError } from './errors';
import { sealedRecipients } from './sealed-recipients';
import { sealedCache, senderCertificate } from './sealed-state';

/** v3's seal keys for one group's upload: one per recipient, in order (group-seal-keys.ts). */
export interface V3Keys {
  group: string;
  sealKeys: readonly Uint8Array[];
}

/**
 * Each group's v3 send plan (sealed-sender-v3-plan.ts), per engine context in worker memory: a
 * group's next send to the same members reuses its template and identity keys. The plans hold no
 * secret between sends; memory-secrets.ts drops them with the rest.
 */
const plans = new WeakMap<EngineContext, KeyedPlanCache>();

export function forgetPlans(ctx: EngineContext): void {
  plans.get(ctx)?.clear();
  plans.delete(ctx);
}

/**
 * The multi-recipient sealed upload for `to`, or undefined when some recipient's token is missing:
 * v3 when `v3` (the group's seal keys) is given, else v2.
 */
async function sealForMembers(ctx: EngineContext, to: readonly Username[], body: Uint8Array, v3?: V3Keys): Promise<Uint8Array | undefined> {
  if (!ctx.transport.sendSealedMulti || to.length === 0) return undefined;
  // Contacts read afresh; identities and tokens memoised by exact bytes (sealed-recipients.ts).
  const members = await sealedRecipients(ctx, to);
  if (!members) return undefined;
  const { recipients, tokens } = members;
  const certificate = await senderCertificate(ctx);
  if (!certificate) return undefined;
  const me = requireMe(ctx);
  if (v3) {
    let cache = plans.get(ctx);
    if (!cache) plans.set(ctx, (cache = new KeyedPlanCache()));
    const input = { ourIdentity: me.identity, senderCertificate: certificate, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, content: body, headroom: tokensLength(tokens) };
    return sealedMultiUploadInPlace(tokens, cache.seal(v3.group, input, recipients, v3.sealKeys, ctx.deps));
  }
  const cache = await sealedCache(ctx);
  const sent = sealSenderMulti(
    { ourIdentity: me.identity, senderCertificate: certificate, recipients, contentType: SealedContentType.senderKey, contentHint: ContentHint.default, content: body, ...(cache ? { cache } : {}) },
    ctx.deps
  );
  return encodeSealedMultiUpload({ tokens, sent });
}

/**
 * Uploads one group message to `to`: sealed when every token is at hand (v3 with the group's seal
 * keys, one per recipient in order, else v2), else the authenticated fan-out.
 */
export async function deliverGroupUpload(ctx: EngineContext, to: readonly Username[], body: Uint8Array, v3?: V3Keys): Promise<'sealed' | 'unsealed'> {
  const me = requireMe(ctx);
  let upload: Uint8Array | undefined;
  try {
    upload = await sealForMembers(ctx, to, body, v3);
  } catch (e) {
    // Host down: retry later. Any other trouble with certificates goes unsealed, never stuck.
    if (isEngineError(e, 'Unavailable') || !isCodedError(e)) throw e;
  }
  if (upload) {
    try {
      await ctx.transport.sendSealedMulti!(upload);
      return 'sealed';
    } catch (e) {
      // A token the host refused (a member rotated its profile key): nothing was stored.
      if (!isProtocolError(e, 'InvalidSignature')) throw e;
    }
  }
  await ctx.transport.groupSend!(hostAuth(me), to, body);
  return 'unsealed';
}

/**
 * A sealed group envelope's certificate against the group state the receiving transaction read
 * (group-messages.ts): `g` is the group holding the sender key the message names, if any, found
 * there once for both. The member the certificate names must hold the certified identity. Throws
 * a ProtocolError (the caller records and acks); no such group, with the sender a member of one of
 * ours, leaves the decision to group-messages.ts (NoSenderKey, then a sync).
 */
export function checkSealedGroupSender(g: GroupRecord | undefined, groups: readonly GroupRecord[], sender: string, from: SenderCertificate): void {
  if (!g) {
    if (!groups.some((x) => x.our && findMember(x.history.head, address(sender)))) fail('UntrustedIdentity', 'sealed group sender is in none of our groups');
    return;
  }
  const member = findMember(g.history.head, address(sender));
  if (!member) fail('UntrustedIdentity', 'sealed group sender is not a member of the group');
  if (!bytesEqual(encodeIdentityPublic(member.identity), encodeIdentityPublic(from.identity))) {
    fail('UntrustedIdentity', 'sealed group certificate names another identity than the member');
  }
}
