/**
 * ICE configuration for calls (DESIGN.md §6; SECURITY.md P29): STUN/TURN servers come from host
 * configuration, and TURN credentials are short-lived, minted per authenticated account with
 * coturn's REST shared-secret scheme (`use-auth-secret` / `static-auth-secret` in turnserver.conf):
 *
 *   username   = `${expiry unix seconds}:${random}`
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * coturn recomputes the HMAC and refuses the username once its expiry has passed, so a leaked
 * credential is useless after the TTL. The random part carries no account name: the TURN server
 * never learns who calls (DESIGN.md §9). Knows nothing of HTTP or PeerJS.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface IceConfig {
  /** STUN (and static TURN) servers from ICE_SERVERS, a JSON array of RTCIceServer. */
  iceServers: IceServer[];
  /** TURN URLs (TURN_URLS, comma separated) that get minted credentials. */
  turnUrls: string[];
  /** coturn static-auth-secret (TURN_SECRET); no TURN credentials without it. */
  turnSecret?: string;
  /** Credential lifetime in seconds (TURN_TTL, default 600). */
  ttlSeconds: number;
}

export const DEFAULT_TURN_TTL_S = 600;

function isIceServer(v: unknown): v is IceServer {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const urls = o.urls;
  const okUrl = (u: unknown) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u);
  const urlsOk = Array.isArray(urls) ? urls.length > 0 && urls.every(okUrl) : okUrl(urls);
  return urlsOk && (o.username === undefined || typeof o.username === 'string') && (o.credential === undefined || typeof o.credential === 'string');
}

/** Reads ICE_SERVERS / TURN_URLS / TURN_SECRET / TURN_TTL; a malformed value is a startup error. */
export function iceConfigFromEnv(env: Record<string, string | undefined>): IceConfig {
  let iceServers: IceServer[] = [];
  if (env.ICE_SERVERS) {
    const parsed: unknown = JSON.parse(env.ICE_SERVERS);
    if (!Array.isArray(parsed) || !parsed.every(isIceServer)) throw new Error('ICE_SERVERS must be a JSON array of {urls, username?, credential?}');
    iceServers = parsed;
  }
  const turnUrls = (env.TURN_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!turnUrls.every((u) => /^turns?:/.test(u))) throw new Error('TURN_URLS must be turn: or turns: URLs');
  const ttlSeconds = env.TURN_TTL ? Number(env.TURN_TTL) : DEFAULT_TURN_TTL_S;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 86_400) throw new Error(`TURN_TTL ${env.TURN_TTL} is not 60..86400 seconds`);
  return { iceServers, turnUrls, turnSecret: env.TURN_SECRET || undefined, ttlSeconds };
}

/** coturn REST credentials valid until now + ttl. */
export function mintTurnCredential(secret: string, nowMs: number, ttlSeconds: number, random: Uint8Array = randomBytes(12)): { username: string; credential: string; expiresAt: number } {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${Buffer.from(random).toString('base64url')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt: expiry * 1000 };
}

/** What an authenticated client receives: the static servers plus freshly minted TURN entries. */
export function iceServersFor(config: IceConfig, nowMs: number): { iceServers: IceServer[]; expiresAt: number | null } {
  const out = [...config.iceServers];
  let expiresAt: number | null = null;
  if (config.turnSecret && config.turnUrls.length > 0) {
    const c = mintTurnCredential(config.turnSecret, nowMs, config.ttlSeconds);
    out.push({ urls: config.turnUrls, username: c.username, credential: c.credential });
    expiresAt = c.expiresAt;
  }
  return { iceServers: out, expiresAt };
}
