/**
 * The closed-link notice (state-blob.ts, kind 3; README "Groups": invite links; SECURITY.md P19):
 * what an old link finds after a reset. It opens only with that link's secret, says reset or off,
 * is the same size as any small blob, and cannot be passed off as (or confused with) the group.
 */
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { isProtocolError } from '../../../src/lib/codec/errors';
import { isGroupError } from '../../../src/lib/crypto/group/errors';
import { generateInviteSecret, inviteKeys } from '../../../src/lib/crypto/group/group-secret';
import { InviteClosed, MIN_BLOB_BUCKET, openBlob, openInviteBlob, sealInviteClosed, sealedBlobLength, BlobKind } from '../../../src/lib/crypto/group/state-blob';

const deps = seededDeps('invite-closed');
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('closed invite link notice', () => {
  test('P19 a reset link reads InviteLinkReset (reset or off), only with its own secret, padded like any blob', () => {
    const secret = generateInviteSecret(deps);
    const reset = sealInviteClosed(secret, InviteClosed.reset, deps);
    expect(reset.address).toEqual(inviteKeys(secret).address);
    expect(reset.sealed.length).toBe(sealedBlobLength(MIN_BLOB_BUCKET - 1));
    const e = thrown(() => openInviteBlob(reset.sealed, secret));
    expect(isGroupError(e, 'InviteLinkReset')).toBe(true);
    expect((e as Error).message).toMatch(/reset/);
    expect((thrown(() => openInviteBlob(sealInviteClosed(secret, InviteClosed.off, deps).sealed, secret)) as Error).message).toMatch(/turned off/);
    // Another secret (a guess, or the host's own bytes) opens nothing: a decryption failure, not "reset".
    expect(isProtocolError(thrown(() => openInviteBlob(reset.sealed, generateInviteSecret(deps))))).toBe(true);
    const forged = reset.sealed.slice();
    forged[40] = (forged[40] ?? 0) ^ 1;
    expect(isProtocolError(thrown(() => openInviteBlob(forged, secret)))).toBe(true);
    // The kind is bound in the AD: the notice never opens as a group.
    expect(isProtocolError(thrown(() => openBlob({ keys: inviteKeys(secret), kind: BlobKind.invite, sealed: reset.sealed })))).toBe(true);
  });
});
