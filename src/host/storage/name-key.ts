/**
 * Where the name key (name-seal.ts) comes from, README "Usernames at rest": NAME_KEY (base64url
 * of 32 bytes) or NAME_KEY_FILE (a file holding that text), which every instance of one
 * deployment must share; else `name.key` in DATA_DIR, made on first start with mode 0600. The key
 * is kept out of the database on purpose: a dump of the database alone must not open the names.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64Url, toBase64Url } from '../../lib/codec/base64url';
import { NAME_KEY_BYTES } from './name-seal';

export const NAME_KEY_FILE = 'name.key';
/** A realm process's own key for its user ids (realm-ids.ts), in its data directory. */
export const REALM_ID_KEY_FILE = 'realm-id.key';

export function parseNameKey(text: string, from: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = fromBase64Url(text.trim(), 2 * NAME_KEY_BYTES);
  } catch {
    throw new Error(`${from} is not base64url`);
  }
  if (key.length !== NAME_KEY_BYTES) throw new Error(`${from} must hold ${NAME_KEY_BYTES} bytes (base64url), not ${key.length}`);
  return key;
}

/** NAME_KEY or NAME_KEY_FILE from the environment; undefined when neither is set. */
export function nameKeyFromEnv(env: Record<string, string | undefined>): Uint8Array | undefined {
  if (env.NAME_KEY) return parseNameKey(env.NAME_KEY, 'NAME_KEY');
  if (env.NAME_KEY_FILE) return parseNameKey(readFileSync(env.NAME_KEY_FILE, 'utf8'), `NAME_KEY_FILE ${env.NAME_KEY_FILE}`);
  return undefined;
}

/** The name key in dataDir (made if missing, as on a first `npm start`). */
export function nameKeyInDataDir(dataDir: string): Uint8Array {
  return keyFileIn(dataDir, NAME_KEY_FILE);
}

/** The 32-byte key in `file` under dir, made (0600, never overwritten) when there is none. */
export function keyFileIn(dir: string, file: string): Uint8Array {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  // Written whole under a temporary name, then linked into place (fails if one is there): two
  // processes starting at once on one directory both end up reading the one key, never a half.
  const tmp = `${path}.${process.pid}.${toBase64Url(randomBytes(6))}`;
  writeFileSync(tmp, `${toBase64Url(randomBytes(NAME_KEY_BYTES))}\n`, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  return parseNameKey(readFileSync(path, 'utf8'), path);
}
