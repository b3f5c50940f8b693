/**
 * Anonymous username lookups (README "Design: private discovery"; route in
 * src/lib/wire/discovery-api.ts): anyone, signed in or not, asks whether a lookup hash belongs to
 * an account and learns "exists" and the account's public identity key, nothing more (no bundle,
 * no prekey spent, no near matches). The request names no account, so the host cannot tie a
 * lookup to who searched, and carries no name, only its memory-hard hash. Lookups are
 * rate-limited per client address (P40), which with the exact-match rule bounds enumeration to
 * guesses of full names; the identity key adds nothing for a guesser (the bundle of a name that
 * exists carries it too).
 *
 * The index is fed by registrations (`prepare`) and, at startup, from the accounts in the host's
 * database when the index does not match them (empty, an indexing that failed, or entries from
 * before identities were kept: the fill). The hashes are made on the host's hashing thread
 * (lookup-hasher.ts), never on the event loop. Knows nothing of sockets or mailboxes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { DISCOVERY_PATH, encodeLookupAnswer, parseLookupHash } from '../lib/wire/discovery-api';
import { HostError, clientIp, sendJson } from './http-util';
import type { Limits } from './limits';
import { createLimiter } from './rate-limit';
import type { DiscoveryIndex } from './storage/discovery-port';
import type { LookupHasher } from './lookup-hasher';

export interface Discovery {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /**
   * A registration's first step: the name's lookup hash, made on the hashing thread before the
   * account exists, so a registration the thread cannot take now (503) creates nothing. `add`
   * then indexes the account that was created.
   */
  prepare(username: string): Promise<{ add(identity: Uint8Array): Promise<void> }>;
  /**
   * The fill: when the index does not hold as many entries as there are accounts (empty, or a
   * registration whose indexing failed) or has entries without an identity, hashes every account
   * into it (about 20 ms each: memory-hard), then drops entries still without one. Returns how
   * many accounts were hashed (0 when nothing was to do).
   */
  migrate(accounts: () => Promise<{ username: string; identity: Uint8Array }[]>): Promise<number>;
}

export function createDiscovery(store: DiscoveryIndex, limits: Limits, clock: () => number, hasher: LookupHasher): Discovery {
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
      const found = await store.find(hash);
      sendJson(res, 200, encodeLookupAnswer(found === undefined ? { exists: false } : found === null ? { exists: true } : { exists: true, identity: found }));
      return true;
    },
    async prepare(username) {
      const hash = await hasher.hash(username);
      return { add: (identity) => store.add(hash, identity) };
    },
    async migrate(accounts) {
      const all = await accounts();
      if ((await store.size()) === all.length && (await store.missingIdentities()) === 0) return 0;
      for (const a of all) await store.add(await hasher.hash(a.username), a.identity);
      await store.dropIncomplete();
      return all.length;
    }
  };
}
