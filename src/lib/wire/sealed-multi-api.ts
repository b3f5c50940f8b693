/**
 * The multi-recipient sealed upload (SECURITY.md P41; DESIGN.md §4 "one multi-recipient sealed
 * upload that the host fans out"; README "Groups"): the route and the framing that carries one
 * delivery token per recipient ahead of the sealed sender v2 "sent" form
 * (crypto/sealed-sender-v2.ts).
 *
 *   POST /api/v1/sealed/multi  (NO auth; binary)
 *        u16 n (1..MAX_V2_RECIPIENTS) || n x (u8 0 | u8 1 || token, 32 bytes) || v2 sent form
 *        -> { stored, refused }
 *
 * Token i belongs to the sent form's recipient i (same order; n must equal its recipient count,
 * the host checks). 0 means "no token" (for a recipient that takes sealed mail from anyone).
 * Tokens travel in the body, not a header: a thousand of them would not fit a header's limit,
 * and never in a query (queries end up in logs). Knows nothing of servers, storage or sockets.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { DELIVERY_TOKEN_LEN } from '../crypto/delivery-token';
import { MAX_V2_RECIPIENTS } from '../crypto/sealed-sender-v2';

export const SEALED_MULTI_PATH = '/api/v1/sealed/multi';

export interface SealedMultiUpload {
  /** One per recipient of `sent`, in its order; undefined = none presented. */
  tokens: readonly (Uint8Array | undefined)[];
  /** The sealed sender v2 sent form. */
  sent: Uint8Array;
}

export function encodeSealedMultiUpload(u: SealedMultiUpload): Uint8Array {
  const w = new ByteWriter(tokensLength(u.tokens) + u.sent.length);
  writeTokens(w, u.tokens);
  return w.raw(u.sent).finish();
}

/** How many bytes the tokens take ahead of the sent form. */
export function tokensLength(tokens: SealedMultiUpload['tokens']): number {
  let len = 2;
  for (const t of tokens) len += t ? 1 + DELIVERY_TOKEN_LEN : 1;
  return len;
}

/**
 * The upload in place: `sealed` is a sent form sealed with `tokensLength(tokens)` bytes of
 * headroom (sealed-sender-v3.ts `headroom`), and the tokens are written into them. A 1,000-member
 * upload is ~100 KB, and this spares the send a second buffer of that size and its copy.
 */
export function sealedMultiUploadInPlace(tokens: SealedMultiUpload['tokens'], sealed: Uint8Array): Uint8Array {
  const len = tokensLength(tokens);
  if (sealed.length <= len) fail('InvalidArgument', `sealed form of ${sealed.length} bytes leaves no message after ${len} bytes of tokens`);
  const w = new ByteWriter(len);
  writeTokens(w, tokens);
  sealed.set(w.finish(), 0);
  return sealed;
}

function writeTokens(w: ByteWriter, tokens: SealedMultiUpload['tokens']): void {
  const n = tokens.length;
  if (n < 1 || n > MAX_V2_RECIPIENTS) fail('InvalidArgument', `${n} delivery tokens, expected 1..${MAX_V2_RECIPIENTS}`);
  w.u16(n);
  for (const t of tokens) {
    if (!t) w.u8(0);
    else {
      if (t.length !== DELIVERY_TOKEN_LEN) fail('InvalidArgument', `delivery token of ${t.length} bytes, expected ${DELIVERY_TOKEN_LEN}`);
      w.u8(1).raw(t);
    }
  }
}

/** Strict: every flag 0 or 1, the count in bounds; the sent form is parsed by its own decoder. */
export function decodeSealedMultiUpload(bytes: Uint8Array): SealedMultiUpload {
  const r = new ByteReader(bytes, 'sealed multi upload');
  const n = r.u16();
  if (n < 1 || n > MAX_V2_RECIPIENTS) fail('DecodeFailed', `${n} delivery tokens, expected 1..${MAX_V2_RECIPIENTS}`);
  const tokens: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const flag = r.u8();
    if (flag === 0) tokens.push(undefined);
    else if (flag === 1) tokens.push(r.fixed(DELIVERY_TOKEN_LEN).slice());
    else fail('DecodeFailed', `delivery token ${i} has flag ${flag}, expected 0 or 1`);
  }
  const sent = r.rest();
  if (sent.length === 0) fail('DecodeFailed', 'sealed multi upload carries no message');
  return { tokens, sent };
}
