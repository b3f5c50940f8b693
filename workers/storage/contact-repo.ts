/**
 * Contacts: the identity we trust for each username, the user's verification of it, the block
 * flag, and a pending identity seen but not yet accepted (DESIGN.md §4 "Safety numbers", P2/P3).
 * At rest (P32) the username and the identity PUBLIC keys stay clear; every other field — the
 * flags today, a display name or profile tomorrow — is sealed as one JSON value, so a field added
 * to ContactRecord is sealed without touching this file (it must be JSON-serialisable).
 */
import { openJson, sealJson, type Conn } from './record-seal';
import type { ContactRecord, ContactRow, Tx, Vault } from './schema';
import type { Username } from '../../src/lib/codec/username';

const STORE = 'contacts';
type Private = Omit<ContactRecord, 'username' | 'identity' | 'pendingIdentity'>;

export function toContactRow(c: Conn, contact: ContactRecord): ContactRow {
  const { username, identity, pendingIdentity, ...rest } = contact;
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
}

export function newContact(username: Username, identity: Uint8Array): ContactRecord {
  return { username, identity, verified: false, blocked: false, identityChanged: false };
}
