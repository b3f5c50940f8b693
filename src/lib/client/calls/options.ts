/**
 * What the call controller is given from outside (DESIGN.md §6): the port to the vault
 * (the ratchet and the call log live in the vault worker) and the tunable options with their
 * defaults. Types and defaults only; knows nothing of PeerJS, ringing or Svelte state.
 */
import type { CallEnding, CallLogEntry, IceServers } from '../../vault/views';
import type { Username } from '../../codec/username';
import type { SignallingServer } from './peer';
import { startRingtone, type Ringtone } from './ringtone';
import type { TabCalls } from './tab-calls';

/** What the controller needs from the vault (VaultClient in the app; fakes in harnesses). */
export interface CallPort {
  send(username: Username, signal: Uint8Array): Promise<void>;
  record(username: Username, entry: CallLogEntry): Promise<void>;
  /**
   * Tells the vault how the call on screen ends should it lock first (another tab's Lock now):
   * it then hangs up and logs the call itself, before its keys go. Undefined: no call to end.
   */
  armLockEnding?(username: Username, ending: CallEnding | undefined): Promise<void>;
  iceServers(): Promise<IceServers>;
  /**
   * `contact`: the vault counts the sender as someone we wrote to or accepted (P42); anyone else's
   * call goes relay-only when the host offers TURN. Absent means not a contact.
   */
  onSignal(listener: (username: Username, signal: Uint8Array, contact?: boolean) => void): () => void;
  /** Whether we wrote to or accepted `username` (P42); absent means no one is. */
  isContact?(username: Username): Promise<boolean>;
}

export interface CallOptions {
  ringTimeoutMs?: number;
  relayOnly?: () => boolean;
  /** How long "ICE disconnected" may last before the call ends cleanly (default 8 s). */
  dropGraceMs?: number;
  /** From answer to verified connection (default 30 s). */
  connectTimeoutMs?: number;
  /** How long the "call ended" screen stays (default 4 s; 0 = until dismissed). */
  endedLingerMs?: number;
  signalling?: SignallingServer;
  now?: () => number;
  rng?: (n: number) => Uint8Array;
  ringtone?: () => Ringtone;
  /** The account's other tabs: the first tab to accept or decline takes the call (tab-calls.ts). */
  tabs?: TabCalls;
}

export type ResolvedCallOptions = Required<Omit<CallOptions, 'signalling' | 'tabs'>> & { signalling?: SignallingServer; tabs?: TabCalls };

export function withDefaults(opts: CallOptions): ResolvedCallOptions {
  return {
    ringTimeoutMs: opts.ringTimeoutMs ?? 45_000,
    relayOnly: opts.relayOnly ?? (() => false),
    dropGraceMs: opts.dropGraceMs ?? 8000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
    endedLingerMs: opts.endedLingerMs ?? 4000,
    signalling: opts.signalling,
    tabs: opts.tabs,
    now: opts.now ?? Date.now,
    rng: opts.rng ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
    ringtone: opts.ringtone ?? startRingtone
  };
}
