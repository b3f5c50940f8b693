/**
 * Identity trust for contacts (DESIGN.md §4 "Safety numbers"; SECURITY.md P2, P3): decides what a
 * newly seen identity (from a fetched bundle or an incoming prekey message) does to a contact.
 *
 *   unknown contact        -> trusted on first use
 *   same key bytes         -> nothing
 *   differs, unverified    -> replaced, flagged "safety number changed", sending continues
 *   differs, verified      -> kept as PENDING, flagged; sending is blocked (UntrustedIdentity)
 *                             until the user re-verifies or accepts the change
 *
 * Pure: contact in, contact out. Compares encoded key bytes, never ids.
 */
import { fail } from '../../src/lib/codec/errors';
import { bytesEqual } from '../../src/lib/codec/bytes';
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
}

export function observeIdentity(existing: ContactRecord | undefined, username: Username, identity: Uint8Array): TrustDecision {
  if (!existing) return { contact: newContact(username, identity), changed: true, identityChanged: false };
  if (bytesEqual(existing.identity, identity)) {
    return { contact: existing, changed: false, identityChanged: false };
  }
  if (existing.pendingIdentity && bytesEqual(existing.pendingIdentity, identity)) {
    return { contact: existing, changed: false, identityChanged: false };
  }
  if (existing.verified) {
    return { contact: { ...existing, pendingIdentity: identity, identityChanged: true }, changed: true, identityChanged: true };
  }
  const contact: ContactRecord = { ...existing, identity, identityChanged: true };
  delete contact.pendingIdentity;
  return { contact, changed: true, identityChanged: true };
}

/** Throws UntrustedIdentity if nothing may be encrypted for this contact right now. */
export function assertCanSend(contact: ContactRecord | undefined): void {
  if (contact?.blocked) engineFail('Blocked', 'contact is blocked; unblock to send');
  if (contact?.verified && contact.pendingIdentity) {
    fail('UntrustedIdentity', 'the verified contact presented a new identity key; re-verify or accept it');
  }
}

/** The identity the user is being asked about: the pending one if any, else the trusted one. */
export function displayedIdentity(contact: ContactRecord): Uint8Array {
  return contact.pendingIdentity ?? contact.identity;
}
