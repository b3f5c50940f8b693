/**
 * Anonymous username lookups (README "Design: private discovery"; route in
 * src/lib/wire/discovery-api.ts): anyone, signed in or not, asks whether a lookup hash belongs to
 * an account and learns "exists" and the account's public identity key, nothing more (no bundle,
 * no prekey spent, no near matches). The request names no account, so the host cannot tie a
 * lookup to who searched, and carries no name, only its memory-hard hash. Lookups are
 * rate-limited per client address (P40), which with the exact-match rule bounds enumeration to
 * guesses of full names; the identity key adds nothing for a guesser (the bundle of a name that
 * exists carries it too). Past that limit a lookup that brings a proof of work for its own hash
 * and the current minute (lookup-work.ts) is admitted, once per proof and at most
 * `discoveryWorkPerMinute` a minute across instances: people sharing one address (a carrier NAT)
 * can still look someone up, at a second of CPU each.
 *
 * The index is fed by registrations (`prepare`) and, from startup on, by the fill: every account
 * whose identity the index does not hold yet (an empty index, an indexing that failed, or entries
 * from before identities were kept) is hashed into it, in the background while the host serves.
 * Until the fill is done, a lookup the index cannot answer is "try again shortly" (503), never
 * "no such user". The hashes are made on the host's hashing thread (lookup-hasher.ts), one fill
 * hash at a time so registrations never wait behind more than one, never on the event loop.
 * Knows nothing of sockets or mailboxes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { toBase64Url } from '../lib/codec/base64url';
import { LOOKUP_WORK_SLOT_MS, checkLookupWork, lookupWorkSlot } from '../lib/crypto/lookup-work';
import { DISCOVERY_PATH, WORK_CHALLENGE_HEADER, WORK_PROOF_HEADER, encodeLookupAnswer, encodeWorkChallenge, parseLookupHash, parseWorkProof } from '../lib/wire/discovery-api';
import { addressBucket, siteBucket } from './client-address';
import { HostError, clientIp, sendJson } from './http-util';
import type { Limits } from './limits';
import { localLimiters, type LimiterMaker } from './store-limiter';
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
   * The fill: reads the accounts and the index and resolves with how many accounts the index
   * lacks (`todo`); `done` then hashes them into it in the background (about 20 ms each:
   * memory-hard), drops entries still without an identity (v1 entries whose account is gone),
   * and resolves with how many were hashed, or rejects if the store or the thread failed (the
   * next startup tries again).
   */
  fill(accounts: () => Promise<{ username: string; identity: Uint8Array }[]>): Promise<{ todo: number; done: Promise<number> }>;
  /** Stops a fill under way after its current hash and waits for it. */
  close(): Promise<void>;
}

/** How long a client is asked to wait when the fill has not reached the name yet. */
const FILL_RETRY_MS = 2000;

export function createDiscovery(store: DiscoveryIndex, limits: Limits, clock: () => number, hasher: LookupHasher, limiter: LimiterMaker = localLimiters(clock)): Discovery {
  const perIp = limiter('discovery-ip', limits.discoveryPerIp);
  const perSite = limiter('discovery-site', limits.discoveryPerSite);
  const work = workAdmission(limits, clock, limiter);
  let filling: Promise<number> | undefined;
  let stopped = false;
  /** The fill yields to registrations: a hash the full thread refuses is asked again a moment later. */
  async function hashWhenFree(username: string): Promise<Uint8Array> {
    for (;;) {
      try {
        return await hasher.hash(username);
      } catch (e) {
        if (stopped || !(e instanceof HostError && e.status === 503)) throw e;
        await new Promise((r) => setTimeout(r, FILL_RETRY_MS));
      }
    }
  }
  return {
    async handle(req, res, path) {
      if (!path.startsWith(DISCOVERY_PATH)) return false;
      if (req.method !== 'GET') throw new HostError(405, 'BadRequest', 'lookups answer GET');
      let hash: Uint8Array;
      try {
        hash = parseLookupHash(path.slice(DISCOVERY_PATH.length));
      } catch (e) {
        if (isProtocolError(e)) throw new HostError(400, 'BadRequest', e.message);
        throw e;
      }
      // One IPv6 /64 is one address: a host's own /64 must not buy 2^64 lookup budgets, nor a
      // /48 65,536 of them (P40). Past either, only proof of work admits a lookup.
      const ip = clientIp(req);
      const site = siteBucket(ip);
      const wait = Math.max(await perIp.hit(addressBucket(ip)), site ? await perSite.hit(site) : 0);
      if (wait) await work.admit(hash, req.headers[WORK_PROOF_HEADER.toLowerCase()], wait);
      const found = await store.find(hash);
      // Mid-fill, a miss may be an account not hashed yet: "not found" would be a lie.
      if (filling && !found) throw new HostError(503, 'Unavailable', 'the lookup index is being rebuilt; try again shortly', FILL_RETRY_MS);
      sendJson(res, 200, encodeLookupAnswer(found === undefined ? { exists: false } : found === null ? { exists: true } : { exists: true, identity: found }));
      return true;
    },
    async prepare(username) {
      const hash = await hasher.hash(username);
      return { add: (identity) => store.add(hash, identity) };
    },
    async fill(accounts) {
      // What to do is decided before the host listens (reading, no hashing), so a lookup made
      // once it listens never meets an index about to be declared incomplete.
      const all = await accounts();
      const held = new Set((await store.identities()).map(toBase64Url));
      const todo = all.filter((a) => !held.has(toBase64Url(a.identity)));
      if (todo.length === 0 && (await store.missingIdentities()) === 0) return { todo: 0, done: Promise.resolve(0) };
      const run = (async () => {
        let hashed = 0;
        for (const a of todo) {
          if (stopped) return hashed;
          await store.add(await hashWhenFree(a.username), a.identity);
          hashed++;
        }
        await store.dropIncomplete();
        return hashed;
      })();
      filling = run;
      const finished = () => {
        if (filling === run) filling = undefined;
      };
      run.then(finished, finished);
      return { todo: todo.length, done: run };
    },
    async close() {
      stopped = true;
      await filling?.catch(() => undefined);
    }
  };
}

/**
 * Lookups past the per-address limit, admitted by proof of work: each proof once (counted for the
 * two minutes it is valid), at most `discoveryWorkPerMinute` a minute; both counted on the shared
 * store, so across every instance. Anything else is the 429 it was, carrying a fresh challenge.
 */
function workAdmission(limits: Limits, clock: () => number, limiter: LimiterMaker) {
  const proofs = limiter('discovery-proof', { max: 1, windowMs: 2 * LOOKUP_WORK_SLOT_MS });
  const budget = limiter('discovery-work', { max: limits.discoveryWorkPerMinute, windowMs: LOOKUP_WORK_SLOT_MS });
  return {
    async admit(hash: Uint8Array, header: string | string[] | undefined, wait: number): Promise<void> {
      const bits = limits.discoveryWorkBits;
      const slot = lookupWorkSlot(clock());
      const refuse = (why: string): never => {
        const headers: Record<string, string> = bits > 0 ? { [WORK_CHALLENGE_HEADER]: encodeWorkChallenge({ bits, slot }) } : {};
        throw new HostError(429, 'RateLimited', `too many lookups from this address${why}`, wait, headers);
      };
      if (bits === 0 || typeof header !== 'string') return refuse('');
      let proof: ReturnType<typeof parseWorkProof>;
      try {
        proof = parseWorkProof(header);
      } catch {
        return refuse(' (malformed proof of work)');
      }
      if (proof.slot !== slot && proof.slot !== slot - 1) return refuse(' (proof of work for another minute)');
      if (!checkLookupWork(hash, proof.slot, proof.nonce, bits)) return refuse(' (proof of work does not hold)');
      // Only proofs that hold are counted: garbage cannot spend the budget or fill the store.
      if (await proofs.hit(`${toBase64Url(hash)}.${header}`)) return refuse(' (proof of work already used)');
      if (await budget.hit('all')) return refuse(' (no more lookups by proof of work this minute)');
    }
  };
}
