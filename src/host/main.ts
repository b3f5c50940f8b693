/**
 * Host entry: `npm start` / `npm run serve`. PORT (default 3000), DATA_DIR (default ./data),
 * HOST (default 0.0.0.0), PARLEY_LIMITS (JSON overrides of limits.ts), PARLEY_QUIET=1 (no request
 * log lines), TRUSTED_PROXY (comma-separated addresses or CIDR ranges of reverse proxies whose
 * X-Forwarded-For names the client; client-address.ts), DATABASE_URL (postgres://…: PostgreSQL
 * instead of SQLite, shareable by several instances; storage/open.ts). Serves build/ when it
 * exists. SIGTERM/SIGINT drain gracefully: stop accepting, commit and acknowledge everything
 * queued, close sockets with 1012 (clients reconnect), close the stores.
 * Prints exactly one "listening" line to stdout once ready (test harnesses wait for it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fromBase64Url } from '../lib/codec/base64url';
import { decodeServerCertificate } from '../lib/crypto/certificates';
import type { SealedKeys } from './sealed';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, type Limits } from './limits';
import { createHost } from './server';
import { storeLocationFromEnv } from './storage/open';
import { nameKeyFromEnv } from './storage/name-key';

/** PARLEY_LIMITS: a JSON object overriding entries of DEFAULT_LIMITS (unknown keys are an error). */
function limitsFromEnv(text: string | undefined): Partial<Limits> {
  if (!text) return {};
  const parsed = JSON.parse(text) as Record<string, unknown>;
  for (const [k, v] of Object.entries(parsed)) {
    if (!(k in DEFAULT_LIMITS)) throw new Error(`PARLEY_LIMITS: unknown limit ${k}`);
    if (typeof v !== typeof DEFAULT_LIMITS[k as keyof Limits]) throw new Error(`PARLEY_LIMITS: ${k} has the wrong type`);
  }
  return parsed as Partial<Limits>;
}

/**
 * SEALED_KEYS_FILE (P41, production): JSON {"root": <trust root public key>, "certificate":
 * <encoded ServerCertificate>, "privateKey": <its Ed25519 secret key>}, base64url, made with the
 * operator's offline root. Unset: a development root in DATA_DIR (src/host/sealed.ts).
 */
function sealedKeysFromEnv(path: string | undefined): SealedKeys | undefined {
  if (!path) return undefined;
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const b = (k: string, max: number) => {
    if (typeof j[k] !== 'string') throw new Error(`SEALED_KEYS_FILE: ${k} missing`);
    return fromBase64Url(j[k], max);
  };
  return {
    trust: { root: b('root', 32), revokedServerKeyIds: [] },
    server: { certificate: decodeServerCertificate(b('certificate', 110)), privateKey: b('privateKey', 64) }
  };
}
const sealedKeys = sealedKeysFromEnv(process.env.SEALED_KEYS_FILE);

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT ${process.env.PORT} is not a port number`);
const dataDir = resolve(process.env.DATA_DIR ?? './data');
const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));

const host = await createHost({
  port,
  hostname: process.env.HOST ?? '0.0.0.0',
  dataDir,
  databaseUrl: storeLocationFromEnv(process.env, dataDir).databaseUrl,
  nameKey: nameKeyFromEnv(process.env),
  limits: limitsFromEnv(process.env.PARLEY_LIMITS),
  staticDir: existsSync(buildDir) ? buildDir : undefined,
  ...(sealedKeys ? { sealedKeys } : {}),
  // Web Push: PUSH_SUBJECT (VAPID contact, mailto: or https:); PUSH_DEV_LOOPBACK=1 accepts
  // http://127.0.0.1 push endpoints (tests and development only).
  push: { allowLoopbackHttp: process.env.PUSH_DEV_LOOPBACK === '1', ...(process.env.PUSH_SUBJECT ? { subject: process.env.PUSH_SUBJECT } : {}) },
  trustedProxies: (process.env.TRUSTED_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  log: process.env.PARLEY_QUIET === '1' ? undefined : (line) => console.error(line)
});
console.log(`Parley listening on ${host.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    host.close().then(
      () => process.exit(0),
      () => process.exit(1)
    );
  });
}
