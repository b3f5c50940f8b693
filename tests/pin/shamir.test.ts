import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { sodium } from '../../src/lib/crypto/sodium';
import { seededDeps } from '../../src/lib/crypto/deps';
import { randomScalar } from '../../src/lib/crypto/pin/group';
import {
  combineInExponent,
  lagrangeCoefficientsAtZero,
  reconstructSecret,
  splitSecret,
  type Share
} from '../../src/lib/crypto/pin/shamir';
import { toHex } from '../../src/lib/codec/bytes';

const VECTOR_PATH = new URL('../vectors/shamir.json', import.meta.url);

function subsetsOf<T>(items: T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((x, i) => subsetsOf(items.slice(i + 1), size - 1).map((rest) => [x, ...rest]));
}

describe('Shamir sharing over the ristretto255 scalar field', () => {
  test.each([
    [1, 1],
    [1, 3],
    [2, 3],
    [3, 5],
    [5, 5]
  ])('%i-of-%i: every t-subset reconstructs, every smaller subset does not', (t, n) => {
    const deps = seededDeps(`shamir-${t}-${n}`);
    const secret = randomScalar(deps);
    const shares = splitSecret(secret, t, n, deps);
    expect(shares.map((s) => s.x)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let size = t; size <= n; size++) {
      for (const subset of subsetsOf(shares, size)) expect(toHex(reconstructSecret(subset))).toBe(toHex(secret));
    }
    for (let size = 1; size < t; size++) {
      for (const subset of subsetsOf(shares, size)) expect(toHex(reconstructSecret(subset))).not.toBe(toHex(secret));
    }
  });

  test('combining k_i * P in the exponent equals k * P from any t realms', () => {
    const deps = seededDeps('shamir-exponent');
    const s = sodium();
    const k = randomScalar(deps);
    const p = s.crypto_scalarmult_ristretto255_base(randomScalar(deps));
    const expected = toHex(s.crypto_scalarmult_ristretto255(k, p));
    const shares = splitSecret(k, 2, 3, deps);
    for (const pair of subsetsOf(shares, 2)) {
      const points = pair.map((sh) => ({ x: sh.x, element: s.crypto_scalarmult_ristretto255(sh.y, p) }));
      expect(toHex(combineInExponent(points))).toBe(expected);
    }
    const one = shares[0]!;
    expect(toHex(combineInExponent([{ x: one.x, element: s.crypto_scalarmult_ristretto255(one.y, p) }]))).not.toBe(expected);
  });

  test('refuses bad parameters and duplicate or zero indices', () => {
    const deps = seededDeps('shamir-bad');
    const secret = randomScalar(deps);
    expect(() => splitSecret(secret, 0, 3, deps)).toThrow(/InvalidArgument/);
    expect(() => splitSecret(secret, 4, 3, deps)).toThrow(/InvalidArgument/);
    expect(() => splitSecret(new Uint8Array(32).fill(0xff), 2, 3, deps)).toThrow(/InvalidArgument/);
    const [a] = splitSecret(secret, 2, 3, deps) as [Share];
    expect(() => reconstructSecret([a, a])).toThrow(/InvalidArgument: share index 1 appears twice/);
    expect(() => lagrangeCoefficientsAtZero([0, 1])).toThrow(/InvalidArgument/);
    expect(() => reconstructSecret([])).toThrow(/InvalidArgument/);
  });

  test('split does not mutate the secret', () => {
    const deps = seededDeps('shamir-mutate');
    const secret = randomScalar(deps);
    const copy = secret.slice();
    splitSecret(secret, 2, 3, deps);
    expect(secret).toEqual(copy);
  });

  test('frozen 2-of-3 vector (tests/vectors/shamir.json)', () => {
    const deps = seededDeps('shamir-vector');
    const secret = randomScalar(deps);
    const shares = splitSecret(secret, 2, 3, deps);
    const actual = {
      source: "frozen from seededDeps seed 'shamir-vector': secret = randomScalar(deps), then splitSecret(secret, 2, 3, deps)",
      threshold: 2,
      secret: toHex(secret),
      shares: shares.map((s) => ({ x: s.x, y: toHex(s.y) })),
      lagrangeAtZero: { '1,2': lagrangeCoefficientsAtZero([1, 2]).map(toHex), '1,3': lagrangeCoefficientsAtZero([1, 3]).map(toHex) }
    };
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(actual, null, 2) + '\n');
    expect(actual).toEqual(JSON.parse(readFileSync(VECTOR_PATH, 'utf8')));
  });
});
