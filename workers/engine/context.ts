/**
 * What every engine module shares: the vault, the host transport, deps, the event hub, the
 * loaded identity, and `serial` — the one queue every ratchet-touching step runs through, so a
 * receive and a send never load the same session at once (within one tab; across tabs, lock.ts).
 */
import type { Deps } from '../../src/lib/crypto/deps';
import type { IdentityKeyPair } from '../../src/lib/crypto/identity';
import type { PinStretcher } from '../../src/lib/crypto/pin/stretch';
import type { Vault } from '../storage/vault';
import type { FetchLike, RealmEndpoint } from './recovery/realm-client';
import type { EventHub } from './events';
import type { ConnectionState, HostTransport } from './transport';
import type { ProfileTransport } from './profile-transport';
import { engineFail } from './errors';
import type { Username } from '../../src/lib/codec/username';
import type { SealedSenderTrust } from '../../src/lib/crypto/certificates';

/** Test-only fault injection (P12/P34): thrown errors simulate a crash at that step. */
export interface Faults {
  /** Runs inside the receive transaction after the session is written, before it commits. */
  midReceiveCommit?(): void;
  /** Runs after an envelope is committed and before it is acked. */
  beforeAck?(): void;
}

/** PIN recovery configuration (DESIGN.md §7): the pinned realms and how to reach them. */
export interface RecoveryConfig {
  realms: readonly RealmEndpoint[];
  threshold: number;
  fetch: FetchLike;
  /**
   * P38: the realms are independent enough for a short PIN (src/lib/config/realms.ts
   * `realmIndependence`); otherwise only a strong passphrase or a recovery key is accepted.
   */
  independent?: boolean;
  /** Tests only: production always stretches with the pinned Argon2id. */
  stretch?: PinStretcher;
}

export interface Me {
  username: Username;
  identity: IdentityKeyPair;
  /** DESIGN.md §7: set on a browser that restored the account (sent with every host login). */
  device?: Uint8Array;
}

export interface EngineContext {
  vault: Vault;
  transport: HostTransport;
  /** Profile blobs (P43), reached without an account; absent in tests that do not need them. */
  profiles?: ProfileTransport;
  /** Encrypted username links (username-links.ts), the same kind of owner-written blobs. */
  usernameLinks?: ProfileTransport;
  deps: Deps;
  events: EventHub;
  faults: Faults;
  /** PIN recovery (DESIGN.md §7); absent when this engine has no realms configured. */
  recovery?: RecoveryConfig;
  /** Sealed sender's trust root pinned in the build (P41); without it, pinned on first use (sealed-state.ts). */
  sealedTrust?: SealedSenderTrust;
  me?: Me;
  connection: ConnectionState;
  /** True when this tab holds the driver lock and may run ratchets. */
  driver: boolean;
  serial<T>(step: () => Promise<T>): Promise<T>;
  /** Asks the outbox to run soon (after a write, a reconnect or a retry delay). */
  kickOutbox(): void;
  /**
   * Asks for a pass over the deletes the host has not confirmed (blob-withdrawals.ts); `later`:
   * after the retry delay, because the caller's own attempt has just failed.
   */
  kickWithdrawals(later?: boolean): void;
}

export function requireMe(ctx: EngineContext): Me {
  if (!ctx.me) engineFail('NoAccount', 'no account in this vault');
  return ctx.me;
}

/** A promise-chain mutex: steps run one at a time, in call order; a failure does not jam it. */
export function serialQueue(): <T>(step: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(step: () => Promise<T>) => {
    const run = tail.then(step, step);
    tail = run.catch(() => undefined);
    return run;
  };
}
