/**
 * The instance bus (bus-port.ts) of a host that is the only instance (SQLite): no other instance
 * commits envelopes, and a takeover's sockets are all in this process, where account-record.ts
 * closes them itself. So nothing is ever delivered here. Knows nothing.
 */
import type { InstanceBus } from './bus-port';

export function localBus(): InstanceBus {
  return {
    origin: 'local',
    onMailboxes: () => {},
    onResync: () => {},
    onSignOut: () => {},
    close: async () => {}
  };
}
