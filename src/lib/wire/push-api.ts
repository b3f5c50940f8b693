/**
 * The host's Web Push endpoints (src/host/push/; README "Web Push with the tab closed"): routes
 * and bounds shared by the host, the vault worker and the page.
 *
 *   GET    /api/v1/push/key                                   -> {publicKey}  the VAPID key (base64url)
 *   PUT    /api/v1/push/subscription (bearer, JSON {endpoint}) -> 204   registers or refreshes
 *   DELETE /api/v1/push/subscription (bearer, JSON {endpoint}) -> 204   404 if the account has none such
 *
 * A push carries no payload: it only wakes the service worker, which shows "New message" and
 * never anything it would need the vault's keys for.
 */
export const PUSH_API = { key: '/api/v1/push/key', subscription: '/api/v1/push/subscription' } as const;

/** Longest endpoint URL accepted (real push services use under 600 characters). */
export const MAX_PUSH_ENDPOINT_CHARS = 1024;
/** Endpoints kept per account (one per browser); registering one more drops the oldest. */
export const MAX_PUSH_SUBSCRIPTIONS = 4;

export interface PushKey {
  publicKey: string;
}
export interface PushSubscriptionBody {
  endpoint: string;
}
