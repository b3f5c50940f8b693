/**
 * Group requests' state (SECURITY.md P42; README "Groups": group requests; the actions are
 * group-requests.ts): whether a group we are welcomed to is a request (who added us, and whether
 * we accepted them, requests.ts `isAcceptedContact`), and accepting inside a transaction (Accept,
 * or our own message in it): the flag goes and what arrived meanwhile is acknowledged, per
 * sender, delivered or read, as 1:1's acceptInTx. Knows nothing of sending or the UI.
 */
import type { GroupHistory } from '../../src/lib/crypto/group/group-history';
import { canonicalChanges } from '../../src/lib/crypto/group/group-history';
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { txGetContact } from '../storage/contact-repo';
import { fromGroupMessageRow, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { EngineContext } from './context';
import { queueGroupReceipt } from './group-receipts';
import { txPrivacySettings } from './privacy-settings';
import { isAcceptedContact } from './requests';

/**
 * Who added us, by the welcome's history: the author of the newest change that added us, or
 * undefined if the newest way in was our own (a join by link, an approved request to join).
 * A history cut short before our addition (a long one) names the welcome's sender.
 */
export function adderOf(history: GroupHistory, me: Username, welcomer: Username): Username | undefined {
  let adder: Username | undefined = welcomer;
  for (const c of canonicalChanges(history)) {
    for (const a of c.actions) {
      if (a.type === 'addMember' && a.address.username === me) adder = c.author.username;
      else if ((a.type === 'joinByLink' && c.author.username === me) || (a.type === 'approveJoin' && a.address.username === me)) adder = undefined;
    }
  }
  return adder;
}

/** For a group we are welcomed to: the adder if it is a request (they are not accepted), else undefined. */
export async function requestFrom(tx: Tx, history: GroupHistory, me: Username, welcomer: Username): Promise<Username | undefined> {
  const adder = adderOf(history, me, welcomer);
  if (!adder || adder === me) return undefined;
  return isAcceptedContact(await txGetContact(tx, adder)) ? undefined : adder;
}

/**
 * Clears the request flag inside `tx` (Accept, or our own message, which accepts too): what
 * arrived meanwhile is acknowledged now, per sender. Answers the record to store.
 */
export async function acceptGroupInTx(ctx: EngineContext, tx: Tx, g: GroupRecord): Promise<GroupRecord> {
  if (!g.requestFrom) return g;
  const { requestFrom: _accepted, ...next } = g;
  if (!ctx.me || !findMember(g.history.head, address(ctx.me.username))) return next;
  const range = IDBKeyRange.bound([g.id, 0], [g.id, Number.MAX_SAFE_INTEGER]);
  const rows = (await tx.objectStore('groupMessages').index('byGroup').getAll(range)).map((r) => fromGroupMessageRow(tx, r));
  const readReceipts = (await txPrivacySettings(tx)).readReceipts;
  const bySender = new Map<Username, { delivered: string[]; read: string[] }>();
  for (const m of rows) {
    if (m.direction !== 'in') continue;
    const s = bySender.get(m.sender as Username) ?? { delivered: [], read: [] };
    (m.read && readReceipts ? s.read : s.delivered).push(m.id);
    bySender.set(m.sender as Username, s);
  }
  for (const [sender, s] of bySender) {
    if (!findMember(g.history.head, address(sender))) continue;
    await queueGroupReceipt(tx, sender, g.id, 'delivered', s.delivered);
    await queueGroupReceipt(tx, sender, g.id, 'read', s.read);
  }
  return next;
}
