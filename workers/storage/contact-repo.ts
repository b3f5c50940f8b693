/**
 * Contacts: the identity we trust for each username, the user's verification of it, the block
 * flag, and a pending identity seen but not yet accepted (DESIGN.md §4 "Safety numbers", P2/P3).
 * Plain data: identities are public keys.
 */
import type { ContactRecord, Tx } from './schema';
import type { Vault } from './vault';

export function getContact(vault: Vault, username: string): Promise<ContactRecord | undefined> {
  return vault.db.get('contacts', username);
}

export function txGetContact(tx: Tx, username: string): Promise<ContactRecord | undefined> {
  return tx.objectStore('contacts').get(username);
}

export async function putContact(tx: Tx, contact: ContactRecord): Promise<void> {
  await tx.objectStore('contacts').put(contact);
}

export function newContact(username: string, identity: Uint8Array): ContactRecord {
  return { username, identity, verified: false, blocked: false, identityChanged: false };
}
