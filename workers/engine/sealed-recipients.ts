/**
 * Who a sealed group upload goes to, and what each needs (SECURITY.md P41, P36; README "Groups",
 * "Delivery: sealed sender v2"): for every member, the identity on their contact record (the one
 * we would send 1:1 to) and the delivery token from the profile key they gave us.
 *
 * The contact rows are read afresh on every send, so a key change, a pending or changed identity
 * or a rotated profile key is seen at once. What is memoised (per engine context, in worker memory
 * only, bounded) is pure work on their exact bytes:
 * - the decoded identity whose IKd signature was checked (`decodeIdentityPublic`, one Ed25519
 *   verification, most of a 1000-member send's preparation), keyed by the exact encoding: a new
 *   key is a new encoding, so it is checked before anything is sealed to it;
 * - the delivery token HKDF(profile key, username), keyed by both.
 * Knows nothing of the upload's layout or of the host.
 */
import type { Username } from '../../src/lib/codec/username';
import { deliveryToken } from '../../src/lib/crypto/delivery-token';
import { decodeIdentityPublic, type IdentityPublic } from '../../src/lib/crypto/identity';
import type { V2Recipient } from '../../src/lib/crypto/sealed-sender-v2';
import { fromContactRow } from '../storage/contact-repo';
import type { ContactRecord, ContactRow } from '../storage/schema';
import type { EngineContext } from './context';
import { theirProfileKey } from './sealed-access';

/** Entries per memo: a few 1000-member groups. */
export const SEALED_RECIPIENT_MEMO_CAPACITY = 4096;

interface Memo {
  identities: Map<string, IdentityPublic>;
  tokens: Map<string, Uint8Array>;
}

const memos = new WeakMap<EngineContext, Memo>();

function memoOf(ctx: EngineContext): Memo {
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = { identities: new Map(), tokens: new Map() }));
  return m;
}

/** Wipes the remembered delivery tokens and drops the memo (memory-secrets.ts, P46). */
export function forgetSealedRecipients(ctx: EngineContext): void {
  const m = memos.get(ctx);
  if (!m) return;
  for (const t of m.tokens.values()) t.fill(0);
  memos.delete(ctx);
}

function binary(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

function remember<V>(m: Map<string, V>, k: string, v: V): V {
  m.set(k, v);
  if (m.size > SEALED_RECIPIENT_MEMO_CAPACITY) m.delete(m.keys().next().value as string);
  return v;
}

/** `decodeIdentityPublic` (signature checked) once per exact encoding; callers must not modify the result. */
export function verifiedIdentity(ctx: EngineContext, encoded: Uint8Array): IdentityPublic {
  const memo = memoOf(ctx).identities;
  const k = binary(encoded);
  return memo.get(k) ?? remember(memo, k, decodeIdentityPublic(encoded));
}

/** Their delivery token, if they gave us their profile key (as sealed-access.ts `theirDeliveryToken`). */
function tokenOf(ctx: EngineContext, contact: ContactRecord): Uint8Array | undefined {
  const key = theirProfileKey(contact);
  if (!key) return undefined;
  const memo = memoOf(ctx).tokens;
  const k = `${contact.username}\u0000${binary(key)}`;
  return memo.get(k) ?? remember(memo, k, deliveryToken(key, contact.username));
}

/** The reads of the contacts store used here (idb's store of a readonly transaction). */
interface ContactStore {
  get(username: string): Promise<ContactRow | undefined>;
  getAll(): Promise<ContactRow[]>;
  count(): Promise<number>;
}

/** From this many members on, and while they are at least half of all contacts, one read of every row. */
export const READ_ALL_FROM = 64;

/**
 * The contact rows of `to`, in order (undefined where there is none). For a large group one
 * `getAll` replaces a request per member: at 1,000 members on fake-indexeddb the sealed send's
 * recipients took 21-22 ms with a get each and 15 ms this way (tests/bench/group-recipients-probe.ts).
 * Only the members' rows are opened either way (the username is the row's clear key); with many
 * more contacts than members, reading them all would cost more, so it reads per member.
 */
async function contactRows(store: ContactStore, to: readonly Username[]): Promise<(ContactRow | undefined)[]> {
  if (to.length < READ_ALL_FROM || (await store.count()) > 2 * to.length) return Promise.all(to.map((u) => store.get(u)));
  const byName = new Map((await store.getAll()).map((row) => [row.username, row]));
  return to.map((u) => byName.get(u));
}

export interface SealedRecipients {
  recipients: V2Recipient[];
  tokens: Uint8Array[];
}

/**
 * The v2 recipients and their tokens for `to`, read in one transaction; undefined when any member
 * has no contact, no token, or a changed identity not yet accepted (the pairwise path decides
 * then: nothing is sealed to a stale or unaccepted key).
 */
export async function sealedRecipients(ctx: EngineContext, to: readonly Username[]): Promise<SealedRecipients | undefined> {
  const tx = ctx.vault.db.transaction('contacts', 'readonly');
  const rows = await contactRows(tx.store, to);
  await tx.done;
  const recipients: V2Recipient[] = [];
  const tokens: Uint8Array[] = [];
  for (const [i, row] of rows.entries()) {
    if (!row) return undefined;
    const contact = fromContactRow(ctx.vault.db, row);
    if (contact.identityChanged || contact.pendingIdentity) return undefined;
    const token = tokenOf(ctx, contact);
    if (!token) return undefined;
    recipients.push({ username: to[i]!, devices: [1], identity: verifiedIdentity(ctx, contact.identity) });
    tokens.push(token);
  }
  return { recipients, tokens };
}
