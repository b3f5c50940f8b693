/**
 * Identity trust for contacts (DESIGN.md §4 "Safety numbers"; SECURITY.md P2, P3, P36): decides
 * what a newly seen identity (from a fetched bundle or an incoming prekey message) does to a
 * contact.
 *
 *   unknown contact        -> trusted on first use
 *   same key bytes         -> nothing
 *   the rejected key       -> nothing changes; the caller refuses it (nothing sent, nothing shown)
 *   differs, unverified    -> replaced (the old one kept for "reject"), flagged "safety number
 *                             changed", sending continues for what is written from now on
 *   differs, verified      -> kept as PENDING, flagged; sending is blocked (UntrustedIdentity)
 *                             until the user re-verifies, accepts or rejects the change
 *
 * Pure: contact in, contact out. Compares encoded key bytes, never ids.
 */
import { fail } from '../../src/lib/codec/errors';
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';
import { newContact } from '../storage/contact-repo';
import type { ContactRecord } from '../storage/schema';
import { engineFail } from './errors';
import type { Username } from '../../src/lib/codec/username';

export interface TrustDecision {
  contact: ContactRecord;
  /** The contact record changed and must be written. */
  changed: boolean;
  /** A visible key change happened (a notice goes into the chat). */
  identityChanged: boolean;
  /** The identity is one the user rejected for this contact. */
  rejected: boolean;
}

export function isRejected(contact: ContactRecord | undefined, identity: Uint8Array): boolean {
  return contact?.rejectedIdentity !== undefined && contact.rejectedIdentity === toHex(identity);
}

export function observeIdentity(existing: ContactRecord | undefined, username: Username, identity: Uint8Array): TrustDecision {
  const same = { changed: false, identityChanged: false, rejected: false };
  if (!existing) return { contact: newContact(username, identity), changed: true, identityChanged: false, rejected: false };
  if (bytesEqual(existing.identity, identity)) return { contact: existing, ...same };
  if (existing.pendingIdentity && bytesEqual(existing.pendingIdentity, identity)) return { contact: existing, ...same };
  if (isRejected(existing, identity)) return { contact: existing, ...same, rejected: true };
  if (existing.verified) {
    return { contact: { ...existing, pendingIdentity: identity, identityChanged: true }, changed: true, identityChanged: true, rejected: false };
  }
  const contact: ContactRecord = { ...existing, identity, identityChanged: true, previousIdentity: toHex(existing.identity) };
  delete contact.pendingIdentity;
  return { contact, changed: true, identityChanged: true, rejected: false };
}

/** Throws UntrustedIdentity if nothing may be encrypted for this contact right now. */
export function assertCanSend(contact: ContactRecord | undefined): void {
  if (contact?.blocked) engineFail('Blocked', 'contact is blocked; unblock to send');
  if (contact?.verified && contact.pendingIdentity) {
    fail('UntrustedIdentity', 'the verified contact presented a new identity key; re-verify, accept or reject it');
  }
}

/** The identity the user is being asked about: the pending one if any, else the trusted one. */
export function displayedIdentity(contact: ContactRecord): Uint8Array {
  return contact.pendingIdentity ?? contact.identity;
}

/**
 * True when a message decrypted under `identity` came under a changed key the user has not
 * accepted, verified or rejected yet (P3, P36): such messages are flagged and may not sort above
 * the history already shown.
 */
export function underChangedKey(contact: ContactRecord | undefined, identity: Uint8Array): boolean {
  if (!contact) return false;
  if (contact.pendingIdentity) return bytesEqual(contact.pendingIdentity, identity);
  return contact.identityChanged && bytesEqual(contact.identity, identity);
}
