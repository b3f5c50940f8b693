/**
 * A group message deleted for everyone before its upload left (README "Groups": message actions;
 * P47, P21). Its sender-key encryption waits in the group's `outgoing` queue while the host is out
 * of reach; the delete takes it out, so its text never leaves. Its iteration was spent, though,
 * and a member's chain would show the jump as a missing message, the signal that the host
 * withheld one (P21). So the delete names the withdrawn iteration under our signing key, as a 1:1
 * delete names its withdrawn ratchet header (inbox.ts): a member who decrypts the delete and finds
 * that very iteration among the ones this decryption jumped over counts it as withdrawn, not
 * missing, and forgets the key it kept for it (sender-key.ts `forgetSkipped`), so that upload
 * can no longer arrive late and take back a count made for another jump. The reference sits
 * inside the signed, encrypted delete, so a host can neither forge it nor point it at a message
 * it withholds; a member's delete can only account for a jump in its own chain. A jump already counted by an earlier message stays counted (honest: it was
 * shown), and a delete sent after a rotation names a chain the member no longer reads: ignored.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';
import { peekGroupMessage } from '../../src/lib/crypto/group/sender-key-message';
import type { TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import type { MessageRef } from '../../src/lib/wire/content';
import type { GroupRecord } from '../storage/group-repo';

/** `g` without the queued upload of message `key`, and that upload's reference (undefined when nothing was queued). */
export function withdrawQueued(g: GroupRecord, key: string): { group: GroupRecord; withdrawn?: MessageRef } {
  const queued = g.outgoing.find((o) => o.messageKey === key);
  if (!queued) return { group: g };
  const group = { ...g, outgoing: g.outgoing.filter((o) => o !== queued) };
  const header = peekGroupMessage(queued.body);
  // Under a key since rotated (a member left), no member reads the delete's chain as that one.
  if (!g.our || !bytesEqual(header.distributionId, g.our.distributionId)) return { group };
  return { group, withdrawn: { ratchetKey: g.our.signing.publicKey, n: header.iteration } };
}

/**
 * True when `withdrawn` names an iteration that this decryption of `their` chain jumped over
 * (from `their.iteration` up to the delete's own `iteration`): that jump is a withdrawn message.
 */
export function jumpedWithdrawn(their: TheirSenderKey, iteration: number, withdrawn: MessageRef | undefined): boolean {
  if (!withdrawn || !bytesEqual(withdrawn.ratchetKey, their.signingKey)) return false;
  return withdrawn.n >= their.iteration && withdrawn.n < iteration;
}
