// Golden vectors for the group core, frozen from seed: every encoding, hash and derived key a
// change to the formats or KDFs would alter. Regenerate with UPDATE_VECTORS=1 only on purpose.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { toHex } from '../../../src/lib/codec/bytes';
import { sha256 } from '../../../src/lib/crypto/primitives';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { changeId, encodeGroupChange } from '../../../src/lib/crypto/group/group-change';
import { createGenesis, Role } from '../../../src/lib/crypto/group/group-state';
import { encodeGroupState, stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { receiveChange, startHistory } from '../../../src/lib/crypto/group/group-history';
import { encodeGroupHistory } from '../../../src/lib/crypto/group/group-history-codec';
import { encodeInviteLink, generateInviteSecret, generateMasterKey, inviteBlobWriteToken, inviteKeys, stateBlobKeys } from '../../../src/lib/crypto/group/group-secret';
import { sealStateBlob } from '../../../src/lib/crypto/group/state-blob';
import { createSenderKey, groupEncrypt } from '../../../src/lib/crypto/group/sender-key';
import { encodeSenderKeyDistribution } from '../../../src/lib/crypto/group/sender-key-message';
import { encodeOurSenderKey } from '../../../src/lib/crypto/group/sender-key-state';
import { add, change, person, pub } from './fixtures';

const VECTOR_PATH = new URL('../../vectors/group.json', import.meta.url);

function generateVector() {
  const d = seededDeps('group-vectors');
  const [ann, ben, cat] = ['ann', 'ben', 'cat'].map(person) as [ReturnType<typeof person>, ReturnType<typeof person>, ReturnType<typeof person>];
  const genesis = createGenesis({ creator: { address: ann.address, identity: pub(ann) }, name: 'Book club', description: 'Wednesdays' }, d);
  const addBoth = change(genesis, ann, add(ben, Role.admin), add(cat));
  const v1 = applyChange(genesis, addBoth);
  const rename = change(v1, ben, { type: 'setName', name: 'Book club 📚' });
  const history = receiveChange(receiveChange(startHistory(genesis), addBoth).history, rename).history;
  const masterKey = generateMasterKey(d);
  const blobKeys = stateBlobKeys(masterKey, genesis.groupId);
  const inviteSecret = generateInviteSecret(d);
  const invite = inviteKeys(inviteSecret);
  const sealed = sealStateBlob(history, masterKey, d).sealed;
  const { state: annKey, distribution } = createSenderKey({ groupId: genesis.groupId, ourAddress: ann.address }, d);
  const first = groupEncrypt(annKey, new TextEncoder().encode('hello group'));
  return {
    source: "frozen from seededDeps seed 'group-vectors' (people's identities from seededDeps('person:<name>'), tests/crypto/group/fixtures.ts)",
    genesis: toHex(encodeGroupState(genesis)),
    genesisHash: toHex(stateHash(genesis)),
    addChange: toHex(encodeGroupChange(addBoth)),
    addChangeId: changeId(addBoth),
    version1Hash: toHex(stateHash(v1)),
    renameChangeId: changeId(rename),
    headHash: toHex(stateHash(history.head)),
    history: toHex(encodeGroupHistory(history)),
    masterKey: toHex(masterKey),
    stateBlobKey: toHex(blobKeys.key),
    stateBlobAddress: toHex(blobKeys.address),
    stateBlobWriteToken: toHex(blobKeys.writeToken),
    sealedStateBlobLength: sealed.length,
    sealedStateBlobSha256: toHex(sha256(sealed)),
    inviteSecret: toHex(inviteSecret),
    inviteLink: encodeInviteLink(inviteSecret),
    inviteSigningKey: toHex(invite.signing.publicKey),
    inviteBlobKey: toHex(invite.key),
    inviteBlobAddress: toHex(invite.address),
    inviteBlobWriteToken: toHex(inviteBlobWriteToken(masterKey, genesis.groupId, invite.address)),
    senderKeyState: toHex(encodeOurSenderKey(annKey)),
    senderKeyDistribution: toHex(encodeSenderKeyDistribution(distribution)),
    firstGroupMessage: toHex(first.message)
  };
}

if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(generateVector(), null, 2) + '\n');

test('golden vector: group state, changes, history, secrets, blob and sender-key message regenerate from seed', () => {
  const vectors = JSON.parse(readFileSync(VECTOR_PATH, 'utf8')) as ReturnType<typeof generateVector>;
  expect(vectors.source).toMatch(/frozen from seededDeps/);
  expect(generateVector()).toEqual(vectors);
});
