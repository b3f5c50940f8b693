/**
 * What the host persists for Web Push (README "Web Push with the tab closed"), a sub-port of its
 * own beside port.ts: the host's VAPID key pair (RFC 8292; one per deployment, shared by every
 * instance, because each browser subscription is bound to its public key) and, per account, the
 * push service endpoints its browsers registered (at most a few; the oldest goes first).
 *
 * Only the endpoint URL is kept: pushes carry no payload, so the subscription's encryption keys
 * (p256dh, auth) are never asked for. An endpoint belongs to one account at a time (registering
 * it again from another account moves it). Every method is atomic on its own.
 * Knows nothing of HTTP, VAPID signing or envelopes.
 */

/** A P-256 key pair in web-push's encoding: base64url uncompressed point / 32-byte scalar. */
export interface VapidKeyPair {
  publicKey: string;
  privateKey: string;
}

export interface PushStore {
  getVapidKeys(): Promise<VapidKeyPair | undefined>;
  /** Stores the pair if none is stored (of instances racing at start, the first writer wins). */
  putVapidKeysIfAbsent(keys: VapidKeyPair): Promise<void>;
  /**
   * Registers `endpoint` for `username` (or refreshes it, or moves it from another account), then
   * keeps only the account's `max` newest endpoints; atomic.
   */
  putSubscription(username: string, endpoint: string, now: number, max: number): Promise<void>;
  /** Deletes the account's endpoint; false if the account had no such endpoint. */
  deleteSubscription(username: string, endpoint: string): Promise<boolean>;
  /** Deletes an endpoint whatever account holds it (the push service answered 404/410). */
  dropEndpoint(endpoint: string): Promise<void>;
  /** The account's endpoints, newest first. */
  subscriptions(username: string): Promise<string[]>;
  close(): Promise<void>;
}
