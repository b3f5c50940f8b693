/**
 * The pinned realm list of PIN recovery (DESIGN.md §7): ids in build-configuration order. The
 * position fixes each realm's Shamir index x = position + 1, so the client never takes an index
 * from a realm. Knows nothing of keys or records.
 */
import { fail } from '../../codec/errors';
import { constantTimeEqual } from './group';
import { MAX_SHARES } from './shamir';
import { REALM_ID_LEN, realmSetId } from './stretch';

export interface RealmConfig {
  /** 16 bytes, pinned in the build configuration (never fetched from the host). */
  id: Uint8Array;
}

export interface RealmSet {
  ids: Uint8Array[];
  threshold: number;
  setId: Uint8Array;
}

export function checkRealms(realms: readonly RealmConfig[], threshold: number): RealmSet {
  if (realms.length < 1 || realms.length > MAX_SHARES) fail('InvalidArgument', `${realms.length} realms, need 1..${MAX_SHARES}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > realms.length) {
    fail('InvalidArgument', `threshold ${threshold} outside 1..${realms.length}`);
  }
  const ids = realms.map((r, i) => {
    if (r.id.length !== REALM_ID_LEN) fail('InvalidArgument', `realm ${i}: id of ${r.id.length} bytes, need ${REALM_ID_LEN}`);
    return r.id.slice();
  });
  ids.forEach((id, i) => {
    if (ids.findIndex((o) => constantTimeEqual(o, id)) !== i) fail('InvalidArgument', `realm ${i}: duplicate id`);
  });
  return { ids, threshold, setId: realmSetId(ids, threshold) };
}

export function indexOfRealm(set: RealmSet, realmId: Uint8Array): number {
  const i = set.ids.findIndex((id) => constantTimeEqual(id, realmId));
  if (i < 0) fail('InvalidArgument', 'response from a realm outside the pinned set');
  return i;
}

