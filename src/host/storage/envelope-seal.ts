/**
 * Envelopes at rest (README "Envelopes at rest"; issue "Private groups": a breach shows no member
 * list or count). A group message goes to N mailboxes as N rows holding the SAME ciphertext (the
 * authenticated fan-out and a sealed v2 upload alike), received in the same millisecond, so a dump
 * of the database taken while they wait would link the N recipients as one group. Each stored body
 * is therefore encrypted apart, under keys kept outside the database (derived from the name key,
 * name-key.ts), so no two rows share a byte pattern. The exact receipt time travels inside; the
 * clear column keeps only the next whole hour, which is all the 30-day sweep needs.
 *
 * One batch (the mailbox writer's group commit) is encrypted with ONE AES-256-CTR keystream, each
 * row starting at its own 16-byte block: a fresh 96-bit nonce per batch, a 32-bit block counter.
 * A row stores its starting counter block encrypted with a second key (one AES block, a PRP on
 * inputs that never repeat), so rows of one batch share neither nonce nor visible offset:
 *
 *   stored = 0x01 ‖ AES-256-ECB(k_pos, nonce ‖ u32 block) ‖ AES-256-CTR(k_ctr, nonce ‖ u32 block, u64 receivedAt ‖ body)
 *
 * Two cipher objects per batch instead of one AEAD per row: an AEAD per row cost the SQLite host
 * about a quarter of its throughput (README figures). There is no tag on purpose: this layer keeps a
 * READ of the files from linking or reading rows; whoever can WRITE the database is the host, and
 * every body is already end-to-end authenticated, so an altered row is refused by its recipient as
 * any tampering by the host is. Whoever holds the key and the database reads the bodies, which are
 * still end-to-end ciphertext.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';

const VERSION = 0x01;
const BLOCK = 16;
const NONCE_BYTES = 12;
const TIME_BYTES = 8;
/** What sealing adds to a body: version, encrypted position, time. */
export const ENVELOPE_SEAL_OVERHEAD = 1 + BLOCK + TIME_BYTES;
/** The clear receipt time is kept to this granularity (the sweep's only need). */
export const AT_REST_TIME_STEP_MS = 3_600_000;
/** A batch's rows share one counter space of 2^32 blocks (64 GiB). */
const MAX_BATCH_BLOCKS = 2 ** 32;

export interface SealInput {
  receivedAt: number;
  body: Uint8Array;
}

export interface EnvelopeSeal {
  /** Each row sealed; one keystream for the batch, no row's position visible. */
  seal(rows: readonly SealInput[]): Uint8Array[];
  /** The body and exact time of each stored value, or undefined for one this format cannot hold. */
  open(stored: readonly Uint8Array[]): (SealInput | undefined)[];
  /** The clear column's value for a receipt time. */
  coarse(receivedAt: number): number;
  /** Tells the key apart from another without revealing it (key-check.ts). */
  readonly check: Uint8Array;
}

const blocksOf = (n: number): number => Math.ceil((TIME_BYTES + n) / BLOCK);

/** Batch nonces drawn 256 at a time: one draw cost about a third of sealing a small batch. */
function noncePool(): () => Buffer {
  const pool = Buffer.alloc(256 * NONCE_BYTES);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    next += NONCE_BYTES;
    return Buffer.from(pool.subarray(next - NONCE_BYTES, next));
  };
}

/** `key` is the deployment's name key; the envelope keys are its own HMAC-derived subkeys. */
export function envelopeSeal(key: Uint8Array): EnvelopeSeal {
  const base = createHmac('sha256', key).update('parley name key v1 envelope').digest();
  const sub = (label: string): KeyObject => createSecretKey(createHmac('sha256', base).update(label).digest());
  const kCtr = sub('stream');
  const kPos = sub('position');
  const check = new Uint8Array(createHmac('sha256', base).update('check').digest());
  const freshNonce = noncePool();
  const ecb = (decrypt: boolean, data: Buffer): Buffer => {
    const c = decrypt ? createDecipheriv('aes-256-ecb', kPos, null) : createCipheriv('aes-256-ecb', kPos, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return {
    check,
    // Rounded up, so the sweep never takes an envelope before its full retention.
    coarse: (t) => Math.ceil(t / AT_REST_TIME_STEP_MS) * AT_REST_TIME_STEP_MS,
    seal(rows) {
      if (rows.length === 0) return [];
      const starts: number[] = [];
      let blocks = 0;
      for (const r of rows) {
        starts.push(blocks);
        blocks += blocksOf(r.body.length);
      }
      if (blocks > MAX_BATCH_BLOCKS) throw new RangeError('a batch too large for one keystream');
      const nonce = freshNonce();
      const plain = Buffer.alloc(blocks * BLOCK);
      const positions = Buffer.alloc(rows.length * BLOCK);
      rows.forEach((r, i) => {
        const at = starts[i]! * BLOCK;
        plain.writeBigUInt64BE(BigInt(r.receivedAt), at);
        plain.set(r.body, at + TIME_BYTES);
        nonce.copy(positions, i * BLOCK);
        positions.writeUInt32BE(starts[i]!, i * BLOCK + NONCE_BYTES);
      });
      const c = createCipheriv('aes-256-ctr', kCtr, Buffer.concat([nonce, Buffer.alloc(4)]));
      const stream = Buffer.concat([c.update(plain), c.final()]);
      const hidden = ecb(false, positions);
      return rows.map((r, i) => {
        const out = new Uint8Array(ENVELOPE_SEAL_OVERHEAD + r.body.length);
        out[0] = VERSION;
        out.set(hidden.subarray(i * BLOCK, (i + 1) * BLOCK), 1);
        const at = starts[i]! * BLOCK;
        out.set(stream.subarray(at, at + TIME_BYTES + r.body.length), 1 + BLOCK);
        return out;
      });
    },
    open(stored) {
      const ok = stored.map((s) => s.length >= ENVELOPE_SEAL_OVERHEAD && s[0] === VERSION);
      const wanted = stored.filter((_, i) => ok[i]);
      if (wanted.length === 0) return stored.map(() => undefined);
      const positions = ecb(true, Buffer.concat(wanted.map((s) => s.subarray(1, 1 + BLOCK))));
      let k = 0;
      return stored.map((s, i) => {
        if (!ok[i]) return undefined;
        const iv = positions.subarray(k * BLOCK, ++k * BLOCK);
        const d = createDecipheriv('aes-256-ctr', kCtr, iv);
        const plain = Buffer.concat([d.update(s.subarray(1 + BLOCK)), d.final()]);
        return { receivedAt: Number(plain.readBigUInt64BE(0)), body: new Uint8Array(plain.buffer, plain.byteOffset + TIME_BYTES, plain.length - TIME_BYTES) };
      });
    }
  };
}
