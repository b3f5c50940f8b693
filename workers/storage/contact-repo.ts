/**
 * Contacts: the identity we trust for each username, the user's verification of it, the block
 * flag, and a pending identity seen but not yet accepted (DESIGN.md §4 "Safety numbers", P2/P3).
 * At rest (P32) the username and the identity PUBLIC keys stay clear; every other field — the
 * flags today, a display name or profile tomorrow — is sealed as one JSON value, so a field added
 * to ContactRecord is sealed without touching this file (it must be JSON-serialisable).
 *
 * Except the cached profile picture: it is sealed in a row of its own (`avatars`, keyed by the
 * username), so the paths that read every contact — a sealed group send reads all its members' —
 * do not read and open every picture (a 20 KB avatar per member made a 1,000-member send's reads
 * 112–144 ms instead of 17–21: tests/bench/group-recipients-probe.ts). A record read here has no
 * `profile.avatar` once schema 7's move has run (vault.ts); `withAvatar` adds it where a picture
 * is shown. `putContact` writes a record's avatar when it carries one and never deletes one;
 * `putAvatar` sets or removes it.
 */
import { openJson, openText, sealJson, sealText, type Conn } from './record-seal';
import type { ContactRecord, ContactRow, Tx, Vault } from './schema';
import type { Username } from '../../src/lib/codec/username';

const STORE = 'contacts';
type Private = Omit<ContactRecord, 'username' | 'identity' | 'pendingIdentity'>;

const AVATARS = 'avatars';

/** The contact's row: everything but the picture (which goes to `avatars`). */
export function toContactRow(c: Conn, contact: ContactRecord): ContactRow {
  const { username, identity, pendingIdentity, ...rest } = contact;
  if (rest.profile?.avatar !== undefined) {
    const { avatar: _avatar, ...profile } = rest.profile;
    rest.profile = profile;
  }
  const row: ContactRow = { username, identity, sealed: sealJson(c, STORE, username, rest satisfies Private) };
  if (pendingIdentity) row.pendingIdentity = pendingIdentity;
  return row;
}

export function fromContactRow(c: Conn, row: ContactRow): ContactRecord {
  const { sealed, ...clear } = row;
  return { ...openJson<Private>(c, STORE, row.username, sealed), ...clear };
}

export async function getContact(vault: Vault, username: Username): Promise<ContactRecord | undefined> {
  const row = await vault.db.get(STORE, username);
  return row && fromContactRow(vault.db, row);
}

/** Every contact's username (the store's keys; nothing is unsealed). */
export async function listContactNames(vault: Vault): Promise<string[]> {
  return (await vault.db.getAllKeys(STORE)).map(String);
}

export async function txGetContact(tx: Tx, username: Username): Promise<ContactRecord | undefined> {
  const row = await tx.objectStore(STORE).get(username);
  return row && fromContactRow(tx, row);
}

export async function putContact(tx: Tx, contact: ContactRecord): Promise<void> {
  await tx.objectStore(STORE).put(toContactRow(tx, contact));
  const avatar = contact.profile?.avatar;
  if (avatar !== undefined) await putAvatar(tx, contact.username, avatar);
}

/** Sets (base64url) or, with undefined, removes `username`'s cached picture. */
export async function putAvatar(tx: Tx, username: Username | string, avatar: string | undefined): Promise<void> {
  const store = tx.objectStore(AVATARS);
  if (avatar === undefined) await store.delete(username);
  else await store.put({ username, sealed: sealText(tx, AVATARS, username, avatar) });
}

/** `username`'s cached picture (base64url), if any. */
export async function getAvatar(vault: Vault, username: Username | string): Promise<string | undefined> {
  const row = await vault.db.get(AVATARS, username);
  return row && openText(vault.db, AVATARS, username, row.sealed);
}

export async function txGetAvatar(tx: Tx, username: Username | string): Promise<string | undefined> {
  const row = await tx.objectStore(AVATARS).get(username);
  return row && openText(tx, AVATARS, username, row.sealed);
}

/** `c` with its picture, for the views that show it (a row from before schema 7 may still carry it inline). */
export async function withAvatar(vault: Vault, c: ContactRecord): Promise<ContactRecord> {
  if (!c.profile || c.profile.avatar !== undefined) return c;
  const avatar = await getAvatar(vault, c.username);
  return avatar === undefined ? c : { ...c, profile: { ...c.profile, avatar } };
}

/**
 * Schema 7: moves every picture still inside a contact row (written before) to `avatars`, in one
 * transaction; answers how many moved. Nothing to move is a read of the contacts and no write.
 */
export async function moveInlineAvatars(tx: Tx): Promise<number> {
  let moved = 0;
  for (const row of await tx.objectStore(STORE).getAll()) {
    const c = fromContactRow(tx, row);
    if (c.profile?.avatar === undefined) continue;
    await putContact(tx, c);
    moved++;
  }
  return moved;
}

export function newContact(username: Username, identity: Uint8Array): ContactRecord {
  return { username, identity, verified: false, blocked: false, identityChanged: false };
}
