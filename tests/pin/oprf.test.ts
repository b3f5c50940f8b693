import { describe, expect, test } from 'vitest';
import {
  OPRF,
  VOPRF,
  blind,
  blindEvaluate,
  blindWithScalar,
  deriveKeyPair,
  evaluate,
  finalize
} from '../../src/lib/crypto/pin/oprf';
import { generateProof, generateProofWithScalar, generator, verifyProof } from '../../src/lib/crypto/pin/dleq';
import { expandMessageXmd } from '../../src/lib/crypto/pin/expand-message-xmd';
import { seededDeps } from '../../src/lib/crypto/deps';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import rfc9497 from '../vectors/rfc9497-oprf-ristretto255.json';
import voprf from '../vectors/rfc9497-voprf-ristretto255.json';
import xmd from '../vectors/oprf-rfc9380-expand-message-xmd-sha512.json';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('expand_message_xmd(SHA-512) against RFC 9380 Appendix K.3', () => {
  test.each(xmd.cases)('msg "$msg", $lenInBytes bytes', (c) => {
    expect(toHex(expandMessageXmd(ascii(c.msg), ascii(xmd.dst), c.lenInBytes))).toBe(c.uniformBytes);
  });

  test('rejects lengths beyond 255 blocks and empty or oversize DSTs', () => {
    expect(() => expandMessageXmd(ascii(''), ascii('x'), 255 * 64 + 1)).toThrow(/InvalidArgument/);
    expect(() => expandMessageXmd(ascii(''), new Uint8Array(0), 32)).toThrow(/InvalidArgument/);
    expect(() => expandMessageXmd(ascii(''), new Uint8Array(256), 32)).toThrow(/InvalidArgument/);
  });
});

describe('OPRF(ristretto255, SHA-512) mode 0 against RFC 9497 Appendix A.1.1', () => {
  test('DeriveKeyPair(Seed, KeyInfo) gives skSm', () => {
    const { skS } = deriveKeyPair(fromHex(rfc9497.seed), fromHex(rfc9497.keyInfo), OPRF);
    expect(toHex(skS)).toBe(rfc9497.skSm);
  });

  test.each(rfc9497.vectors)('$name: Blind, BlindEvaluate, Finalize, Evaluate', (v) => {
    const input = fromHex(v.input);
    const skSm = fromHex(rfc9497.skSm);
    const { blindedElement } = blindWithScalar(input, fromHex(v.blind), OPRF);
    expect(toHex(blindedElement)).toBe(v.blindedElement);
    const evaluated = blindEvaluate(skSm, blindedElement);
    expect(toHex(evaluated)).toBe(v.evaluationElement);
    expect(toHex(finalize(input, fromHex(v.blind), evaluated))).toBe(v.output);
    expect(toHex(evaluate(skSm, input, OPRF))).toBe(v.output);
  });
});

describe('VOPRF(ristretto255, SHA-512) mode 1 against RFC 9497 Appendix A.1.2', () => {
  test('DeriveKeyPair(Seed, KeyInfo) gives skSm and pkSm', () => {
    const { skS, pkS } = deriveKeyPair(fromHex(voprf.seed), fromHex(voprf.keyInfo), VOPRF);
    expect(toHex(skS)).toBe(voprf.skSm);
    expect(toHex(pkS)).toBe(voprf.pkSm);
  });

  test.each(voprf.vectors)('$name: Blind, BlindEvaluate, GenerateProof, VerifyProof, Finalize', (v) => {
    const skSm = fromHex(voprf.skSm);
    const pkSm = fromHex(voprf.pkSm);
    const blinded = v.input.map((x, i) => blindWithScalar(fromHex(x), fromHex(v.blind[i]!), VOPRF).blindedElement);
    expect(blinded.map(toHex)).toEqual(v.blindedElement);
    const evaluated = blinded.map((b) => blindEvaluate(skSm, b));
    expect(evaluated.map(toHex)).toEqual(v.evaluationElement);
    const proof = generateProofWithScalar(skSm, generator(), pkSm, blinded, evaluated, fromHex(v.proofRandomScalar), VOPRF);
    expect(toHex(proof)).toBe(v.proof);
    expect(verifyProof(generator(), pkSm, blinded, evaluated, proof, VOPRF)).toBe(true);
    expect(v.input.map((x, i) => toHex(finalize(fromHex(x), fromHex(v.blind[i]!), evaluated[i]!)))).toEqual(v.output);
    expect(v.input.map((x) => toHex(evaluate(skSm, fromHex(x), VOPRF)))).toEqual(v.output);
  });

  test('P38 a proof fails for a flipped bit in the proof, the key, or either element', () => {
    const deps = seededDeps('dleq');
    const { skS, pkS } = deriveKeyPair(new Uint8Array(32).fill(9), ascii('k'));
    const other = deriveKeyPair(new Uint8Array(32).fill(8), ascii('k'));
    const { blindedElement } = blind(ascii('4791'), deps);
    const evaluated = blindEvaluate(skS, blindedElement);
    const proof = generateProof(skS, generator(), pkS, [blindedElement], [evaluated], deps);
    expect(verifyProof(generator(), pkS, [blindedElement], [evaluated], proof)).toBe(true);
    for (let i = 0; i < proof.length * 8; i += 7) {
      const p = proof.slice();
      p[i >> 3]! ^= 1 << (i & 7);
      expect(verifyProof(generator(), pkS, [blindedElement], [evaluated], p)).toBe(false);
    }
    // Another key's evaluation, or an honest evaluation under another public key, does not verify.
    expect(verifyProof(generator(), other.pkS, [blindedElement], [evaluated], proof)).toBe(false);
    const forged = blindEvaluate(other.skS, blindedElement);
    expect(verifyProof(generator(), pkS, [blindedElement], [forged], proof)).toBe(false);
    expect(verifyProof(generator(), pkS, [blindedElement], [forged], generateProof(other.skS, generator(), other.pkS, [blindedElement], [forged], deps))).toBe(false);
    // Garbage never throws.
    expect(verifyProof(generator(), pkS, [new Uint8Array(32)], [evaluated], proof)).toBe(false);
    expect(verifyProof(generator(), pkS, [blindedElement], [evaluated], new Uint8Array(63))).toBe(false);
  });
});

describe('OPRF properties', () => {
  test('a random blind hides the input yet finalises to the same output', () => {
    const deps = seededDeps('oprf-blind');
    const { skS } = deriveKeyPair(new Uint8Array(32).fill(7), ascii('k'));
    const input = ascii('1357');
    const a = blind(input, deps);
    const b = blind(input, deps);
    expect(toHex(a.blindedElement)).not.toBe(toHex(b.blindedElement));
    const outA = finalize(input, a.blind, blindEvaluate(skS, a.blindedElement));
    const outB = finalize(input, b.blind, blindEvaluate(skS, b.blindedElement));
    expect(toHex(outA)).toBe(toHex(outB));
    expect(toHex(outA)).toBe(toHex(evaluate(skS, input)));
    expect(toHex(evaluate(skS, ascii('1358')))).not.toBe(toHex(outA));
  });

  test('BlindEvaluate rejects the identity, non-canonical and wrong-length elements', () => {
    const { skS } = deriveKeyPair(new Uint8Array(32).fill(7), ascii('k'));
    expect(() => blindEvaluate(skS, new Uint8Array(32))).toThrow(/InvalidKey/);
    expect(() => blindEvaluate(skS, new Uint8Array(32).fill(0xff))).toThrow(/InvalidKey/);
    expect(() => blindEvaluate(skS, new Uint8Array(31))).toThrow(/DecodeFailed/);
  });

  test('zero and non-canonical scalars are refused as keys and blinds', () => {
    const input = ascii('x');
    expect(() => blindWithScalar(input, new Uint8Array(32))).toThrow(/InvalidKey/);
    expect(() => blindWithScalar(input, new Uint8Array(32).fill(0xff))).toThrow(/InvalidKey/);
    expect(() => evaluate(new Uint8Array(32), input)).toThrow(/InvalidKey/);
  });
});
