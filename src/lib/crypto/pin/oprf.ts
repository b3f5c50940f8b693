/**
 * OPRF(ristretto255, SHA-512) in base mode and VOPRF mode (RFC 9497 §3.3.1 and §3.3.2, modes
 * 0x00 and 0x01 of suite §4.1).
 *
 * Blind / BlindEvaluate / Finalize as the RFC writes them, plus the pieces the threshold protocol
 * needs separately: `unblind` (so the client can combine several realms' evaluations before
 * hashing) and `finalizeUnblinded` (the hash step of Finalize). HashToGroup is hash_to_ristretto255
 * = from_hash(expand_message_xmd(SHA-512, 64 bytes)), DST "HashToGroup-" || contextString, so the
 * mode is part of every input element: an OPRF-mode and a VOPRF-mode evaluation of one input differ.
 * PIN recovery uses VOPRF mode (the default here): each realm proves its evaluation (dleq.ts), so
 * a tampered answer is told apart from a wrong PIN (SECURITY.md P38).
 *
 * This module knows nothing of PINs, realms or Shamir sharing. Randomness comes from `deps`.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { sodium } from '../sodium';
import { sha512 } from '../primitives';
import { ByteWriter, concatBytes } from '../../codec/bytes';
import { expandMessageXmd } from './expand-message-xmd';
import {
  ELEMENT_LEN,
  deserializeElement,
  deserializeNonZeroScalar,
  randomScalar,
  scalarFromWide,
  scalarInvert,
  scalarMult
} from './group';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The per-mode constants of RFC 9497 §3.1 for ristretto255-SHA512. */
export interface OprfSuite {
  mode: number;
  /** contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier. */
  contextString: Uint8Array;
  hashToGroupDst: Uint8Array;
  hashToScalarDst: Uint8Array;
  deriveKeyPairDst: Uint8Array;
}

function suite(mode: number): OprfSuite {
  const contextString = concatBytes(ascii('OPRFV1-'), Uint8Array.of(mode), ascii('-ristretto255-SHA512'));
  return Object.freeze({
    mode,
    contextString,
    hashToGroupDst: concatBytes(ascii('HashToGroup-'), contextString),
    hashToScalarDst: concatBytes(ascii('HashToScalar-'), contextString),
    deriveKeyPairDst: concatBytes(ascii('DeriveKeyPair'), contextString)
  });
}

/** Mode 0x00: no proof. Kept for RFC 9497 Appendix A.1.1 conformance. */
export const OPRF = suite(0x00);
/** Mode 0x01: the server proves it used the key behind its public key (PIN recovery uses this). */
export const VOPRF = suite(0x01);
/** RFC 9497 §3.1 contextString of base mode (kept for callers that name it). */
export const CONTEXT_STRING = OPRF.contextString;

const FINALIZE_LABEL = ascii('Finalize');

/** RFC 9497 §4.1: 64-byte output of SHA-512. */
export const OPRF_OUTPUT_LEN = 64;
/** Inputs travel with a 2-byte length (Finalize's I2OSP(len(input), 2)). */
export const MAX_INPUT_LEN = 0xffff;

/** hash_to_ristretto255 (RFC 9380 §6.8, RFC 9496 §4.3.4) under the suite's DST. */
export function hashToGroup(input: Uint8Array, s: OprfSuite = VOPRF): Uint8Array {
  return sodium().crypto_core_ristretto255_from_hash(expandMessageXmd(input, s.hashToGroupDst, 64));
}

/** RFC 9497 §4.1 HashToScalar for ristretto255: expand to 64 bytes, reduce mod L. */
export function hashToScalar(input: Uint8Array, dst: Uint8Array): Uint8Array {
  return scalarFromWide(expandMessageXmd(input, dst, 64));
}

/** RFC 9497 §3.2.1 DeriveKeyPair: deterministic key from a seed of >= 32 bytes and public info. */
export function deriveKeyPair(seed: Uint8Array, info: Uint8Array, s: OprfSuite = VOPRF): { skS: Uint8Array; pkS: Uint8Array } {
  if (seed.length < 32) fail('InvalidArgument', `DeriveKeyPair seed: ${seed.length} bytes, need at least 32`);
  const deriveInput = new ByteWriter().raw(seed).bytes16(info).finish();
  for (let counter = 0; counter <= 255; counter++) {
    const skS = hashToScalar(concatBytes(deriveInput, Uint8Array.of(counter)), s.deriveKeyPairDst);
    if (skS.some((b) => b !== 0)) return { skS, pkS: publicKeyOf(skS) };
  }
  fail('Internal', 'DeriveKeyPair: 256 zero scalars in a row');
}

/** pkS = skS * G (RFC 9497 §3.2). */
export function publicKeyOf(skS: Uint8Array): Uint8Array {
  deserializeNonZeroScalar(skS, 'OPRF key');
  return sodium().crypto_scalarmult_ristretto255_base(skS);
}

function checkInput(input: Uint8Array): void {
  if (input.length > MAX_INPUT_LEN) fail('InvalidArgument', `OPRF input of ${input.length} bytes exceeds ${MAX_INPUT_LEN}`);
}

/** RFC 9497 §3.3.1 Blind with a caller-chosen blind (test vectors and `blind`). */
export function blindWithScalar(input: Uint8Array, blind: Uint8Array, s: OprfSuite = VOPRF): { blind: Uint8Array; blindedElement: Uint8Array } {
  checkInput(input);
  deserializeNonZeroScalar(blind, 'blind');
  const inputElement = hashToGroup(input, s);
  // §3.3.1: "If inputElement == G.Identity(), raise InvalidInputError" (negligible, but checked).
  if (inputElement.every((b) => b === 0)) fail('InvalidArgument', 'OPRF input hashes to the identity');
  return { blind: blind.slice(), blindedElement: scalarMult(blind, inputElement) };
}

/** RFC 9497 §3.3.1 Blind. */
export function blind(input: Uint8Array, deps: Deps, s: OprfSuite = VOPRF): { blind: Uint8Array; blindedElement: Uint8Array } {
  return blindWithScalar(input, randomScalar(deps), s);
}

/** RFC 9497 §3.3.1 BlindEvaluate (server): evaluatedElement = skS * blindedElement. */
export function blindEvaluate(skS: Uint8Array, blindedElement: Uint8Array): Uint8Array {
  deserializeNonZeroScalar(skS, 'OPRF key');
  return scalarMult(skS, deserializeElement(blindedElement, 'blinded element'));
}

/** First half of Finalize: N = blind^-1 * evaluatedElement. */
export function unblind(blind: Uint8Array, evaluatedElement: Uint8Array): Uint8Array {
  deserializeNonZeroScalar(blind, 'blind');
  return scalarMult(scalarInvert(blind), deserializeElement(evaluatedElement, 'evaluated element'));
}

/** Second half of Finalize: Hash(len(input) || input || len(N) || N || "Finalize"); the same in both modes. */
export function finalizeUnblinded(input: Uint8Array, unblindedElement: Uint8Array): Uint8Array {
  checkInput(input);
  if (unblindedElement.length !== ELEMENT_LEN) fail('InvalidArgument', `unblinded element: ${unblindedElement.length} bytes`);
  return sha512(new ByteWriter().bytes16(input).bytes16(unblindedElement).raw(FINALIZE_LABEL).finish());
}

/** RFC 9497 §3.3.1 Finalize (the proof, in VOPRF mode, is checked separately: dleq.ts). */
export function finalize(input: Uint8Array, blind: Uint8Array, evaluatedElement: Uint8Array): Uint8Array {
  return finalizeUnblinded(input, unblind(blind, evaluatedElement));
}

/** RFC 9497 §3.3.1 Evaluate: the server-side PRF with the whole key (used at registration). */
export function evaluate(skS: Uint8Array, input: Uint8Array, s: OprfSuite = VOPRF): Uint8Array {
  checkInput(input);
  deserializeNonZeroScalar(skS, 'OPRF key');
  return finalizeUnblinded(input, scalarMult(skS, hashToGroup(input, s)));
}
