import { describe, expect, test } from 'vitest';
import {
  blind,
  blindEvaluate,
  blindWithScalar,
  deriveKeyPair,
  evaluate,
  finalize
} from '../../src/lib/crypto/pin/oprf';
import { expandMessageXmd } from '../../src/lib/crypto/pin/expand-message-xmd';
import { seededDeps } from '../../src/lib/crypto/deps';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import rfc9497 from '../vectors/rfc9497-oprf-ristretto255.json';
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
    const { skS } = deriveKeyPair(fromHex(rfc9497.seed), fromHex(rfc9497.keyInfo));
    expect(toHex(skS)).toBe(rfc9497.skSm);
  });

  test.each(rfc9497.vectors)('$name: Blind, BlindEvaluate, Finalize, Evaluate', (v) => {
    const input = fromHex(v.input);
    const skSm = fromHex(rfc9497.skSm);
    const { blindedElement } = blindWithScalar(input, fromHex(v.blind));
    expect(toHex(blindedElement)).toBe(v.blindedElement);
    const evaluated = blindEvaluate(skSm, blindedElement);
    expect(toHex(evaluated)).toBe(v.evaluationElement);
    expect(toHex(finalize(input, fromHex(v.blind), evaluated))).toBe(v.output);
    expect(toHex(evaluate(skSm, input))).toBe(v.output);
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
