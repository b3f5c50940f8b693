import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../../src/lib/crypto/identity';
import { bytesEqual } from '../../../src/lib/codec/bytes';
import { isProtocolError } from '../../../src/lib/codec/errors';
import { address } from '../../../src/lib/crypto/group/address';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { createChange, decodeGroupChange, encodeGroupChange, type GroupChange } from '../../../src/lib/crypto/group/group-change';
import { Access, Role, findMember, findPending, isAdmin, type GroupState } from '../../../src/lib/crypto/group/group-state';
import { stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { generateInviteSecret, inviteKeys } from '../../../src/lib/crypto/group/group-secret';
import { isGroupError } from '../../../src/lib/crypto/group/errors';
import { add, change, expectRefused, makeGroup, person, pub } from './fixtures';

const ann = person('ann'); // creator, admin
const ben = person('ben'); // admin
const cat = person('cat'); // member
const dan = person('dan'); // member
const eve = person('eve'); // outsider
const deps = seededDeps('apply-change');

const group = () => makeGroup({ creator: ann, admins: [ben], members: [cat, dan] });

describe('P19 only members sign changes, and only admins make admin changes', () => {
  test('an admin adds a member: the next version, chained to the base by hash, with joinedAt', () => {
    const s = group();
    const next = applyChange(s, change(s, ben, add(eve)));
    expect(next.version).toBe(s.version + 1);
    expect(bytesEqual(next.prevHash, stateHash(s))).toBe(true);
    expect(findMember(next, eve.address)).toMatchObject({ role: Role.member, joinedAt: next.version });
    expect(findMember(s, eve.address)).toBeUndefined();
  });

  test('P19 a change authored by a non-member (the host has no identity in any group) is refused as UnknownAuthor', () => {
    const s = group();
    const host = { name: 'host', address: address('host'), identity: generateIdentity(deps) };
    expectRefused('UnknownAuthor', () => applyChange(s, change(s, host, add(eve))), s);
    expectRefused('UnknownAuthor', () => applyChange(s, change(s, eve, add(eve))), s);
  });

  test('P19 the host forging an admin as author (its own key) fails InvalidSignature', () => {
    const s = group();
    const forged = createChange({ base: s, author: ann.address, authorIdentity: generateIdentity(deps), actions: [add(eve)] });
    expectRefused('InvalidSignature', () => applyChange(s, forged), s);
  });

  test('P19 every flipped signature bit, and a flipped body byte, is refused without touching the state', () => {
    const s = group();
    const good = encodeGroupChange(change(s, ben, add(eve)));
    const sigStart = good.length - 64;
    for (let bit = 0; bit < 64 * 8; bit += 7) {
      const bad = good.slice();
      bad[sigStart + (bit >> 3)]! ^= 1 << (bit & 7);
      expectRefused('InvalidSignature', () => applyChange(s, decodeGroupChange(bad)), s);
    }
    // Flip bytes of the added member's address and role (inside the signed body).
    for (let i = 80; i < sigStart - 1; i += 23) {
      const bad = good.slice();
      bad[i]! ^= 0x01;
      let refused = false;
      try {
        applyChange(s, decodeGroupChange(bad));
      } catch (e) {
        refused = isGroupError(e) || isProtocolError(e);
      }
      expect(refused, `byte ${i}`).toBe(true);
    }
  });

  test('P19 a member cannot add when adding is reserved for admins, can when open, and never adds an admin', () => {
    const s = group();
    expectRefused('NotPermitted', () => applyChange(s, change(s, cat, add(eve))), s);
    const open = applyChange(s, change(s, ann, { type: 'setAccess', setting: 'addMembers', access: Access.members }));
    expect(findMember(applyChange(open, change(open, cat, add(eve))), eve.address)?.role).toBe(Role.member);
    expectRefused('NotAdmin', () => applyChange(open, change(open, cat, add(eve, Role.admin))), open);
  });

  test('P19 a member cannot remove, promote, demote, change settings or the invite link', () => {
    const s = group();
    const link = inviteKeys(generateInviteSecret(deps));
    const refusedActions = [
      { type: 'removeMember', address: dan.address },
      { type: 'setRole', address: dan.address, role: Role.admin },
      { type: 'setRole', address: ben.address, role: Role.member },
      { type: 'setAccess', setting: 'editInfo', access: Access.members },
      { type: 'setInviteLink', invite: { publicKey: link.signing.publicKey, approval: false } }
    ] as const;
    for (const a of refusedActions) expectRefused('NotAdmin', () => applyChange(s, change(s, cat, a)), s);
  });

  test('editing the name, description and avatar follows the editInfo setting', () => {
    const s = group();
    expectRefused('NotPermitted', () => applyChange(s, change(s, cat, { type: 'setName', name: 'Cats' })), s);
    const open = applyChange(s, change(s, ben, { type: 'setAccess', setting: 'editInfo', access: Access.members }));
    const renamed = applyChange(open, change(open, cat, { type: 'setName', name: 'Cats' }, { type: 'setDescription', description: 'ʕ•ᴥ•ʔ' }, { type: 'setAvatar', avatar: Uint8Array.of(1, 2, 3) }));
    expect(renamed).toMatchObject({ name: 'Cats', description: 'ʕ•ᴥ•ʔ', avatar: Uint8Array.of(1, 2, 3) });
  });

  test('P19 a change not written against exactly this state is refused: older (RolledBack), newer (MissingBase), other hash (ForkedBase)', () => {
    const s = group();
    const c = change(s, ben, add(eve));
    const next = applyChange(s, c);
    expectRefused('RolledBack', () => applyChange(next, c), next); // a replay is a roll-back
    const ahead = change(next, ben, { type: 'removeMember', address: dan.address });
    expectRefused('MissingBase', () => applyChange(s, ahead), s);
    const sibling = applyChange(s, change(s, ann, { type: 'setName', name: 'Other' }));
    expectRefused('ForkedBase', () => applyChange(sibling, change(next, ben, { type: 'setName', name: 'x' })), sibling);
    const other = makeGroup({ creator: ann, deps: seededDeps('another group') });
    expectRefused('WrongGroup', () => applyChange(other, c), other);
  });

  test('the last admin cannot leave or step down while members remain, but can after promoting someone in the same change', () => {
    const s = makeGroup({ creator: ann, members: [cat] });
    expectRefused('LastAdmin', () => applyChange(s, change(s, ann, { type: 'leave' })), s);
    expectRefused('LastAdmin', () => applyChange(s, change(s, ann, { type: 'setRole', address: ann.address, role: Role.member })), s);
    const handedOver = applyChange(s, change(s, ann, { type: 'setRole', address: cat.address, role: Role.admin }, { type: 'leave' }));
    expect(handedOver.members.map((m) => [m.address.username, m.role])).toEqual([['cat', 'admin']]);
    expectRefused('InvalidAction', () => applyChange(s, change(s, ann, { type: 'leave' }, add(eve))), s);
    // Alone, the last member may leave: the group is then empty.
    const alone = makeGroup({ creator: ann });
    expect(applyChange(alone, change(alone, ann, { type: 'leave' })).members).toEqual([]);
  });

  test('structural refusals: removing oneself, an absent member, an existing member, a no-op role change', () => {
    const s = group();
    expectRefused('InvalidAction', () => applyChange(s, change(s, ann, { type: 'removeMember', address: ann.address })), s);
    expectRefused('NotMember', () => applyChange(s, change(s, ann, { type: 'removeMember', address: eve.address })), s);
    expectRefused('AlreadyMember', () => applyChange(s, change(s, ann, add(cat))), s);
    expectRefused('InvalidAction', () => applyChange(s, change(s, ann, { type: 'setRole', address: ben.address, role: Role.admin })), s);
    // A name over the bound, or not well-formed Unicode, cannot even be signed.
    expect(() => change(s, ann, { type: 'setName', name: 'x'.repeat(129) })).toThrow(/129 bytes exceed 128/);
    expect(() => change(s, ann, { type: 'setName', name: 'bad \ud800' })).toThrow(/well-formed/);
  });

  test('P19 an added identity must be self-signed (IKd signed by IKs)', () => {
    const s = group();
    const id = pub(eve);
    const broken = { ...id, dhKeySignature: id.dhKeySignature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expectRefused('InvalidSignature', () => applyChange(s, change(s, ann, { type: 'addMember', address: eve.address, identity: broken, role: Role.member })), s);
  });

  test('removing an admin and demoting are admin rights; a removed admin signs nothing after', () => {
    const s = group();
    const removed = applyChange(s, change(s, ann, { type: 'removeMember', address: ben.address }));
    expect(isAdmin(removed, ben.address)).toBe(false);
    expectRefused('UnknownAuthor', () => applyChange(removed, change(removed, ben, add(eve))), removed);
    const demoted = applyChange(s, change(s, ann, { type: 'setRole', address: ben.address, role: Role.member }));
    expectRefused('NotAdmin', () => applyChange(demoted, change(demoted, ben, { type: 'removeMember', address: cat.address })), demoted);
  });
});

describe('P19 joining by invite link', () => {
  function withLink(approval: boolean) {
    const secret = generateInviteSecret(deps);
    const keys = inviteKeys(secret);
    const s0 = group();
    const s = applyChange(s0, change(s0, ben, { type: 'setInviteLink', invite: { publicKey: keys.signing.publicKey, approval } }));
    return { s, keys };
  }
  const join = (s: GroupState, who: typeof eve, signing?: ReturnType<typeof inviteKeys>['signing']): GroupChange =>
    createChange({ base: s, author: who.address, authorIdentity: who.identity, actions: [{ type: 'joinByLink', identity: pub(who) }], inviteSigningKey: signing });

  test('an open link: the joiner signs with their identity and the link key and becomes a member', () => {
    const { s, keys } = withLink(false);
    expect(s.inviteVersion).toBe(1);
    const next = applyChange(s, join(s, eve, keys.signing));
    expect(findMember(next, eve.address)).toMatchObject({ role: Role.member, joinedAt: next.version });
  });

  test('P19 without the link key, with another link, or with the link off, a stranger gets nothing', () => {
    const { s, keys } = withLink(false);
    expectRefused('InvalidSignature', () => applyChange(s, join(s, eve)), s);
    expectRefused('InvalidSignature', () => applyChange(s, join(s, eve, inviteKeys(generateInviteSecret(deps)).signing)), s);
    const off = applyChange(s, change(s, ann, { type: 'setInviteLink', invite: null }));
    expectRefused('InviteLinkOff', () => applyChange(off, join(off, eve, keys.signing)), off);
    // A join with anything else in it is not a join.
    const sneaky = createChange({ base: s, author: eve.address, authorIdentity: eve.identity, actions: [{ type: 'joinByLink', identity: pub(eve) }, add(person('fay'))], inviteSigningKey: keys.signing });
    expectRefused('UnknownAuthor', () => applyChange(s, sneaky), s);
    // The link cannot be used to put someone else in: the joiner's own signature is required.
    const impostor = createChange({ base: s, author: eve.address, authorIdentity: generateIdentity(deps), actions: [{ type: 'joinByLink', identity: pub(eve) }], inviteSigningKey: keys.signing });
    expectRefused('InvalidSignature', () => applyChange(s, impostor), s);
  });

  test('resetting the link (a new key) makes joins with the old one fail', () => {
    const { s, keys } = withLink(false);
    const fresh = inviteKeys(generateInviteSecret(deps));
    const reset = applyChange(s, change(s, ann, { type: 'setInviteLink', invite: { publicKey: fresh.signing.publicKey, approval: false } }));
    expect(reset.inviteVersion).toBe(2);
    expectRefused('InvalidSignature', () => applyChange(reset, join(reset, eve, keys.signing)), reset);
    expect(findMember(applyChange(reset, join(reset, eve, fresh.signing)), eve.address)).toBeDefined();
  });

  test('with approval: the join is a pending request that an admin approves or denies, never a member', () => {
    const { s, keys } = withLink(true);
    const asked = applyChange(s, join(s, eve, keys.signing));
    expect(findMember(asked, eve.address)).toBeUndefined();
    expect(findPending(asked, eve.address)).toMatchObject({ requestedAt: asked.version });
    expectRefused('InvalidAction', () => applyChange(asked, join(asked, eve, keys.signing)), asked);
    expectRefused('NotAdmin', () => applyChange(asked, change(asked, cat, { type: 'approveJoin', address: eve.address })), asked);
    const approved = applyChange(asked, change(asked, ben, { type: 'approveJoin', address: eve.address }));
    expect(findMember(approved, eve.address)?.role).toBe(Role.member);
    expect(approved.pending).toEqual([]);
    const denied = applyChange(asked, change(asked, ben, { type: 'denyJoin', address: eve.address }));
    expect(denied.pending).toEqual([]);
    expect(findMember(denied, eve.address)).toBeUndefined();
    expectRefused('NotPending', () => applyChange(denied, change(denied, ben, { type: 'approveJoin', address: eve.address })), denied);
  });

  test('an admin adding a pending person directly clears the request', () => {
    const { s, keys } = withLink(true);
    const asked = applyChange(s, join(s, eve, keys.signing));
    const added = applyChange(asked, change(asked, ann, add(eve)));
    expect(added.pending).toEqual([]);
    expect(identityPublic(eve.identity)).toEqual(findMember(added, eve.address)!.identity);
  });
});
