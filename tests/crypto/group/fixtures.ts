// Group test fixtures: seeded people (address + identity), a group built by real signed changes,
// and a helper asserting a refusal's code while checking the inputs were not touched.
import { expect } from 'vitest';
import { seededDeps, type Deps } from '../../../src/lib/crypto/deps';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../../src/lib/crypto/identity';
import { address, type Address } from '../../../src/lib/crypto/group/address';
import { isGroupError, type GroupErrorCode } from '../../../src/lib/crypto/group/errors';
import { createChange, type GroupAction, type GroupChange } from '../../../src/lib/crypto/group/group-change';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { createGenesis, Role, type GroupState } from '../../../src/lib/crypto/group/group-state';
import { encodeGroupState } from '../../../src/lib/crypto/group/group-state-codec';

export interface Person {
  name: string;
  address: Address;
  identity: IdentityKeyPair;
}

const people = new Map<string, Person>();

/** A person with a deterministic identity (the same name always gives the same keys). */
export function person(name: string): Person {
  let p = people.get(name);
  if (!p) {
    p = { name, address: address(name), identity: generateIdentity(seededDeps(`person:${name}`)) };
    people.set(name, p);
  }
  return p;
}

export const pub = (p: Person) => identityPublic(p.identity);

export function add(p: Person, role: Role = Role.member): GroupAction {
  return { type: 'addMember', address: p.address, identity: pub(p), role };
}

/** `author` signs `actions` against `base`. */
export function change(base: GroupState, author: Person, ...actions: GroupAction[]): GroupChange {
  return createChange({ base, author: author.address, authorIdentity: author.identity, actions });
}

/** A group made by `creator` (genesis), then one signed change adding admins and members. */
export function makeGroup(opts: { creator: Person; admins?: Person[]; members?: Person[]; name?: string; deps?: Deps }): GroupState {
  const deps = opts.deps ?? seededDeps('group-fixture');
  const genesis = createGenesis({ creator: { address: opts.creator.address, identity: pub(opts.creator) }, name: opts.name ?? 'Book club' }, deps);
  const actions = [...(opts.admins ?? []).map((p) => add(p, Role.admin)), ...(opts.members ?? []).map((p) => add(p))];
  return actions.length === 0 ? genesis : applyChange(genesis, change(genesis, opts.creator, ...actions));
}

/** Asserts `fn` throws a GroupError `code` and leaves `inputs` byte-for-byte as they were. */
export function expectRefused(code: GroupErrorCode, fn: () => unknown, ...inputs: GroupState[]): void {
  const before = inputs.map((s) => encodeGroupState(s));
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isGroupError(error), `expected GroupError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  inputs.forEach((s, i) => expect(encodeGroupState(s)).toEqual(before[i]));
}
