/**
 * Call settings kept on this device (localStorage; nothing secret):
 * - "relay calls to hide my IP address" (P29): iceTransportPolicy 'relay', so the other side only
 *   ever sees the TURN server's address. Needs a TURN server configured on the host.
 * - the ring timeout (45 s; tests shorten it through the same key).
 */
const RELAY_KEY = 'parley:relayCalls';
const RING_KEY = 'parley:ringTimeoutMs';
export const DEFAULT_RING_TIMEOUT_MS = 45_000;

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

export function relayOnly(): boolean {
  return storage()?.getItem(RELAY_KEY) === '1';
}

export function setRelayOnly(on: boolean): void {
  if (on) storage()?.setItem(RELAY_KEY, '1');
  else storage()?.removeItem(RELAY_KEY);
}

export function ringTimeoutMs(): number {
  const v = Number(storage()?.getItem(RING_KEY));
  return Number.isFinite(v) && v >= 1000 && v <= 120_000 ? v : DEFAULT_RING_TIMEOUT_MS;
}
