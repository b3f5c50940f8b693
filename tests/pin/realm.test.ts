import { beforeEach, describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { MAX_DELAY_MS, delayAfter } from '../../src/lib/crypto/pin/guess-delay';
import {
  continueRecovery,
  prepareRegistration,
  realmAttempt,
  realmCheckUnlockTag,
  realmDelete,
  realmEvaluate,
  realmHealth,
  realmRegister,
  startRecovery,
  type RealmState
} from '../../src/lib/crypto/pin/protocol';
import { fastStretch, realms } from './support';

const REALMS = realms(3);
const SECRET = new Uint8Array(32).fill(0x5e);
/** The realms' clock and proof randomness; tests that make many guesses move it past the delays. */
let realmDeps = seededDeps('realm-clock');
beforeEach(() => {
  realmDeps = seededDeps('realm-clock');
});

function registeredRealms(pin = '1357'): RealmState[] {
  const { registrations } = prepareRegistration(
    { username: 'alice', pin, secret: SECRET, realms: REALMS, threshold: 2 },
    seededDeps('realm-register'),
    fastStretch
  );
  return registrations.map((r) => realmRegister(r.record));
}

/** One full guess against all three realms, after waiting out any delay; new states and outcomes. */
function guess(states: RealmState[], pin: string, seed: string) {
  realmDeps.advance(MAX_DELAY_MS);
  const { state, requests } = startRecovery({ username: 'alice', pin, realms: REALMS, threshold: 2 }, seededDeps(seed), fastStretch);
  const next = [...states];
  const responses = [];
  for (const [i, req] of requests.entries()) {
    const r = realmEvaluate(next[i]!, req.blindedElement, realmDeps);
    next[i] = r.state;
    if (r.outcome === 'evaluated') responses.push({ realmId: req.realmId, ...r.response });
  }
  if (responses.length < 2) return { states: next, outcomes: next.map(() => 'destroyed') };
  const combined = continueRecovery(state, responses);
  if (combined.outcome === 'tampered') throw new Error('unreachable: honest realms');
  const outcomes = combined.tags.map((t) => {
    const i = REALMS.findIndex((c) => c.id[0] === t.realmId[0]);
    const r = realmCheckUnlockTag(next[i]!, t.unlockTag);
    next[i] = r.state;
    return r.outcome;
  });
  return { states: next, outcomes, combined: combined.outcome };
}

describe('P23 guess limit (pure realm state machine)', () => {
  const record = () => {
    const s = registeredRealms()[0]!;
    if (s.status !== 'registered') throw new Error('unreachable');
    return s;
  };

  test('P23 10 wrong guesses destroy the share and the right PIN then fails', () => {
    let state: RealmState = record();
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = realmAttempt(state, false);
      remaining.push(r.remaining);
      state = r.state;
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(state).toEqual({ status: 'destroyed' });
    expect(realmAttempt(state, true)).toEqual({ state: { status: 'destroyed' }, outcome: 'destroyed', remaining: 0 });
  });

  test('P23 9 wrong guesses and then the right one reset the counter', () => {
    let state: RealmState = record();
    for (let i = 0; i < 9; i++) state = realmAttempt(state, false).state;
    const ok = realmAttempt(state, true);
    expect(ok.outcome).toBe('ok');
    expect(ok.remaining).toBe(10);
    expect(ok.state.status === 'registered' && ok.state.attempts).toBe(0);
    // After the reset a full new budget of 9 wrong guesses does not destroy it.
    state = ok.state;
    for (let i = 0; i < 9; i++) state = realmAttempt(state, false).state;
    expect(state.status).toBe('registered');
  });

  test('P23 realmAttempt never mutates its input state', () => {
    const state = record();
    const snapshot = structuredClone(state);
    realmAttempt(state, false);
    realmAttempt(state, true);
    expect(state).toEqual(snapshot);
  });

  test('P23 through the protocol: 10 wrong PINs destroy every realm, then the right PIN fails', () => {
    let states = registeredRealms();
    for (let i = 0; i < 9; i++) {
      const g = guess(states, '2468', `wrong-${i}`);
      expect(g.combined).toBe('wrongPin');
      expect(g.outcomes).toEqual(['wrong', 'wrong', 'wrong']);
      states = g.states;
    }
    const tenth = guess(states, '2468', 'wrong-9');
    expect(tenth.outcomes).toEqual(['destroyed', 'destroyed', 'destroyed']);
    expect(tenth.states.every((s) => s.status === 'destroyed')).toBe(true);
    const right = guess(tenth.states, '1357', 'right');
    expect(right.outcomes).toEqual(['destroyed', 'destroyed', 'destroyed']);
  });

  test('P23 through the protocol: 9 wrong PINs and the right one reset every realm', () => {
    let states = registeredRealms();
    for (let i = 0; i < 9; i++) states = guess(states, '2468', `wrong-${i}`).states;
    const right = guess(states, '1357', 'right');
    expect(right.combined).toBe('unlocked');
    expect(right.outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(right.states.map((s) => s.status === 'registered' && s.attempts)).toEqual([0, 0, 0]);
  });

  test('P23 evaluations without tags are charged: 50 back-to-back evaluations yield at most 10', () => {
    // A client that skips the tag step could test its PIN against the returned commitment, so
    // each evaluation must cost a guess; the 11th request finds the share already deleted.
    const { requests } = startRecovery({ username: 'alice', pin: '2468', realms: REALMS, threshold: 2 }, seededDeps('flood'), fastStretch);
    let state = registeredRealms()[0]!;
    let evaluations = 0;
    for (let i = 0; i < 50; i++) {
      realmDeps.advance(MAX_DELAY_MS);
      const r = realmEvaluate(state, requests[0]!.blindedElement, realmDeps);
      state = r.state;
      if (r.outcome === 'evaluated') evaluations++;
    }
    expect(evaluations).toBe(10);
    expect(state).toEqual({ status: 'destroyed' });
  });

  test('a malformed blinded element is refused without charging a guess', () => {
    const state = registeredRealms()[0]!;
    expect(() => realmEvaluate(state, new Uint8Array(32), realmDeps)).toThrow(/InvalidKey/);
    expect(state.status === 'registered' && state.attempts).toBe(0);
  });

  test('an unlock tag without a pending evaluation is refused and changes nothing', () => {
    const state = registeredRealms()[0]!;
    expect(() => realmCheckUnlockTag(state, new Uint8Array(32))).toThrow(/InvalidMessage/);
  });

  test('deletion leaves nothing of the record', () => {
    expect(realmDelete(registeredRealms()[0]!)).toEqual({ status: 'destroyed' });
  });
});

describe('P38 growing per-user delays between guesses', () => {
  const blinded = () => startRecovery({ username: 'alice', pin: '2468', realms: REALMS, threshold: 2 }, seededDeps('delay'), fastStretch).requests[0]!.blindedElement;

  test('P38 the schedule: two free retries, then 1, 2, 4 ... minutes, capped', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((w) => delayAfter(w) / 60_000)).toEqual([0, 0, 1, 2, 4, 8, 128]);
    expect(delayAfter(40)).toBe(MAX_DELAY_MS);
    // Burning a 10-guess registration takes over four hours, not minutes.
    const total = Array.from({ length: 9 }, (_, w) => delayAfter(w + 1)).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(4 * 60 * 60 * 1000);
  });

  test('P38 anonymous evaluations without tags: the third must wait, a refusal charges nothing, waiting lets it through', () => {
    let state = registeredRealms()[0]!;
    const b = blinded();
    for (let i = 0; i < 2; i++) {
      const r = realmEvaluate(state, b, realmDeps);
      expect(r.outcome).toBe('evaluated');
      state = r.state;
      realmDeps.advance(1000);
    }
    // Evaluation 3 settles the 2nd as wrong (2 wrong so far): one minute after the last evaluation.
    const early = realmEvaluate(state, b, realmDeps);
    expect(early.outcome).toBe('tooSoon');
    if (early.outcome === 'tooSoon') expect(early.retryAfterMs).toBe(60_000 - 1000);
    expect(early.state).toBe(state);
    expect(realmHealth(state, realmDeps.now())).toMatchObject({ remaining: 8, wrongGuesses: 2, retryAfterMs: 59_000 });
    realmDeps.advance(59_000);
    const onTime = realmEvaluate(state, b, realmDeps);
    expect(onTime.outcome).toBe('evaluated');
    state = onTime.state;
    // Three wrong now: two minutes.
    realmDeps.advance(119_999);
    expect(realmEvaluate(state, b, realmDeps).outcome).toBe('tooSoon');
    realmDeps.advance(1);
    expect(realmEvaluate(state, b, realmDeps).outcome).toBe('evaluated');
  });

  test('P38 ten anonymous guesses as fast as the realm allows take more than four hours', () => {
    let state = registeredRealms()[0]!;
    const b = blinded();
    const start = realmDeps.now();
    let evaluations = 0;
    while (state.status === 'registered') {
      const r = realmEvaluate(state, b, realmDeps);
      if (r.outcome === 'tooSoon') {
        realmDeps.advance(r.retryAfterMs);
        continue;
      }
      if (r.outcome === 'evaluated') evaluations++;
      state = r.state;
    }
    expect(evaluations).toBe(10);
    expect(realmDeps.now() - start).toBeGreaterThan(4 * 60 * 60 * 1000);
  });

  test('P38 status reports the run of wrong guesses and when it began; the right PIN clears it', () => {
    let states = registeredRealms();
    const t0 = realmDeps.now();
    states = guess(states, '2468', 'w1').states;
    const began = realmDeps.now();
    expect(began).toBeGreaterThan(t0);
    states = guess(states, '8642', 'w2').states;
    expect(realmHealth(states[0]!, realmDeps.now())).toMatchObject({ wrongGuesses: 2, failingSince: began, remaining: 8 });
    states = guess(states, '1357', 'right').states;
    expect(realmHealth(states[0]!, realmDeps.now())).toEqual({ remaining: 10, wrongGuesses: 0, failingSince: null, retryAfterMs: 0 });
  });
});
