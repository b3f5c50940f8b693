/**
 * Shamir secret sharing over the ristretto255 scalar field (Z/L), and Lagrange interpolation
 * "in the exponent" to combine group elements computed from shares.
 *
 * The threshold OPRF of the PIN protocol (Juicebox, ePrint 2025/348 §4) shares the OPRF key k as
 * k_i = f(i) with f(0) = k; realm i answers k_i * B, and sum(lambda_i * k_i * B) = k * B for any
 * t of them. Share indices are the small integers x = 1..n (x = 0 would be the secret itself).
 *
 * Pure; randomness for the polynomial comes from `deps`. Knows nothing of OPRFs or PINs.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import {
  addElements,
  deserializeElement,
  isCanonicalScalar,
  randomScalar,
  scalarAdd,
  scalarFromInt,
  scalarInvert,
  scalarMul,
  scalarMult,
  scalarSub
} from './group';

/** One share: the polynomial's value y = f(x) at the index x. */
export interface Share {
  x: number;
  y: Uint8Array;
}

/** Bounded so indices stay small and distinct; far above any realm count we would deploy. */
export const MAX_SHARES = 255;

function checkIndices(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1 || x > MAX_SHARES) fail('InvalidArgument', `share index ${x} outside 1..${MAX_SHARES}`);
    if (seen.has(x)) fail('InvalidArgument', `share index ${x} appears twice`);
    seen.add(x);
  }
}

/** t-of-n split of a canonical scalar: shares at x = 1..n of a random degree-(t-1) polynomial. */
export function splitSecret(secret: Uint8Array, threshold: number, count: number, deps: Deps): Share[] {
  if (!isCanonicalScalar(secret)) fail('InvalidArgument', `secret: not a canonical 32-byte scalar (${secret.length} bytes)`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARES) fail('InvalidArgument', `share count ${count} outside 1..${MAX_SHARES}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > count) {
    fail('InvalidArgument', `threshold ${threshold} outside 1..${count}`);
  }
  const coefficients: Uint8Array[] = [secret.slice()];
  for (let i = 1; i < threshold; i++) coefficients.push(randomScalar(deps));
  const shares: Share[] = [];
  for (let x = 1; x <= count; x++) {
    const xs = scalarFromInt(x);
    // Horner: f(x) = (((a_{t-1} x + a_{t-2}) x + ...) x + a_0)
    let y: Uint8Array = coefficients[threshold - 1]!;
    for (let i = threshold - 2; i >= 0; i--) y = scalarAdd(scalarMul(y, xs), coefficients[i]!);
    shares.push({ x, y });
  }
  return shares;
}

/** lambda_i = prod_{j != i} x_j / (x_j - x_i): the Lagrange basis at 0 for the given indices. */
export function lagrangeCoefficientsAtZero(xs: readonly number[]): Uint8Array[] {
  checkIndices(xs);
  if (xs.length === 0) fail('InvalidArgument', 'no shares to interpolate');
  return xs.map((xi, i) => {
    let num = scalarFromInt(1);
    let den = scalarFromInt(1);
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = scalarMul(num, scalarFromInt(xj));
      den = scalarMul(den, scalarSub(scalarFromInt(xj), scalarFromInt(xi)));
    });
    return scalarMul(num, scalarInvert(den));
  });
}

/**
 * f(0) from exactly the shares given. With fewer than t shares the result is a different,
 * unrelated scalar; detecting that is the caller's job (the PIN protocol checks a commitment).
 */
export function reconstructSecret(shares: readonly Share[]): Uint8Array {
  for (const s of shares) {
    if (!isCanonicalScalar(s.y)) fail('InvalidArgument', `share ${s.x}: not a canonical scalar`);
  }
  const lambdas = lagrangeCoefficientsAtZero(shares.map((s) => s.x));
  let acc: Uint8Array = new Uint8Array(32);
  shares.forEach((s, i) => {
    acc = scalarAdd(acc, scalarMul(lambdas[i]!, s.y));
  });
  return acc;
}

/** sum(lambda_i * E_i): combines k_i * B from t realms into k * B without learning any k_i. */
export function combineInExponent(points: readonly { x: number; element: Uint8Array }[]): Uint8Array {
  const lambdas = lagrangeCoefficientsAtZero(points.map((p) => p.x));
  let acc: Uint8Array | undefined;
  points.forEach((p, i) => {
    const term = scalarMult(lambdas[i]!, deserializeElement(p.element, `element from share ${p.x}`));
    acc = acc ? addElements(acc, term) : term;
  });
  return acc!;
}
