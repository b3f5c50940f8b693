// Probe: reading and writing one stored group record (1000 members and 32 kept changes by default)
// through the vault on fake-indexeddb, as every group message sent or received does (README
// "Groups", *Reading a group*): `node --import tsx tests/bench/group-record-probe.ts [members] [renames]`.
import 'fake-indexeddb/auto';
import { initSodium } from '../../src/lib/crypto/sodium';
import { seededDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { address } from '../../src/lib/crypto/group/address';
import { createChange } from '../../src/lib/crypto/group/group-change';
import { createGenesis, Role } from '../../src/lib/crypto/group/group-state';
import { receiveChange, startHistory } from '../../src/lib/crypto/group/group-history';
import { loadVault, commit } from '../../workers/storage/vault';
import { putGroup, txListGroups, type GroupRecord } from '../../workers/storage/group-repo';
import type { Username } from '../../src/lib/codec/username';
import { median } from './harness';
import { createSenderKey, type TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { toHex } from '../../src/lib/codec/bytes';
await initSodium();
const deps = seededDeps('probe');
const admin = { address: address('admin'), identity: generateIdentity(deps) };
const state = createGenesis({ creator: { address: admin.address, identity: identityPublic(admin.identity) }, name: 'Big' }, deps);
let h = startHistory(state);
const N = Number(process.argv[2] ?? 1000), RENAMES = Number(process.argv[3] ?? 31);
for (let i = 1; i < N; i += 128) {
  const actions = [];
  for (let k = i; k < Math.min(N, i + 128); k++) actions.push({ type: 'addMember' as const, address: address(`member${k}`), identity: identityPublic(generateIdentity(deps)), role: Role.member });
  h = receiveChange(h, createChange({ base: h.head, author: admin.address, authorIdentity: admin.identity, actions })).history;
}
for (let i = 0; i < RENAMES; i++) h = receiveChange(h, createChange({ base: h.head, author: admin.address, authorIdentity: admin.identity, actions: [{ type: 'setName', name: `Big ${i}` }] })).history;
const vault = await loadVault('probe');
// Every other member has written: a sender key of theirs held, with the identity it came under
// and the seal key they gave us; ours given to all, with a seal key each.
const others = h.head.members.slice(1);
const groupId = h.head.groupId;
const theirs: TheirSenderKey[] = others.map((m) => {
  const our = createSenderKey({ groupId, ourAddress: m.address }, deps).state;
  return { groupId, theirAddress: m.address, distributionId: our.distributionId, iteration: 0, chainKey: our.chainKey, signingKey: our.signing.publicKey, skipped: { size: 0, buckets: new Map() } };
});
const keyFrom = Object.fromEntries(theirs.map((t, i) => [toHex(t.distributionId), encodeIdentityPublic(others[i]!.identity)]));
const sealFrom = Object.fromEntries(theirs.map((t) => [toHex(t.distributionId), deps.rng(32)]));
const sealKeys = Object.fromEntries(others.map((m) => [m.address.username, deps.rng(32)]));
const g: GroupRecord = { id: 'ab'.repeat(32), history: h, masterKey: deps.rng(32), our: createSenderKey({ groupId, ourAddress: admin.address }, deps).state, distributedTo: others.map((m) => m.address.username as Username), theirs, keyFrom, sealFrom, sealKeys, lastAt: 0, lastPreview: '', unread: 0, missing: 0, seenVersion: 0, outgoing: [] };
await commit(vault, (tx) => putGroup(tx, g));
const reads: number[] = [];
const cycles: number[] = [];
for (let k = 0; k < 12; k++) {
  let t = performance.now();
  await commit(vault, (tx) => txListGroups(tx));
  reads.push(performance.now() - t);
  // A received message: read, then write the record back with a counter changed (the history as it was).
  t = performance.now();
  await commit(vault, async (tx) => {
    const [x] = await txListGroups(tx);
    await putGroup(tx, { ...x!, unread: x!.unread + 1 });
  });
  cycles.push(performance.now() - t);
}
const f = (xs: number[]) => `${median(xs.slice(2)).toFixed(2)} (${Math.min(...xs.slice(2)).toFixed(2)}..${Math.max(...xs.slice(2)).toFixed(2)})`;
// The first read decodes (the write registered only the encoding); the rest find the memo (group-repo.ts).
console.log(`members ${h.head.members.length}, kept changes ${h.edges.size}: first read ${reads[0]!.toFixed(2)} ms; then read all groups ${f(reads)} ms; read + write back ${f(cycles)} ms (median (min..max) of 10 after 2)`);
