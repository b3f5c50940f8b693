/**
 * One realm request -> one response, applied to one user's row inside one storage transaction
 * (DESIGN.md §7, SECURITY.md P23). The guess counting itself is the pure state machine in
 * `src/lib/crypto/pin/realm.ts`; this module only loads the state, calls it and stores the result.
 *
 * Authorisation (see `realm-auth.ts`): a first registration is accepted from anyone; replacing an
 * existing registration (or its tombstone) and deleting need the current auth key, checked in
 * constant time against the stored verifier. A user-requested deletion keeps a tombstone with
 * the verifier, so nobody else can register under that user id afterwards.
 */
import { isProtocolError } from '../../lib/codec/errors';
import { constantTimeEqual } from '../../lib/crypto/pin/group';
import { realmAuthVerifier } from '../../lib/crypto/pin/realm-auth';
import { realmCheckUnlockTag, realmDelete, realmEvaluate, realmRegister, type RealmState } from '../../lib/crypto/pin/realm';
import type { RealmRequest, RealmResponse } from '../../lib/wire/realm-api';
import type { RealmStore, UserRow } from './store';

export interface Applied {
  response: RealmResponse;
  /** A record was destroyed or deleted: its old bytes should be scrubbed from the WAL. */
  destroyed: boolean;
}

/** Guesses left, counting a pending evaluation as already charged (it will be, unless settled ok). */
function remainingOf(state: RealmState): number {
  if (state.status !== 'registered') return 0;
  return Math.max(0, state.record.guessLimit - state.attempts - (state.evaluationPending ? 1 : 0));
}

const authorised = (row: UserRow, proof: Uint8Array): boolean => constantTimeEqual(realmAuthVerifier(proof), row.verifier);

type Step = { write?: UserRow; result: Applied };
const answer = (response: RealmResponse, write?: UserRow, destroyed = false): Step => ({ write, result: { response, destroyed } });

function step(q: RealmRequest, row: UserRow | undefined): Step {
  switch (q.op) {
    case 'register': {
      if (row && !authorised(row, q.proof)) return answer({ op: q.op, status: 'unauthorized' });
      return answer({ op: q.op, status: 'ok' }, { verifier: realmAuthVerifier(q.authKey), state: realmRegister(q.record) }, row !== undefined);
    }
    case 'delete': {
      if (!row) return answer({ op: q.op, status: 'notRegistered' });
      if (!authorised(row, q.proof)) return answer({ op: q.op, status: 'unauthorized' });
      return answer({ op: q.op, status: 'ok' }, { verifier: row.verifier, state: realmDelete(row.state) }, true);
    }
    case 'status': {
      const state = row ? row.state.status : 'none';
      return answer({ op: q.op, status: 'ok', state, remaining: row ? remainingOf(row.state) : 0 });
    }
    case 'evaluate': {
      if (!row) return answer({ op: q.op, status: 'notRegistered' });
      const r = realmEvaluate(row.state, q.blindedElement);
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
export function applyRealmRequest(store: RealmStore, q: RealmRequest): Applied {
  try {
    return store.transact(q.userId, (row) => step(q, row));
  } catch (e) {
    if (isProtocolError(e)) return { response: { op: q.op, status: 'badRequest' }, destroyed: false };
    throw e;
  }
}
