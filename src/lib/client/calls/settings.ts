/**
 * Call settings kept on this device (localStorage; nothing secret):
 * - "relay calls to hide my IP address" (P29): iceTransportPolicy 'relay', so the other side only
 *   ever sees the TURN server's address. Needs a TURN server configured on the host.
 * - the ring timeout (45 s) and the connect timeout (30 s, answer to verified connection); tests
 *   shorten them through the same keys.
 */
const RELAY_KEY = 'parley:relayCalls';
const RING_KEY = 'parley:ringTimeoutMs';
const CONNECT_KEY = 'parley:connectTimeoutMs';
export const DEFAULT_RING_TIMEOUT_MS = 45_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

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

function storedMs(key: string, fallback: number): number {
  const v = Number(storage()?.getItem(key));
  return Number.isFinite(v) && v >= 1000 && v <= 120_000 ? v : fallback;
}

export function ringTimeoutMs(): number {
  return storedMs(RING_KEY, DEFAULT_RING_TIMEOUT_MS);
}

export function connectTimeoutMs(): number {
  return storedMs(CONNECT_KEY, DEFAULT_CONNECT_TIMEOUT_MS);
}
