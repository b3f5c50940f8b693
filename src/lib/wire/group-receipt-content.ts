/**
 * The group receipt body (content kind 0x15, wire/content.ts; README "Groups": receipts per
 * member). A member tells a group message's SENDER, pairwise inside the 1:1 ratchet (sealed as any
 * 1:1 receipt, P41), that it stored or read that sender's messages in one group:
 *
 *   groupId (32) || receipt type u8 (1 delivered, 2 read) || u16 count (1..MAX_RECEIPT_IDS) || count x id (16)
 *
 * The group id is part of the claim: the receiver resolves the ids only among its OWN messages in
 * that group and only for a current member who was sent them (workers/engine/group-receipts.ts),
 * so a receipt can never move a 1:1 message or another group's. Knows nothing of sessions or IO.
 */
import { fail } from '../codec/errors';
import { fromHex, toHex, type ByteReader, type ByteWriter } from '../codec/bytes';

export type GroupReceiptContent = { kind: 'groupReceipt'; groupId: string; receipt: 'delivered' | 'read'; ids: string[] };

const GROUP_ID_BYTES = 32;
const ID_BYTES = 16;
const DELIVERED = 1;
const READ = 2;

function hexOf(s: string, bytes: number, what: string): Uint8Array {
  if (s.length !== bytes * 2 || !/^[0-9a-f]+$/.test(s)) fail('InvalidArgument', `${what} of ${s.length} characters is not ${bytes * 2} hex digits`);
  return fromHex(s);
}

export function writeGroupReceipt(w: ByteWriter, c: GroupReceiptContent, maxIds: number): ByteWriter {
  if (c.ids.length < 1 || c.ids.length > maxIds) fail('InvalidArgument', `group receipt with ${c.ids.length} ids, expected 1..${maxIds}`);
  w.fixed(hexOf(c.groupId, GROUP_ID_BYTES, 'group id'), GROUP_ID_BYTES).u8(c.receipt === 'read' ? READ : DELIVERED).u16(c.ids.length);
  for (const id of c.ids) w.fixed(hexOf(id, ID_BYTES, 'message id'), ID_BYTES);
  return w;
}

export function readGroupReceipt(r: ByteReader, maxIds: number): GroupReceiptContent {
  const groupId = toHex(r.fixed(GROUP_ID_BYTES));
  const t = r.u8();
  if (t !== DELIVERED && t !== READ) fail('DecodeFailed', `group receipt type ${t}`);
  const count = r.u16();
  if (count < 1 || count > maxIds) fail('DecodeFailed', `group receipt with ${count} ids`);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(toHex(r.fixed(ID_BYTES)));
  r.end();
  return { kind: 'groupReceipt', groupId, receipt: t === READ ? 'read' : 'delivered', ids };
}
