/**
 * Account names at rest (issue "private discovery": the host stores no username in clear; README
 * "Usernames at rest"). Every username a host store writes (account keys, mailbox recipient and
 * sender, tokens, records, push and sealed-access rows, blob owners, the instance bus) is replaced
 * by its SEALED form, and every rate-limit key by a keyed hash, under a name key that lives
 * OUTSIDE the database (a file in DATA_DIR, or NAME_KEY / NAME_KEY_FILE for several instances).
 * A dump of the database files alone therefore holds no username and no readable
 * sender–recipient pair.
 *
 * The seal is deterministic (the stores look accounts up by it and join on it): a synthetic IV
 * as in AES-SIV (RFC 5297's construction, with HMAC-SHA-256 as the PRF), IV = HMAC(k_iv, name
 * padded to 32 bytes)[0..16], body = AES-256-CTR(k_enc, IV, padded name), sealed =
 * "~" + base64url(IV ‖ body): 65 characters for every name, so no length shows either. Opening
 * recomputes the IV, so a forged or altered value is refused, never read as another name. "~" is
 * outside the username alphabet ([a-z0-9_.]), so a sealed value can never be taken for a clear
 * name (the upgrade in seal-stored-names.ts relies on it).
 *
 * What it does not do: whoever holds the name key AND the database reads every name, and the
 * host process itself sees names on requests, as it must to serve them. It protects the files.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../lib/codec/base64url';
import { isUsername, USERNAME_MAX } from '../../lib/codec/username';

export const NAME_KEY_BYTES = 32;
const SEALED_PREFIX = '~';
const IV_BYTES = 16;
/** Each direction caches this many names (a busy host's active accounts); cleared when full. */
const CACHE_MAX = 16_384;

export class NameSealError extends Error {}

export interface NameSeal {
  /** The sealed form of a username (deterministic). The empty string (no sender) stays empty. */
  seal(name: string): string;
  /** The username a sealed value holds; throws NameSealError on anything it did not seal. */
  open(sealed: string): string;
  /** A one-way keyed hash of a rate-limit key (never read back). */
  rateKey(key: string): string;
  /** Tells the key apart from another without revealing it: stored beside the data it sealed. */
  readonly check: Uint8Array;
}

export function isSealedName(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

function subkey(key: Uint8Array, label: string): Buffer {
  return createHmac('sha256', key).update(`parley name key v1 ${label}`).digest();
}

function pad(name: string): Buffer {
  const out = Buffer.alloc(USERNAME_MAX);
  out.write(name, 'latin1');
  return out;
}

export function nameSeal(key: Uint8Array): NameSeal {
  if (key.length !== NAME_KEY_BYTES) throw new NameSealError(`the name key must be ${NAME_KEY_BYTES} bytes, got ${key.length}`);
  const kIv = subkey(key, 'iv');
  const kEnc = subkey(key, 'enc');
  const kRate = subkey(key, 'rate');
  const sealed = new Map<string, string>();
  const opened = new Map<string, string>();
  const rated = new Map<string, string>();
  const remember = (m: Map<string, string>, k: string, v: string): string => {
    if (m.size >= CACHE_MAX) m.clear();
    m.set(k, v);
    return v;
  };
  const ivOf = (padded: Buffer): Buffer => createHmac('sha256', kIv).update(padded).digest().subarray(0, IV_BYTES);
  const ctr = (iv: Buffer, data: Buffer): Buffer => {
    const c = createCipheriv('aes-256-ctr', kEnc, iv);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return {
    check: new Uint8Array(subkey(key, 'check')),
    seal(name) {
      if (name === '') return '';
      const hit = sealed.get(name);
      if (hit !== undefined) return hit;
      if (!isUsername(name)) throw new NameSealError('only a canonical username is sealed');
      const padded = pad(name);
      const iv = ivOf(padded);
      return remember(sealed, name, SEALED_PREFIX + toBase64Url(Buffer.concat([iv, ctr(iv, padded)])));
    },
    open(value) {
      if (value === '') return '';
      const hit = opened.get(value);
      if (hit !== undefined) return hit;
      if (!isSealedName(value)) throw new NameSealError('not a sealed name');
      let raw: Uint8Array;
      try {
        raw = fromBase64Url(value.slice(SEALED_PREFIX.length), IV_BYTES + USERNAME_MAX);
      } catch {
        throw new NameSealError('not a sealed name');
      }
      if (raw.length !== IV_BYTES + USERNAME_MAX) throw new NameSealError('not a sealed name');
      const iv = Buffer.from(raw.subarray(0, IV_BYTES));
      const padded = ctr(iv, Buffer.from(raw.subarray(IV_BYTES)));
      if (!timingSafeEqual(iv, ivOf(padded))) throw new NameSealError('a sealed name that this key did not seal');
      const end = padded.indexOf(0);
      const name = padded.subarray(0, end < 0 ? padded.length : end).toString('latin1');
      if (!isUsername(name)) throw new NameSealError('a sealed name that this key did not seal');
      return remember(opened, value, name);
    },
    rateKey(key) {
      const hit = rated.get(key);
      if (hit !== undefined) return hit;
      return remember(rated, key, SEALED_PREFIX + toBase64Url(createHmac('sha256', kRate).update(key).digest().subarray(0, 24)));
    }
  };
}
