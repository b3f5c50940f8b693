/**
 * One realm request -> one response, applied to one user's row inside one storage transaction
 * (DESIGN.md §7, SECURITY.md P23, P38). The guess counting and the delays are the pure state
 * machine in `src/lib/crypto/pin/realm.ts`; this module only loads the state, calls it and stores
 * the result.
 *
 * Authorisation (see `realm-auth.ts`, `realm-token.ts`): a first registration needs a registration
 * token from one of the configured issuers (the app's host issues it to the signed-in account
 * holder), so nobody can squat a user id; replacing an existing registration (or its tombstone)
 * and deleting need the current auth key, checked in constant time against the stored verifier.
 * A user-requested deletion keeps a tombstone with the verifier, so nobody else can register
 * under that user id afterwards.
 */
import { isProtocolError } from '../../lib/codec/errors';
import type { Deps } from '../../lib/crypto/deps';
import { constantTimeEqual } from '../../lib/crypto/pin/group';
import { realmAuthVerifier } from '../../lib/crypto/pin/realm-auth';
import { realmTokenValid } from '../../lib/crypto/pin/realm-token';
import { realmCheckUnlockTag, realmDelete, realmEvaluate, realmHealth, realmRegister } from '../../lib/crypto/pin/realm';
import type { RealmRequest, RealmResponse } from '../../lib/wire/realm-api';
import type { RealmStorage, UserRow } from '../storage/realm-port';

export interface Applied {
  response: RealmResponse;
  /** A record was destroyed or deleted: its old bytes should be scrubbed from the WAL. */
  destroyed: boolean;
}

/** What a realm needs besides the request: who may issue registration tokens, and its id. */
export interface RealmPolicy {
  realmId: Uint8Array;
  /** Ed25519 public keys whose registration tokens this realm accepts. */
  issuers: readonly Uint8Array[];
}

const authorised = (row: UserRow, proof: Uint8Array): boolean => constantTimeEqual(realmAuthVerifier(proof), row.verifier);

type Step = { write?: UserRow; result: Applied };
const answer = (response: RealmResponse, write?: UserRow, destroyed = false): Step => ({ write, result: { response, destroyed } });

function step(q: RealmRequest, row: UserRow | undefined, policy: RealmPolicy, deps: Deps): Step {
  switch (q.op) {
    case 'register': {
      if (row && !authorised(row, q.proof)) return answer({ op: q.op, status: 'unauthorized' });
      if (!row && !(q.token && realmTokenValid(q.token, policy.issuers, policy.realmId, q.userId, deps.now()))) {
        return answer({ op: q.op, status: 'unauthorized' });
      }
      return answer({ op: q.op, status: 'ok' }, { verifier: realmAuthVerifier(q.authKey), state: realmRegister(q.record) }, row !== undefined);
    }
    case 'delete': {
      if (!row) return answer({ op: q.op, status: 'notRegistered' });
      if (!authorised(row, q.proof)) return answer({ op: q.op, status: 'unauthorized' });
      return answer({ op: q.op, status: 'ok' }, { verifier: row.verifier, state: realmDelete(row.state) }, true);
    }
    case 'status': {
      const state = row ? row.state.status : 'none';
      const health = row ? realmHealth(row.state, deps.now()) : { remaining: 0, wrongGuesses: 0, failingSince: null, retryAfterMs: 0 };
      return answer({ op: q.op, status: 'ok', state, ...health });
    }
    case 'evaluate': {
      if (!row) return answer({ op: q.op, status: 'notRegistered' });
      const r = realmEvaluate(row.state, q.blindedElement, deps);
      if (r.outcome === 'tooSoon') return answer({ op: q.op, status: 'tooSoon', retryAfterMs: r.retryAfterMs });
      const write = { verifier: row.verifier, state: r.state };
      if (r.outcome === 'destroyed') return answer({ op: q.op, status: 'destroyed' }, write, row.state.status !== 'destroyed');
      return answer({ op: q.op, status: 'ok', evaluation: r.response }, write);
    }
    case 'submitTag': {
      if (!row) return answer({ op: q.op, status: 'notRegistered' });
      if (row.state.status === 'registered' && !row.state.evaluationPending) return answer({ op: q.op, status: 'noPendingEvaluation' });
      const r = realmCheckUnlockTag(row.state, q.unlockTag);
      const write = { verifier: row.verifier, state: r.state };
      if (r.outcome === 'destroyed') return answer({ op: q.op, status: 'destroyed' }, write, row.state.status !== 'destroyed');
      if (r.outcome === 'wrong') return answer({ op: q.op, status: 'wrongGuess', remaining: r.remaining }, write);
      return answer({ op: q.op, status: 'ok', remaining: r.remaining, share: r.share! }, write);
    }
  }
}

/** Applies a decoded request atomically. A protocol error inside rolls back and is a bad request. */
export async function applyRealmRequest(store: RealmStorage, q: RealmRequest, policy: RealmPolicy, deps: Deps): Promise<Applied> {
  try {
    return await store.transact(q.userId, (row) => step(q, row, policy, deps));
  } catch (e) {
    if (isProtocolError(e)) return { response: { op: q.op, status: 'badRequest' }, destroyed: false };
    throw e;
  }
}
