import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { ByteWriter, bytesEqual, concatBytes } from '../../../src/lib/codec/bytes';
import { isProtocolError } from '../../../src/lib/codec/errors';
import { address, compareAddress, readAddress, writeAddress } from '../../../src/lib/crypto/group/address';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { createChange, decodeGroupChange, encodeGroupChange, type GroupAction } from '../../../src/lib/crypto/group/group-change';
import { Access, Role, createGenesis, type GroupState } from '../../../src/lib/crypto/group/group-state';
import { decodeGroupState, encodeGroupState, stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { generateInviteSecret, inviteKeys } from '../../../src/lib/crypto/group/group-secret';
import { ByteReader } from '../../../src/lib/codec/bytes';
import { add, change, makeGroup, person, pub } from './fixtures';

const deps = seededDeps('group-codec');
const [ann, ben, cat, dan, eve] = ['ann', 'ben', 'cat', 'dan', 'eve'].map(person) as [ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>];
const link = inviteKeys(generateInviteSecret(deps));

/** A state with every optional field set: avatar, open settings, a link with approval, a pending request. */
function fullState(): GroupState {
  const s0 = makeGroup({ creator: ann, admins: [ben], members: [cat, dan] });
  const s1 = applyChange(
    s0,
    change(
      s0,
      ann,
      { type: 'setDescription', description: 'Wednesdays, 19:00 — bring tea 🍵' },
      { type: 'setAvatar', avatar: Uint8Array.of(9, 8, 7) },
      { type: 'setAccess', setting: 'editInfo', access: Access.members },
      { type: 'setInviteLink', invite: { publicKey: link.signing.publicKey, approval: true } }
    )
  );
  const join = createChange({ base: s1, author: eve.address, authorIdentity: eve.identity, actions: [{ type: 'joinByLink', identity: pub(eve) }], inviteSigningKey: link.signing });
  return applyChange(s1, join);
}

function refusedDecode(bytes: Uint8Array): string {
  try {
    decodeGroupState(bytes);
  } catch (e) {
    expect(isProtocolError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('group state codec', () => {
  test('round trip of a state with every field, and one hash per state', () => {
    const s = fullState();
    expect(s.pending).toHaveLength(1);
    const bytes = encodeGroupState(s);
    const back = decodeGroupState(bytes);
    expect(back).toEqual(s);
    expect(encodeGroupState(back)).toEqual(bytes);
    expect(stateHash(back)).toEqual(stateHash(s));
    const renamed = { ...s, name: s.name + '!' };
    expect(bytesEqual(stateHash(renamed), stateHash(s))).toBe(false);
  });

  test('strict: trailing bytes, truncation, unknown format, bad flags are DecodeFailed or UnsupportedVersion', () => {
    const bytes = encodeGroupState(fullState());
    expect(refusedDecode(concatBytes(bytes, Uint8Array.of(0)))).toBe('DecodeFailed');
    expect(refusedDecode(bytes.subarray(0, bytes.length - 1))).toBe('DecodeFailed');
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(refusedDecode(v2)).toBe('UnsupportedVersion');
  });

  test('strict: members out of address order or repeated are refused (one state, one encoding)', () => {
    const s = makeGroup({ creator: ann, members: [ben] });
    const enc = encodeGroupState(s);
    // The member list is the tail: u16 count || ann || ben || u16 pending count (0).
    const entry = (name: string) => 1 + name.length + 4 + 131 + 1 + 4;
    const end = enc.length - 2;
    const annAt = end - entry('ben') - entry('ann');
    const annBytes = enc.slice(annAt, annAt + entry('ann'));
    const benBytes = enc.slice(annAt + entry('ann'), end);
    const swapped = concatBytes(enc.subarray(0, annAt), benBytes, annBytes, enc.subarray(end));
    expect(refusedDecode(swapped)).toBe('DecodeFailed');
    const repeated = concatBytes(enc.subarray(0, annAt), annBytes, annBytes, enc.subarray(end));
    expect(refusedDecode(repeated)).toBe('DecodeFailed');
    expect(decodeGroupState(concatBytes(enc.subarray(0, annAt), annBytes, benBytes, enc.subarray(end)))).toEqual(s);
  });

  test('strict: a member list without an admin, invalid UTF-8 in the name', () => {
    const s = makeGroup({ creator: ann, members: [ben] });
    const noAdmin = { ...s, members: s.members.map((m) => ({ ...m, role: Role.member })) };
    expect(refusedDecode(encodeGroupState(noAdmin))).toBe('DecodeFailed');
    const named = { ...s, name: 'ab' };
    const enc = encodeGroupState(named);
    const at = 1 + 32 + 4 + 32 + 2; // first name byte
    const bad = enc.slice();
    bad[at] = 0xff;
    expect(refusedDecode(bad)).toBe('DecodeFailed');
  });

  test('a genesis with a name over its bound or not well-formed is refused before anything is made', () => {
    const creator = { address: ann.address, identity: pub(ann) };
    expect(() => createGenesis({ creator, name: 'x'.repeat(129) }, deps)).toThrow(/name: 129 bytes exceed 128/);
    expect(() => createGenesis({ creator, name: 'ok', description: '\udc00' }, deps)).toThrow(/well-formed/);
  });

  test('addresses: (username, device) in username-then-device order, device 0 refused', () => {
    expect(compareAddress(address('ann', 2), address('ann', 10))).toBeLessThan(0);
    expect(compareAddress(address('ann', 9), address('anna', 1))).toBeLessThan(0);
    expect(() => address('ann', 0)).toThrow();
    const w = writeAddress(new ByteWriter(), address('ann', 7)).finish();
    expect(readAddress(new ByteReader(w))).toEqual(address('ann', 7));
    const zero = w.slice();
    zero.fill(0, zero.length - 4);
    expect(() => readAddress(new ByteReader(zero))).toThrow(/device 0/);
  });
});

describe('group change codec', () => {
  const s = makeGroup({ creator: ann, admins: [ben], members: [cat] });
  const everyAction: GroupAction[] = [
    add(dan),
    add(eve, Role.admin),
    { type: 'removeMember', address: cat.address },
    { type: 'setRole', address: ben.address, role: Role.member },
    { type: 'setName', name: 'Nouveau nom' },
    { type: 'setDescription', description: '' },
    { type: 'setAvatar', avatar: null },
    { type: 'setAvatar', avatar: Uint8Array.of(1) },
    { type: 'setAccess', setting: 'addMembers', access: Access.members },
    { type: 'setInviteLink', invite: null },
    { type: 'setInviteLink', invite: { publicKey: link.signing.publicKey, approval: false } },
    { type: 'approveJoin', address: eve.address },
    { type: 'denyJoin', address: dan.address },
    { type: 'leave' }
  ];

  test('every action type round-trips byte for byte', () => {
    const c = change(s, ann, ...everyAction);
    const bytes = encodeGroupChange(c);
    const back = decodeGroupChange(bytes);
    expect(back).toEqual(c);
    expect(encodeGroupChange(back)).toEqual(bytes);
    const join = createChange({ base: s, author: eve.address, authorIdentity: eve.identity, actions: [{ type: 'joinByLink', identity: pub(eve) }], inviteSigningKey: link.signing });
    expect(decodeGroupChange(encodeGroupChange(join))).toEqual(join);
  });

  test('strict: trailing bytes, unknown action type, zero actions, unknown format', () => {
    const bytes = encodeGroupChange(change(s, ann, { type: 'leave' }));
    expect(() => decodeGroupChange(concatBytes(bytes, Uint8Array.of(0)))).toThrow(/trailing/);
    const headLen = 1 + 32 + 4 + 32 + 1 + 3 + 4; // format, group, base version, base hash, author "ann"
    const unknown = bytes.slice();
    unknown[headLen + 1] = 99; // first action's type
    expect(() => decodeGroupChange(unknown)).toThrow(/action type 99/);
    const none = bytes.slice();
    none[headLen] = 0; // action count
    expect(() => decodeGroupChange(none)).toThrow(/0 actions/);
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(() => decodeGroupChange(v2)).toThrow(/format 2/);
  });
});
