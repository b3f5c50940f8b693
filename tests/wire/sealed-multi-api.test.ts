/**
 * The multi-recipient sealed upload's framing (src/lib/wire/sealed-multi-api.ts; SECURITY.md P41,
 * P40): tokens round-trip in order with "none" kept as none, and the decoder refuses what is not
 * exactly the format, so the host never guesses which token belongs to whom.
 */
import { describe, expect, test } from 'vitest';
import { DELIVERY_TOKEN_LEN } from '../../src/lib/crypto/delivery-token';
import { MAX_V2_RECIPIENTS } from '../../src/lib/crypto/sealed-sender-v2';
import { decodeSealedMultiUpload, encodeSealedMultiUpload, sealedMultiUploadInPlace, tokensLength } from '../../src/lib/wire/sealed-multi-api';

const token = (b: number) => new Uint8Array(DELIVERY_TOKEN_LEN).fill(b);

describe('sealed multi upload framing', () => {
  test('P41 tokens round-trip in recipient order, a missing one stays missing', () => {
    const sent = Uint8Array.of(2, 0, 3, 9, 9, 9);
    const tokens = [token(1), undefined, token(3)];
    const d = decodeSealedMultiUpload(encodeSealedMultiUpload({ tokens, sent }));
    expect(d.tokens).toEqual(tokens);
    expect([...d.sent]).toEqual([...sent]);
  });

  test('P40 a wrong count, flag, short token or empty message is refused', () => {
    const good = encodeSealedMultiUpload({ tokens: [token(7)], sent: Uint8Array.of(2, 1) });
    expect(() => decodeSealedMultiUpload(Uint8Array.of(0, 0, 2))).toThrow(/0 delivery tokens/);
    const badFlag = good.slice();
    badFlag[2] = 2;
    expect(() => decodeSealedMultiUpload(badFlag)).toThrow(/flag 2/);
    expect(() => decodeSealedMultiUpload(good.subarray(0, 20))).toThrow();
    expect(() => decodeSealedMultiUpload(good.subarray(0, 3 + DELIVERY_TOKEN_LEN))).toThrow(/no message/);
    const tooMany = new Uint8Array(2);
    new DataView(tooMany.buffer).setUint16(0, MAX_V2_RECIPIENTS + 1);
    expect(() => decodeSealedMultiUpload(tooMany)).toThrow(/delivery tokens/);
    expect(() => encodeSealedMultiUpload({ tokens: [new Uint8Array(5)], sent: Uint8Array.of(2) })).toThrow(/5 bytes/);
  });

  test('P41 the upload written in place over a sealer\'s headroom is byte for byte the encoded one', () => {
    const sent = Uint8Array.of(3, 0, 2, 8, 8, 8, 8);
    const tokens = [undefined, token(4), token(5), undefined];
    expect(tokensLength(tokens)).toBe(2 + 4 + 2 * DELIVERY_TOKEN_LEN);
    const sealed = new Uint8Array(tokensLength(tokens) + sent.length);
    sealed.set(sent, tokensLength(tokens));
    const upload = sealedMultiUploadInPlace(tokens, sealed);
    expect(upload).toBe(sealed);
    expect([...upload]).toEqual([...encodeSealedMultiUpload({ tokens, sent })]);
    const d = decodeSealedMultiUpload(upload);
    expect(d.tokens).toEqual(tokens);
    expect([...d.sent]).toEqual([...sent]);
  });

  test('P40 in place refuses a body with no message after the tokens, and bad tokens, as encoding does', () => {
    expect(() => sealedMultiUploadInPlace([token(1)], new Uint8Array(tokensLength([token(1)])))).toThrow(/no message/);
    expect(() => sealedMultiUploadInPlace([new Uint8Array(5)], new Uint8Array(64))).toThrow(/5 bytes/);
    expect(() => sealedMultiUploadInPlace([], new Uint8Array(64))).toThrow(/0 delivery tokens/);
  });
});
