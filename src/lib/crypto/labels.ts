/**
 * Every domain-separation string in Parley, in one place.
 *
 * Each KDF, signature and MAC use has its own label; `tests/crypto/labels.test.ts` asserts they
 * are pairwise distinct and that no label is a prefix of another. Add new labels here only.
 */

export const Labels = {
  /** PQXDH KDF info (DESIGN.md §4), Signal's PQXDH §2.2 naming scheme. */
  pqxdh: 'Parley_PQXDH_X25519_SHA-256_ML-KEM-768',
  /** Double Ratchet KDF_RK info. */
  ratchet: 'Parley_Ratchet',
  /** Message key -> AEAD key and nonce. */
  messageKeys: 'Parley_MessageKeys',
  /** Signature over the identity's X25519 key by its Ed25519 key. */
  identityDhKeySig: 'Parley_IdentityDhKey',
  /** Signature over a signed X25519 prekey. */
  signedPreKeySig: 'Parley_SignedPreKey',
  /** Signature over an ML-KEM-768 prekey (last-resort or one-time). */
  kemPreKeySig: 'Parley_KemPreKey',
  /** Safety-number fingerprint iteration. */
  safetyNumber: 'Parley_SafetyNumber',
  /** Host authentication challenge signature. */
  hostAuth: 'Parley_HostAuth',
  /** PIN recovery (DESIGN.md §7): Argon2id salt from username and realm set. */
  pinSalt: 'Parley_PinSalt',
  /** PIN recovery: identifier of the pinned realm list and threshold. */
  pinRealmSet: 'Parley_PinRealmSet',
  /** PIN recovery: unlock key from the OPRF output. */
  pinUnlockKey: 'Parley_PinUnlockKey',
  /** PIN recovery: commitment to the unlock key that realms return after an evaluation. */
  pinUnlockCommitment: 'Parley_PinUnlockCommitment',
  /** PIN recovery: per-realm unlock tag. */
  pinUnlockTag: 'Parley_PinUnlockTag',
  /** PIN recovery: additive mask over a realm's share of the secret-key scalar. */
  pinShareMask: 'Parley_PinShareMask',
  /** PIN recovery: MAC key and MAC binding a realm's share response. */
  pinShareCommitment: 'Parley_PinShareCommitment',
  /** PIN recovery: AEAD key for the master secret, from the reconstructed scalar. */
  pinSecretKey: 'Parley_PinSecretKey',
  /** PIN recovery: associated data of the master-secret AEAD. */
  pinSecretBox: 'Parley_PinSecretBox',
  /** PIN recovery: a realm's 16-byte id from its configured name (realm-api.ts). */
  pinRealmId: 'Parley_PinRealmId',
  /** PIN recovery: the opaque user id realms key their rows by (never the username itself). */
  pinRealmUser: 'Parley_PinRealmUser',
  /** PIN recovery: per-realm key from the master secret that authorises re-registration and deletion. */
  pinRealmAuth: 'Parley_PinRealmAuth',
  /** PIN recovery: what a realm stores of that key (a one-way verifier). */
  pinRealmVerifier: 'Parley_PinRealmVerifier',
  /** PIN recovery (P38): the registering client's signature over a realm's OPRF public key share and commitment. */
  pinRealmKeySig: 'Parley_PinRealmKeySig',
  /** PIN recovery (P38): a host-issued token that lets an account make its first registration on a realm. */
  realmToken: 'Parley_RealmToken',
  /** Account takeover (P37): the Ed25519 seed derived from the master secret. */
  takeoverSeed: 'Parley_TakeoverSeed',
  /** Account takeover (P37): what that key signs (host challenge, username, new device). */
  takeoverProof: 'Parley_TakeoverProof',
  /** Account record (DESIGN.md §7): AEAD key from the master secret. */
  accountRecordKey: 'Parley_AccountRecordKey',
  /** Account record: associated data (version and username). */
  accountRecordAd: 'Parley_AccountRecordAd',
  /** Account record: the access key the host checks (it stores only SHA-256 of it). */
  accountRecordAccess: 'Parley_AccountRecordAccess',
  /** Local vault (DESIGN.md §8, P32): associated data of a sealed record, bound to its store and key. */
  vaultRecord: 'Parley_VaultRecord',
  /** App lock (SECURITY.md P46): associated data of the lock key wrapped under a passphrase's Argon2id key. */
  appLockPassphrase: 'Parley_AppLockPassphrase',
  /** App lock (P46): a passkey's WebAuthn PRF output -> the key that wraps the lock key (HKDF info). */
  appLockPasskey: 'Parley_AppLockPasskey',
  /** Groups (P19): hash of a group state's canonical encoding, what the next change signs as its base. */
  groupStateDigest: 'Parley_GroupStateDigest',
  /** Groups (P19): an author's signature over a membership change. */
  groupChangeSig: 'Parley_GroupChangeSig',
  /** Groups: a change's id (hash of its encoding), for duplicates and the fork choice. */
  groupChangeDigest: 'Parley_GroupChangeDigest',
  /** Groups: the invite link's signature over a join request (the join credential). */
  groupInviteProof: 'Parley_GroupInviteProof',
  /** Groups: invite link secret -> the Ed25519 seed of the link's signing key. */
  groupInviteSigning: 'Parley_GroupInviteSigning',
  /** Groups: invite link secret -> the invite blob's AEAD key and host address. */
  groupInviteBlobKey: 'Parley_GroupInviteBlobKey',
  groupInviteBlobAddress: 'Parley_GroupInviteBlobAddress',
  /** Groups: master key -> the token the host checks before replacing the invite blob. */
  groupInviteBlobWrite: 'Parley_GroupInviteBlobWrite',
  /** Groups: master key -> the state blob's AEAD key, host address and write token. */
  groupBlobKey: 'Parley_GroupBlobKey',
  groupBlobAddress: 'Parley_GroupBlobAddress',
  groupBlobWrite: 'Parley_GroupBlobWrite',
  groupHandoffWrite: 'Parley_GroupHandoffWrite',
  /** Groups: a key handoff's per-member mask over the new master key, from DH(e, member IKd) (key-handoff.ts). */
  groupHandoffMask: 'Parley_GroupHandoffMask',
  /** Groups: the rotator's signature over a key handoff. */
  groupHandoffSig: 'Parley_GroupHandoffSig',
  /** Groups: associated data of a sealed blob (version, kind and address). */
  groupBlobBinding: 'Parley_GroupBlobBinding',
  /** Groups (P20): sender-key message key -> AEAD key and nonce (never the 1:1 label). */
  groupMessageKeys: 'Parley_GroupMessageKeys',
  /** Groups (P20): a sender's signature over its group message. */
  groupMessageSig: 'Parley_GroupMessageSig',
  /** Sealed sender (SECURITY.md P41): server certificate, signed by the pinned trust root. */
  serverCertificate: 'Parley_ServerCertificate',
  /** Sealed sender: sender certificate, signed by a server certificate's key. */
  senderCertificate: 'Parley_SenderCertificate',
  /** Sealed sender v1: keys of the ephemeral layer, from DH(e, recipient IKd). */
  sealedEphemeral: 'Parley_SealedEphemeral',
  /** Sealed sender v1: keys of the static layer, from DH(sender IKd, recipient IKd) and the chain key. */
  sealedStatic: 'Parley_SealedStatic',
  /** Sealed sender v2 (multi-recipient): the ephemeral private key from the message seed M. */
  sealedMultiEphemeral: 'Parley_SealedMultiEphemeral',
  /** Sealed sender v2: the payload AEAD key from M. */
  sealedMultiPayload: 'Parley_SealedMultiPayload',
  /** Sealed sender v2: the per-recipient mask over M, from DH(E, recipient IKd). */
  sealedMultiMask: 'Parley_SealedMultiMask',
  /** Sealed sender v2: the per-recipient tag proving the sender's IKd, from DH(sender IKd, recipient IKd). */
  sealedMultiTag: 'Parley_SealedMultiTag',
  /** Sealed sender v3 (multi-recipient, per-pair seal keys): the payload AEAD key from M. */
  sealedKeyedPayload: 'Parley_SealedKeyedPayload',
  /** Sealed sender v3: the per-recipient mask over M and tag, one keyed hash under the pair's seal key. */
  sealedKeyedMaterial: 'Parley_SealedKeyedMaterial',
  /** Delivery token (P41): what a sender presents for a sealed send, from the recipient's profile key. */
  deliveryToken: 'Parley_DeliveryToken',
  /** Delivery token: the one-way verifier the host stores and checks presented tokens against. */
  deliveryVerifier: 'Parley_DeliveryVerifier',
  /** Private profile (P43): the blob's host address, from the profile key and username. */
  profileLocator: 'Parley_ProfileLocator',
  /** Private profile: the blob's AEAD key, from the profile key. */
  profileBlobKey: 'Parley_ProfileBlobKey',
  /** Private profile: associated data of the blob (version, username, address). */
  profileBlobAd: 'Parley_ProfileBlobAd',
  /** Private profile: the owner's write token for one address. */
  profileWriteToken: 'Parley_ProfileWriteToken',
  /** Private profile: what the host stores of a write token (a one-way verifier). */
  profileWriteCheck: 'Parley_ProfileWriteCheck',
  /** Private profile: names a profile key version on the owner's device (which contacts hold it). */
  profileKeyFingerprint: 'Parley_ProfileKeyFingerprint',
  /** Private profile: names the version the host last took from us, on the owner's device only. */
  profilePublished: 'Parley_ProfilePublished',
  /** Private discovery: the memory-hard lookup hash of a username (username-hash.ts). */
  usernameHash: 'Parley_UsernameHash_v1',
  /** Proof of work that admits one anonymous lookup past the per-address limit (lookup-work.ts). */
  lookupWork: 'Parley_LookupWork_v1',
  /** Username link: associated data of the encrypted username (username-link.ts). */
  usernameLinkAd: 'Parley_UsernameLinkAd',
  /** Username link: the owner's write token for one link id. */
  usernameLinkWrite: 'Parley_UsernameLinkWrite',
  /** Username link: what the host stores of a write token (a one-way verifier). */
  usernameLinkCheck: 'Parley_UsernameLinkCheck',
  /** Chat routes: the subkey of a route's synthetic IV (route-name.ts). */
  routeNameIv: 'Parley_RouteNameIv',
  /** Chat routes: the subkey of a route's keystream (route-name.ts). */
  routeNameEnc: 'Parley_RouteNameEnc',
  /** Deterministic test RNG (tests only). */
  testRng: 'Parley_TestRng'
} as const;

export type Label = (typeof Labels)[keyof typeof Labels];

const encoder = new TextEncoder();

export function labelBytes(label: Label): Uint8Array {
  return encoder.encode(label);
}
