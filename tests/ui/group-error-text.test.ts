/**
 * Group refusals reach the user as sentences (README "Groups", P19): every group-core code and
 * the engine codes a group call can fail with has its own words, none shows a raw code, and the
 * code survives the worker boundary (a GroupError is a CodedError, src/lib/vault/result.ts).
 */
import { describe, expect, it } from 'vitest';
import { GroupError, GroupErrorCode } from '../../src/lib/crypto/group/errors';
import { toWireError } from '../../src/lib/vault/result';
import { groupErrorText } from '../../src/lib/ui/group-error-text';

const fallback = groupErrorText('SomethingNobodyDefined');

describe('group error text', () => {
  it.each(Object.values(GroupErrorCode).map((c) => [c]))('%s has its own sentence and no raw code', (code) => {
    const text = groupErrorText(code);
    expect(text).not.toBe(fallback);
    expect(text).not.toContain(code);
    expect(text).toMatch(/[.]$/);
  });

  it.each(['NoSuchUser', 'NotGroupMember', 'NoSuchGroup', 'GroupOutOfDate', 'Blocked', 'Unavailable', 'InvalidArgument', 'Locked'].map((c) => [c]))(
    'engine code %s has its own sentence',
    (code) => {
      expect(groupErrorText(code)).not.toBe(fallback);
    }
  );

  it('an unknown code says nothing changed, without the code', () => {
    expect(fallback).toContain('nothing was changed');
    expect(fallback).not.toContain('SomethingNobodyDefined');
  });

  it('a GroupError keeps its code across the worker boundary', () => {
    expect(toWireError(new GroupError('LastAdmin', 'would leave no admin')).code).toBe('LastAdmin');
  });
});
