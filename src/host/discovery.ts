/**
 * Anonymous username lookups (README "Design: private discovery"; route in
 * src/lib/wire/discovery-api.ts): anyone, signed in or not, asks whether a lookup hash belongs to
 * an account and learns "exists" or not, nothing more (no identity, no bundle, no near matches).
 * The request names no account, so the host cannot tie a lookup to who searched, and carries no
 * name, only its memory-hard hash. Lookups are rate-limited per client address (P40), which with
 * the exact-match rule bounds enumeration to guesses of full names.
 *
 * The index is fed by registrations (`index`) and, once, from the accounts already in the host's
 * database when the index is empty (the migration). Knows nothing of sockets or mailboxes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { usernameLookupHash } from '../lib/crypto/username-hash';
import { DISCOVERY_PATH, parseLookupHash } from '../lib/wire/discovery-api';
import { HostError, clientIp, sendJson } from './http-util';
import type { Limits } from './limits';
import { createLimiter } from './rate-limit';
import type { DiscoveryIndex } from './storage/discovery-port';

export interface Discovery {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Adds a newly registered username's hash to the index. */
  index(username: string): Promise<void>;
  /** The one-time migration: hashes every existing account into an empty index. */
  migrate(usernames: () => Promise<string[]>): Promise<number>;
}

export function createDiscovery(store: DiscoveryIndex, limits: Limits, clock: () => number): Discovery {
  const perIp = createLimiter(limits.discoveryPerIp, clock);
  return {
    async handle(req, res, path) {
      if (!path.startsWith(DISCOVERY_PATH)) return false;
      if (req.method !== 'GET') throw new HostError(405, 'BadRequest', 'lookups answer GET');
      const wait = perIp.hit(clientIp(req));
      if (wait) throw new HostError(429, 'RateLimited', 'too many lookups from this address', wait);
      let hash: Uint8Array;
      try {
        hash = parseLookupHash(path.slice(DISCOVERY_PATH.length));
      } catch (e) {
        if (isProtocolError(e)) throw new HostError(400, 'BadRequest', e.message);
        throw e;
      }
      sendJson(res, 200, { exists: await store.has(hash) });
      return true;
    },
    index: (username) => store.add(usernameLookupHash(username)),
    async migrate(usernames) {
      if ((await store.size()) > 0) return 0;
      const names = await usernames();
      for (const u of names) await store.add(usernameLookupHash(u));
      return names.length;
    }
  };
}
