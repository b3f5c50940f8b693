/**
 * expand_message_xmd with SHA-512 (RFC 9380 §5.3.1), the uniform-bytes step of hash_to_ristretto255
 * (RFC 9380 §6.8 / RFC 9496 §4.3.4) and of RFC 9497's HashToScalar for ristretto255.
 *
 * Pure and synchronous over libsodium's SHA-512. Knows nothing of OPRFs: the caller passes its DST.
 */
import { sha512 } from '../primitives';
import { fail } from '../../codec/errors';
import { ByteWriter } from '../../codec/bytes';

/** SHA-512: b_in_bytes = 64, s_in_bytes (input block size) = 128. */
const B_IN_BYTES = 64;
const S_IN_BYTES = 128;

export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  // §5.3.1 step 2: ABORT if ell > 255 or len_in_bytes > 65535 or len(DST) > 255.
  const ell = Math.ceil(lenInBytes / B_IN_BYTES);
  if (!Number.isInteger(lenInBytes) || lenInBytes < 1 || ell > 255 || lenInBytes > 65535) {
    fail('InvalidArgument', `expand_message_xmd: len_in_bytes ${lenInBytes} outside 1..${255 * B_IN_BYTES}`);
  }
  // §5.3.3 would hash an oversize DST; our DSTs are fixed constants, so an oversize one is a bug.
  if (dst.length < 1 || dst.length > 255) fail('InvalidArgument', `expand_message_xmd: DST of ${dst.length} bytes`);
  const dstPrime = new ByteWriter().raw(dst).u8(dst.length).finish();
  const msgPrime = new ByteWriter()
    .raw(new Uint8Array(S_IN_BYTES)) // Z_pad
    .raw(msg)
    .u16(lenInBytes) // l_i_b_str = I2OSP(len_in_bytes, 2)
    .u8(0)
    .raw(dstPrime)
    .finish();
  const b0 = sha512(msgPrime);
  const out = new Uint8Array(ell * B_IN_BYTES);
  let prev = sha512(new ByteWriter().raw(b0).u8(1).raw(dstPrime).finish());
  out.set(prev, 0);
  for (let i = 2; i <= ell; i++) {
    const x = new Uint8Array(B_IN_BYTES);
    for (let j = 0; j < B_IN_BYTES; j++) x[j] = b0[j]! ^ prev[j]!; // strxor(b_0, b_(i-1))
    prev = sha512(new ByteWriter().raw(x).u8(i).raw(dstPrime).finish());
    out.set(prev, (i - 1) * B_IN_BYTES);
  }
  return out.slice(0, lenInBytes);
}
