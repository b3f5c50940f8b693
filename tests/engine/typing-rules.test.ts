/**
 * Who a typing notice is shown from (workers/engine/typing.ts `typingShown`; README "Typing
 * indicators"): a contact only, never a message request or a blocked person (P42), never under a
 * changed key the user has not accepted (P3), never with the setting off, never when stale.
 */
import { describe, expect, test } from 'vitest';
import { MAX_TYPING_AGE_MS, typingShown } from '../../workers/engine/typing';
import type { ContactRecord } from '../../workers/storage/schema';
import type { Username } from '../../src/lib/codec/username';

const NOW = 1_800_000_000_000;
const contact: ContactRecord = { username: 'alice' as Username, identity: new Uint8Array(33), verified: false, blocked: false, identityChanged: false };
const on = { callsOnlyFromContacts: false, typingIndicators: true, readReceipts: true };
const fresh = { kind: 'typing' as const, typing: true, sentAt: NOW - 1000 };

describe('typing notices shown', () => {
  test('from a contact, fresh, setting on: shown', () => {
    expect(typingShown(contact, on, fresh, false, NOW)).toBe(true);
    expect(typingShown(contact, on, { ...fresh, sentAt: NOW - MAX_TYPING_AGE_MS }, false, NOW)).toBe(true);
  });

  test('P42 never from a message request, a blocked person or someone unknown', () => {
    expect(typingShown({ ...contact, request: true }, on, fresh, false, NOW)).toBe(false);
    expect(typingShown({ ...contact, blocked: true }, on, fresh, false, NOW)).toBe(false);
    expect(typingShown(undefined, on, fresh, false, NOW)).toBe(false);
  });

  test('P3 never under a changed key the user has not accepted; never with the setting off; never stale', () => {
    expect(typingShown(contact, on, fresh, true, NOW)).toBe(false);
    expect(typingShown(contact, { ...on, typingIndicators: false }, fresh, false, NOW)).toBe(false);
    expect(typingShown(contact, on, { ...fresh, sentAt: NOW - MAX_TYPING_AGE_MS - 1 }, false, NOW)).toBe(false);
  });
});
