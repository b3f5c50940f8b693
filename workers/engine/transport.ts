/**
 * What the engine needs from the host (DESIGN.md §5), as an interface so tests can swap in an
 * in-memory or deliberately malicious host (memory-host.ts) and the app uses the real
 * WebSocket/fetch one (host-transport.ts).
 *
 * Every authenticated call takes a `HostAuth`: the username and a signer over the host's fresh
 * challenge (Labels.hostAuth is applied by the transport). The signer runs inside the worker;
 * the transport never sees a private key. Failures are coded errors (host-refusal.ts): the
 * engine's `Unavailable` means "try again later" (network down, host restarting), every other
 * code is a definite answer.
 */
import type { IdentityPublic } from '../../src/lib/crypto/identity';
import type { Username } from '../../src/lib/codec/username';
import type { KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import type { PreKeyBundle } from '../../src/lib/crypto/bundle';
import type { IceServers } from '../../src/lib/vault/views';
import type { SealedSenderTrust } from '../../src/lib/crypto/certificates';
import type { LookupAnswer } from '../../src/lib/wire/discovery-api';

export interface HostAuth {
  username: Username;
  /** Ed25519 signature by the identity key over the message the transport builds. */
  sign(message: Uint8Array): Uint8Array;
  /** DESIGN.md §7: the device secret of a restored browser, sent with every login. */
  device?: Uint8Array;
}

export interface PreKeyUpload {
  signedPreKey?: SignedPreKeyPublic;
  oneTimePreKeys: OneTimePreKeyPublic[];
  kemPreKeys: KemPreKeyPublic[];
}

export interface Registration extends PreKeyUpload {
  identity: IdentityPublic;
  signedPreKey: SignedPreKeyPublic;
}

/** One stored envelope as the host pushes it. `sender` is what the host claims (not trusted). */
export interface Envelope {
  serverId: string;
  sender: Username;
  body: Uint8Array;
  /** Host time it was stored (ms). */
  receivedAt: number;
}

/**
 * A sealed envelope (SECURITY.md P41): the host pushes it with no sender; who sent it is inside,
 * in a certificate the vault checks (sealed-receive.ts).
 */
export interface SealedEnvelope {
  serverId: string;
  sealed: true;
  body: Uint8Array;
  receivedAt: number;
}

export type ConnectionState = 'offline' | 'connecting' | 'online';

export interface InboxSink {
  /** Called for each pushed envelope, in host order; the engine acks after committing. */
  envelope(e: Envelope | SealedEnvelope): void;
  state(s: ConnectionState): void;
  /** Another browser restored this account (DESIGN.md §7): this one is signed out for good. */
  signedOut?(): void;
}

export interface PreKeyCounts {
  oneTime: number;
  kem: number;
}

export interface HostTransport {
  /** True if the name is free to claim (the name is already canonical). */
  usernameAvailable(username: Username): Promise<boolean>;
  /** Claims the username with identity and prekeys; UsernameTaken if someone has it. */
  register(auth: HostAuth, registration: Registration): Promise<void>;
  /**
   * Private discovery (README "Design: private discovery"): whether the username with this lookup
   * hash exists, and its encoded identity key. Sent with NO credential, so the host cannot tie
   * the lookup to who asked; spends no prekey.
   */
  lookup(hash: Uint8Array): Promise<LookupAnswer>;
  /** A bundle for `username` (each one-time prekey served once); NoSuchUser if unknown. */
  fetchBundle(auth: HostAuth, username: Username): Promise<PreKeyBundle>;
  preKeyCounts(auth: HostAuth): Promise<PreKeyCounts>;
  uploadPreKeys(auth: HostAuth, upload: PreKeyUpload): Promise<void>;
  /** Resolves once the host has stored the envelope durably. */
  send(auth: HostAuth, to: Username, body: Uint8Array): Promise<void>;
  ack(auth: HostAuth, serverId: string): Promise<void>;
  /** Opens the live channel; the host then pushes every unacked envelope, then new ones. */
  connect(auth: HostAuth, sink: InboxSink): void;
  disconnect(): void;
  /** Forgets any host credential it keeps (P46: a locked or removed vault keeps no bearer token). */
  forget?(): void;
  /**
   * PIN recovery (DESIGN.md §7): the sealed account record, authorised by the access key (and a token
   * to write); the takeover public key is fixed with the record (P37).
   */
  putAccountRecord?(auth: HostAuth, accessKey: Uint8Array, sealed: Uint8Array, takeoverKey: Uint8Array): Promise<void>;
  /** The sealed record, or undefined when there is none for this key. */
  getAccountRecord?(username: Username, accessKey: Uint8Array): Promise<Uint8Array | undefined>;
  deleteAccountRecord?(auth: HostAuth, accessKey: Uint8Array): Promise<void>;
  /**
   * A restored browser replaces every prekey and signs the old browser out (same identity);
   * `prove` signs the host's challenge with the takeover key (P37).
   */
  takeover?(auth: HostAuth, prekeys: PreKeyUpload & { signedPreKey: SignedPreKeyPublic }, prove: (challenge: Uint8Array) => Uint8Array): Promise<void>;
  /** Registration tokens for the pinned realms, in the order given (P38). */
  realmTokens?(auth: HostAuth, realmIds: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /**
   * Groups (README "Groups"): one upload of a sender-key message that the host stores in each
   * listed member's mailbox (P20: its type byte is the group one, never a 1:1 envelope's).
   */
  groupSend?(auth: HostAuth, to: readonly Username[], body: Uint8Array): Promise<void>;
  /**
   * The encrypted group state blob at `address`; replacing it needs the master key's write token.
   * Both carry no account (the address and token are the capabilities), so the host cannot list
   * who reads or writes a group's state.
   */
  putGroupBlob?(address: Uint8Array, writeToken: Uint8Array, sealed: Uint8Array, nextToken?: Uint8Array): Promise<void>;
  /** The blob at `address`, or undefined when there is none. */
  getGroupBlob?(address: Uint8Array): Promise<Uint8Array | undefined>;
  /** One request with a bearer token, its answer unread (attachment uploads, blob-stream.ts); optional for test hosts. */
  authedFetch?(auth: HostAuth, path: string, init?: RequestInit): Promise<Response>;
  /**
   * One request that names no account, its answer unread: no bearer and no credentials, so the
   * browser keeps it off the connections that carry the account's (attachment downloads, P41).
   */
  anonymousFetch?(path: string, init?: RequestInit): Promise<Response>;
  /** Calls (DESIGN.md §6): ICE servers with short-lived TURN credentials; optional for test hosts. */
  iceServers?(auth: HostAuth): Promise<IceServers>;
  /** Sealed sender (P41): the trust root the host serves (pinned on first use when the build pins none). */
  sealedTrust?(): Promise<SealedSenderTrust>;
  /** A fresh encoded SenderCertificate for the signed-in account. */
  senderCertificate?(auth: HostAuth): Promise<Uint8Array>;
  /** Sets the account's encoded SealedAccess (delivery-token verifier, "sealed from anyone"). */
  putSealedAccess?(auth: HostAuth, access: Uint8Array): Promise<void>;
  /**
   * Sends a sealed envelope over a connection NOT authenticated as anyone, with the recipient's
   * delivery token; resolves once stored. Refused without a valid token (InvalidSignature).
   */
  sendSealed?(to: Username, body: Uint8Array, token: Uint8Array | undefined): Promise<void>;
  /**
   * Sealed sender v2 (P41): one unauthenticated upload of a multi-recipient sealed envelope with a
   * delivery token per recipient (wire/sealed-multi-api.ts); the host fans it out with no sender.
   * Refused whole if any token fails (InvalidSignature).
   */
  sendSealedMulti?(upload: Uint8Array): Promise<void>;
}

