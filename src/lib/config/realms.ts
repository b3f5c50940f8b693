/**
 * The pinned list of PIN-recovery realms (DESIGN.md §7): fixed when the app is built, never
 * fetched from the host at runtime — a host that could swap realms could collect the shares.
 *
 * Default: one realm named "parley" at the app's own origin under /realm/ (what `npm start`
 * mounts inside the host), threshold 1. A deployment overrides it at BUILD time with
 *   VITE_PARLEY_REALMS='{"threshold":2,"realms":[{"name":"a","url":"https://a.example/realm/"},...]}'
 * Order matters: it fixes each realm's share index, so changing the list (or the threshold)
 * orphans every existing registration. Realm ids are derived from the names (realm-auth.ts).
 *
 * Whether a short PIN may protect the backup depends on this list (SECURITY.md P38,
 * `realmIndependence`): only with at least 2-of-3 realms, every one on its own origin and none on
 * the app's, can no single operator guess offline. Distinct origins are the closest thing to
 * "independent operators" a build can check; the deployment must make them so. The host adds the
 * realms' origins to its CSP connect-src (src/host/static.ts) from the same variable.
 */
import { realmIdFromName } from '../crypto/pin/realm-auth';

export interface PinnedRealm {
  /** The name the realm runs with (`npm run realm -- --id NAME`); its id is derived from it. */
  name: string;
  /** Absolute URL, or a path on the app's own origin, of the realm's endpoint. */
  url: string;
}

export interface RealmConfig {
  threshold: number;
  realms: readonly PinnedRealm[];
}

export const DEFAULT_REALM_CONFIG: RealmConfig = Object.freeze({
  threshold: 1,
  realms: Object.freeze([Object.freeze({ name: 'parley', url: '/realm/' })])
});

/** Strict parse of the build-time JSON; a malformed value fails the app at startup, loudly. */
export function parseRealmConfig(json: string): RealmConfig {
  const bad = (why: string): never => {
    throw new Error(`VITE_PARLEY_REALMS: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null) return bad('not an object');
  const { threshold, realms } = raw as { threshold?: unknown; realms?: unknown };
  if (!Array.isArray(realms) || realms.length < 1 || realms.length > 16) return bad('realms must be a list of 1..16');
  const list = realms.map((r: unknown, i): PinnedRealm => {
    const { name, url } = (r ?? {}) as { name?: unknown; url?: unknown };
    if (typeof name !== 'string' || name.length < 1 || name.length > 64) return bad(`realm ${i}: name must be 1..64 characters`);
    if (typeof url !== 'string' || !(url.startsWith('/') || /^https?:\/\//.test(url))) return bad(`realm ${i}: url must be absolute or start with /`);
    return Object.freeze({ name, url });
  });
  if (new Set(list.map((r) => r.name)).size !== list.length) return bad('duplicate realm names');
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1 || threshold > list.length) {
    return bad(`threshold must be an integer in 1..${list.length}`);
  }
  return Object.freeze({ threshold, realms: Object.freeze(list) });
}

/** The realm list a Node process (the host) was started with: the same variable the build read. */
export function realmConfigFromEnv(env: Record<string, string | undefined>): RealmConfig {
  const json = env.VITE_PARLEY_REALMS;
  return json ? parseRealmConfig(json) : DEFAULT_REALM_CONFIG;
}

/** Each realm's origin, relative URLs resolved against the app's origin. */
export function realmOrigins(config: { realms: readonly { url: string }[] }, appOrigin: string): string[] {
  return config.realms.map((r) => new URL(r.url, appOrigin).origin);
}

export type RealmIndependence = { independent: true } | { independent: false; reason: string };

/** Minimum threshold and realm count at which a short PIN is offered (P38). */
export const MIN_INDEPENDENT_THRESHOLD = 2;
export const MIN_INDEPENDENT_REALMS = 3;

/**
 * Whether the pinned realms are independent enough for a short PIN: threshold >= 2 of >= 3 realms,
 * all on distinct origins, none on the app's own origin (whose operator also holds the account
 * records). Otherwise one operator's database is enough to test every short PIN offline, and the
 * app asks for a strong passphrase or a generated recovery key instead (secret-policy.ts).
 */
export function realmIndependence(config: { threshold: number; realms: readonly { url: string }[] }, appOrigin: string): RealmIndependence {
  const app = new URL(appOrigin).origin;
  const origins = realmOrigins(config, app);
  if (config.threshold < MIN_INDEPENDENT_THRESHOLD || config.realms.length < MIN_INDEPENDENT_REALMS) {
    return { independent: false, reason: `${config.threshold}-of-${config.realms.length} realms: a short PIN needs at least ${MIN_INDEPENDENT_THRESHOLD}-of-${MIN_INDEPENDENT_REALMS}` };
  }
  if (origins.includes(app)) return { independent: false, reason: 'a realm runs on the app’s own origin' };
  if (new Set(origins).size !== origins.length) return { independent: false, reason: 'two realms share an origin' };
  return { independent: true };
}

const fromBuild = import.meta.env?.VITE_PARLEY_REALMS as string | undefined;

/** The realm configuration this build of the app uses. */
export const PINNED_REALM_CONFIG: RealmConfig = fromBuild ? parseRealmConfig(fromBuild) : DEFAULT_REALM_CONFIG;
export const PINNED_REALMS: readonly PinnedRealm[] = PINNED_REALM_CONFIG.realms;
export const PINNED_THRESHOLD: number = PINNED_REALM_CONFIG.threshold;

/** Realm ids and URLs for the recovery driver (needs libsodium initialised). */
export function pinnedRealmEndpoints(config: RealmConfig = PINNED_REALM_CONFIG): { id: Uint8Array; url: string }[] {
  return config.realms.map((r) => ({ id: realmIdFromName(r.name), url: r.url }));
}
