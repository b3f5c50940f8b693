/**
 * What host instances tell each other (DESIGN.md §5 "Delivery", §7 takeover), beside the store
 * (port.ts): which mailboxes another instance just committed envelopes to, so an instance holding
 * a recipient's socket reads them from the store and pushes them; and which accounts were taken
 * over, so every instance closes the old browser's sockets (P37). Messages carry usernames only:
 * never envelope ids, senders or bodies. They are hints: a missed one delays a push until the
 * next hint or reconnect, never loses an envelope, and after a gap `onResync` says "assume you
 * missed something" so the hub re-reads every connected mailbox.
 *
 * Adapters: in-process (local-bus.ts, one SQLite host) and PostgreSQL LISTEN/NOTIFY (pg/bus.ts).
 * Knows nothing of sockets or SQL.
 */
export interface InstanceBus {
  /** This instance's id: the mailbox NOTIFYs it causes carry it, so it skips its own. */
  readonly origin: string;
  /** Recipient usernames another instance committed envelopes to. */
  onMailboxes(f: (usernames: string[]) => void): void;
  /** The bus was not listening for a while (reconnect): notifications may have been missed. */
  onResync(f: () => void): void;
  /** An account was taken over (on any instance, this one included): close its sockets. */
  onSignOut(f: (username: string) => void): void;
  close(): Promise<void>;
}

/** Channel names (PostgreSQL identifiers) shared by the store's NOTIFYs and the bus's LISTENs. */
export const MAILBOX_CHANNEL = 'parley_mailbox';
export const SIGNOUT_CHANNEL = 'parley_signout';
