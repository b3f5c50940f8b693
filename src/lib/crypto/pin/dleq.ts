/**
 * The discrete-log-equivalence proof of VOPRF mode (RFC 9497 §2.2: GenerateProof, VerifyProof,
 * ComputeComposites, ComputeCompositesFast), over ristretto255-SHA512.
 *
 * A realm proves that every evaluated element D[i] = k * C[i] for the same k as its public key
 * B = k * A (A = the generator). PIN recovery uses it with one element per request: a realm whose
 * answer fails the proof is named as tampered (SECURITY.md P38) instead of being read as a wrong
 * PIN. Proof = c || s (two 32-byte scalars). Randomness for r comes from `deps`.
 *
 * Pure; knows nothing of PINs or realms.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { sodium } from '../sodium';
import { sha512 } from '../primitives';
import { ByteWriter } from '../../codec/bytes';
import {
  SCALAR_LEN,
  addElements,
  constantTimeEqual,
  deserializeElement,
  deserializeNonZeroScalar,
  isCanonicalScalar,
  randomScalar,
  scalarMul,
  scalarMult,
  scalarSub
} from './group';
import { VOPRF, hashToScalar, type OprfSuite } from './oprf';

export const PROOF_LEN = 2 * SCALAR_LEN;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const COMPOSITE = ascii('Composite');
const CHALLENGE = ascii('Challenge');

/** The generator G of ristretto255 (RFC 9496 §4.4), serialised. */
export function generator(): Uint8Array {
  const one = new Uint8Array(SCALAR_LEN);
  one[0] = 1;
  return sodium().crypto_scalarmult_ristretto255_base(one);
}

function checkBatch(C: readonly Uint8Array[], D: readonly Uint8Array[]): void {
  if (C.length === 0 || C.length !== D.length || C.length > 0xffff) fail('InvalidArgument', `proof batch of ${C.length} and ${D.length} elements`);
}

/** seed = Hash(len(Bm) || Bm || len(seedDST) || seedDST), then d_i = HashToScalar(seed, i, C_i, D_i). */
function compositeWeights(s: OprfSuite, B: Uint8Array, C: readonly Uint8Array[], D: readonly Uint8Array[]): Uint8Array[] {
  const seedDst = new ByteWriter().raw(ascii('Seed-')).raw(s.contextString).finish();
  const seed = sha512(new ByteWriter().bytes16(B).bytes16(seedDst).finish());
  return C.map((c, i) =>
    hashToScalar(new ByteWriter().bytes16(seed).u16(i).bytes16(c).bytes16(D[i]!).raw(COMPOSITE).finish(), s.hashToScalarDst)
  );
}

function weightedSum(weights: readonly Uint8Array[], elements: readonly Uint8Array[]): Uint8Array {
  let acc: Uint8Array | undefined;
  weights.forEach((d, i) => {
    const term = scalarMult(d, elements[i]!);
    acc = acc ? addElements(acc, term) : term;
  });
  return acc!;
}

/** RFC 9497 §2.2.1 ComputeComposites (verifier side: Z from the D's). */
function computeComposites(s: OprfSuite, B: Uint8Array, C: readonly Uint8Array[], D: readonly Uint8Array[]): { M: Uint8Array; Z: Uint8Array } {
  const d = compositeWeights(s, B, C, D);
  return { M: weightedSum(d, C), Z: weightedSum(d, D) };
}

function challenge(s: OprfSuite, B: Uint8Array, M: Uint8Array, Z: Uint8Array, t2: Uint8Array, t3: Uint8Array): Uint8Array {
  const transcript = new ByteWriter().bytes16(B).bytes16(M).bytes16(Z).bytes16(t2).bytes16(t3).raw(CHALLENGE).finish();
  return hashToScalar(transcript, s.hashToScalarDst);
}

/** RFC 9497 §2.2.1 GenerateProof with a caller-chosen r (test vectors). */
export function generateProofWithScalar(
  k: Uint8Array,
  A: Uint8Array,
  B: Uint8Array,
  C: readonly Uint8Array[],
  D: readonly Uint8Array[],
  r: Uint8Array,
  s: OprfSuite = VOPRF
): Uint8Array {
  checkBatch(C, D);
  deserializeNonZeroScalar(k, 'proof key');
  deserializeNonZeroScalar(r, 'proof random scalar');
  // ComputeCompositesFast: the prover knows k, so Z = k * M.
  const M = weightedSum(compositeWeights(s, B, C, D), C);
  const Z = scalarMult(k, M);
  const t2 = scalarMult(r, A);
  const t3 = scalarMult(r, M);
  const c = challenge(s, B, M, Z, t2, t3);
  const proof = new Uint8Array(PROOF_LEN);
  proof.set(c, 0);
  proof.set(scalarSub(r, scalarMul(c, k)), SCALAR_LEN);
  return proof;
}

/** RFC 9497 §2.2.1 GenerateProof. */
export function generateProof(k: Uint8Array, A: Uint8Array, B: Uint8Array, C: readonly Uint8Array[], D: readonly Uint8Array[], deps: Deps, s: OprfSuite = VOPRF): Uint8Array {
  return generateProofWithScalar(k, A, B, C, D, randomScalar(deps), s);
}

/** s*X + c*Y without the identity shortcuts libsodium refuses (an identity here fails the proof). */
function linear(sc: Uint8Array, X: Uint8Array, c: Uint8Array, Y: Uint8Array): Uint8Array {
  return addElements(scalarMult(sc, X), scalarMult(c, Y));
}

/**
 * RFC 9497 §2.2.2 VerifyProof. Never throws for a malformed proof or element: anything that does
 * not verify is `false`, so a hostile realm cannot turn its answer into an exception.
 */
export function verifyProof(A: Uint8Array, B: Uint8Array, C: readonly Uint8Array[], D: readonly Uint8Array[], proof: Uint8Array, s: OprfSuite = VOPRF): boolean {
  try {
    checkBatch(C, D);
    if (proof.length !== PROOF_LEN) return false;
    for (const e of [A, B, ...C, ...D]) deserializeElement(e, 'proof element');
    const c = proof.slice(0, SCALAR_LEN);
    const sc = proof.slice(SCALAR_LEN);
    if (!isCanonicalScalar(c) || !isCanonicalScalar(sc)) return false;
    const { M, Z } = computeComposites(s, B, C, D);
    const t2 = linear(sc, A, c, B);
    const t3 = linear(sc, M, c, Z);
    return constantTimeEqual(challenge(s, B, M, Z, t2, t3), c);
  } catch {
    return false;
  }
}
