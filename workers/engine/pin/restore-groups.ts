/**
 * Groups after a PIN restore (DESIGN.md §7; SECURITY.md P19, P21; README "Groups"): the account
 * record holds each group's id, master key and the head we trusted when it was written. The new
 * browser fetches the group's state blob from the host with the master key and keeps it only if
 * its history passes through that very head: stateHash chains every state to its parent, so the
 * path up to the trusted head is the one we had, and the changes after it are accepted by the
 * core's rules from that state, as any pairwise change would be. A blob the host withholds, or a
 * former member rewrote, or whose history moved past the trusted head by more than the blob keeps
 * (HISTORY_DEPTH), restores nothing for that group: it is counted as missing, never guessed.
 *
 * Messages are not in the record: the conversation starts with a notice that earlier messages
 * are not on this browser (as Signal says). Sender keys were lost with the old browser, so the
 * restore (the user's own action) sends each member, pairwise in the ratchet, our new sender key
 * with a key request; they answer with their key on their next group message (group-updates.ts),
 * from then on only (P21: nothing sent before the restore is readable again).
 *
 * A group request (P42, group-requests.ts) comes back as one, from the same adder: nothing about
 * us leaves for it but the key request (without which its new messages could not be read; it
 * says the account was restored, not what we read). Our sender key waits for our first message,
 * as on the browser that was welcomed, and our profile key for Accept.
 *
 * An invite link we made comes back with its secret only if the restored state still names that
 * link's public key: a link reset or turned off since the record was written stays gone.
 */
import type { GroupEntry } from '../../../src/lib/crypto/account-record';
import { address } from '../../../src/lib/crypto/group/address';
import { decodeGroupHistoryParts, historyFromParts } from '../../../src/lib/crypto/group/group-history-codec';
import { canonicalChanges } from '../../../src/lib/crypto/group/group-history';
import { MAX_KEY_EPOCHS } from '../../../src/lib/crypto/group/key-epochs';
import { handedKey } from '../../../src/lib/crypto/group/key-handoff';
import { findMember } from '../../../src/lib/crypto/group/group-state';
import { createSenderKey } from '../../../src/lib/crypto/group/sender-key';
import { encodeSenderKeyDistribution } from '../../../src/lib/crypto/group/sender-key-message';
import { inviteKeys, stateBlobKeys } from '../../../src/lib/crypto/group/group-secret';
import { openGroupBlob } from '../../../src/lib/crypto/group/state-blob';
import { bytesEqual, toHex } from '../../../src/lib/codec/bytes';
import { isCodedError } from '../../../src/lib/codec/errors';
import { putGroup, type GroupRecord } from '../../storage/group-repo';
import { commit } from '../../storage/vault';
import { requireMe, type EngineContext } from '../context';
import { groupRecipients } from '../group-recipients';
import { afterHistoryChange, putNotice } from '../group-apply';
import { queueUpdate } from '../group-update-queue';
import { giveSenderKey } from '../group-seal-keys';

export interface GroupRestore {
  restored: number;
  /** Groups whose state could not be fetched or did not reach the trusted head. */
  missing: number;
  /** Their entries, kept to try again (pending-groups.ts). */
  missingEntries: GroupEntry[];
}

/**
 * The history on the host, if it passes through the trusted head, and the master key it was read
 * with; undefined otherwise. A key handoff at the record's key's address (the group's key rotated
 * after the record was written, README "Groups": master key rotation) is followed, at most
 * MAX_KEY_EPOCHS times: its history must pass through the trusted head as well, it must be signed
 * by its change's rotator there, and hold an entry for us.
 */
async function fetchTrusted(ctx: EngineContext, entry: GroupEntry) {
  const me = requireMe(ctx);
  if (!ctx.transport.getGroupBlob) return undefined;
  let key = entry.masterKey;
  try {
    for (let hop = 0; hop <= MAX_KEY_EPOCHS; hop++) {
      const sealed = await ctx.transport.getGroupBlob(stateBlobKeys(key, entry.id).address);
      if (!sealed) return undefined;
      const opened = openGroupBlob(sealed, key, entry.id);
      const parts = 'state' in opened ? opened.state : decodeGroupHistoryParts(opened.handoff.history);
      // Orphans are not ours to trust; the path itself is checked against the head below.
      const history = historyFromParts({ anchor: parts.anchor, changes: parts.changes, orphans: [] });
      const trusted = history.nodes.get(toHex(entry.headHash));
      if (!trusted || trusted.version !== entry.headVersion || !bytesEqual(history.anchor.groupId, entry.id)) return undefined;
      if ('state' in opened) return { history, trusted, key };
      const next = handedKey(history, opened.handoff, { groupId: entry.id, us: address(me.username), identity: me.identity });
      if (!next) return undefined;
      key = next;
    }
    return undefined;
  } catch (e) {
    // Unreachable host, a blob that does not open or does not decode: this group stays missing.
    if (isCodedError(e)) return undefined;
    throw e;
  }
}

/** Whether the group's head still has the link this secret makes (P19: the state is the authority). */
function stillTheLink(g: GroupRecord, secret: Uint8Array): boolean {
  const invite = g.history.head.invite;
  return invite !== null && bytesEqual(invite.publicKey, inviteKeys(secret).signing.publicKey);
}

export async function restoreGroups(ctx: EngineContext, entries: readonly GroupEntry[]): Promise<GroupRestore> {
  const me = requireMe(ctx);
  const ours = address(me.username);
  let restored = 0;
  const missingEntries: GroupEntry[] = [];
  for (const entry of entries) {
    const found = await fetchTrusted(ctx, entry);
    if (!found) {
      missingEntries.push(entry);
      continue;
    }
    const { history, trusted } = found;
    const now = ctx.deps.now();
    const sender = createSenderKey({ groupId: entry.id, ourAddress: ours }, ctx.deps);
    const base: GroupRecord = {
      id: toHex(entry.id),
      history,
      masterKey: found.key.slice(),
      our: sender.state,
      distributedTo: [],
      theirs: [],
      lastAt: now,
      lastPreview: '',
      unread: 0,
      missing: 0,
      seenVersion: history.head.version,
      outgoing: [],
      ...(entry.requestFrom ? { requestFrom: entry.requestFrom } : {}),
      // The group's filing (README "Chat list"), as restore-contacts.ts brings back a chat's.
      ...(entry.pinned ? { pinned: true as const } : {}),
      ...(entry.muted ? { muted: true as const } : {}),
      ...(entry.archived ? { archived: true as const } : {})
    };
    await commit(ctx.vault, async (tx) => {
      await putNotice(ctx, tx, base, 'restored', '', now);
      // Changes made since the record was written get their notices; a removal meanwhile ends here.
      const since = canonicalChanges(history).filter((c) => c.baseVersion >= trusted.version);
      let g = await afterHistoryChange(ctx, tx, me, base, trusted, since);
      if (g.our && findMember(g.history.head, ours)) {
        // Not to members we blocked (group-recipients.ts), whose block came back with the PIN.
        const recipients = await groupRecipients(tx, g.history.head, me.username);
        if (g.requestFrom) {
          for (const r of recipients) await queueUpdate(tx, r, { groupId: entry.id, keyRequest: true });
        } else {
          // A fresh seal key each with it (group-seal-keys.ts, sealed sender v3).
          const sealKeys = await giveSenderKey(ctx, tx, entry.id, recipients, encodeSenderKeyDistribution(sender.distribution), { keyRequest: true });
          g = { ...g, our: sender.state, distributedTo: recipients, sealKeys };
        }
      }
      if (entry.inviteSecret && stillTheLink(g, entry.inviteSecret)) {
        // The link's blob token derives from the key it was made with (record.ts writes it when that
        // is not the key above; a handoff followed here means the record's own key was).
        const linkKey = entry.linkKey ?? (bytesEqual(found.key, entry.masterKey) ? undefined : entry.masterKey);
        g = { ...g, inviteSecret: entry.inviteSecret.slice(), ...(linkKey ? { linkKey: linkKey.slice() } : {}) };
      }
      await putGroup(tx, g);
    });
    restored++;
    ctx.events.emit({ type: 'group', id: base.id });
  }
  if (restored > 0) {
    ctx.events.emit({ type: 'chats' });
    ctx.kickOutbox();
  }
  return { restored, missing: missingEntries.length, missingEntries };
}
