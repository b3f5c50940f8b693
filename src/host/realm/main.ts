/**
 * A PIN-recovery realm on its own (DESIGN.md §7): independent operators run one each, and tests
 * and the PIN benchmark run three on loopback.
 *
 *   npm run realm -- --port 4001 --data ./realm-a --id realm-a --issuer <key> [--host 127.0.0.1] [--origin https://app.example]...
 *                    [--database postgres://…]
 *
 * Storage is the realm's own (realm-port.ts): SQLite in `--data` (the default, with secure
 * deletion), or a PostgreSQL database given by `--database` or REALM_DATABASE_URL, which should be
 * the realm operator's own, never the host's (README "Running realms").
 * `--issuer` is the app host's registration-token key (base64url, 32 bytes; the host writes it to
 * DATA_DIR/realm-issuer.pub): without one the realm accepts no first registration (P38).
 * `--port 0` picks a free port. Once listening it prints exactly one line to stdout,
 * `realm <id> listening on http://<host>:<port>/realm/`, which test harnesses wait for.
 * Environment: PARLEY_REALM_ORIGINS (comma-separated allowed app origins; default APP_ORIGIN),
 * PARLEY_REALM_ISSUERS (comma-separated issuer keys), TRUSTED_PROXY (reverse proxies whose
 * X-Forwarded-For names the client, as for the host: addresses or CIDR ranges), REALM_DATABASE_URL.
 * SIGTERM/SIGINT: stop accepting, finish requests in flight, close the storage.
 */
import { createServer } from 'node:http';
import { initSodium } from '../../lib/crypto/sodium';
import { fromBase64Url } from '../../lib/codec/base64url';
import { createRealm } from './create-realm';
import { clientAddress } from '../client-address';
import { openRealmStorage } from '../storage/open';
import { keyFileIn, parseNameKey, REALM_ID_KEY_FILE } from '../storage/name-key';
import { realmIdKey } from '../storage/realm-ids';

function parseArgs(argv: readonly string[]): { port: number; host: string; data: string; id: string; origins: string[]; issuers: string[]; database: string } {
  const out = { port: NaN, host: '127.0.0.1', data: '', id: '', origins: [] as string[], issuers: [] as string[], database: process.env.REALM_DATABASE_URL ?? '' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${flag}`);
    if (flag === '--port') out.port = Number(value);
    else if (flag === '--host') out.host = value;
    else if (flag === '--data') out.data = value;
    else if (flag === '--id') out.id = value;
    else if (flag === '--origin') out.origins.push(value);
    else if (flag === '--issuer') out.issuers.push(value);
    else if (flag === '--database') out.database = value;
    else throw new Error(`unknown argument ${flag}`);
    i++;
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port N (0..65535) is required');
  if (!out.data || !out.id) throw new Error('--data DIR and --id NAME are required');
  return out;
}

const args = parseArgs(process.argv.slice(2));
await initSodium();
const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const origins = [...args.origins, ...list(process.env.PARLEY_REALM_ORIGINS)];
const issuers = [...args.issuers, ...list(process.env.PARLEY_REALM_ISSUERS)].map((k) => {
  const key = fromBase64Url(k, 32);
  if (key.length !== 32) throw new Error(`issuer key of ${key.length} bytes, need 32`);
  return key;
});
if (issuers.length === 0) console.error(`realm ${args.id}: no --issuer configured, so no first registration will be accepted`);
// Rows keyed by HMAC of the user id under a key outside the database (README "Usernames at rest");
// processes sharing one realm database need the same REALM_ID_KEY.
const idKey = process.env.REALM_ID_KEY ? parseNameKey(process.env.REALM_ID_KEY, 'REALM_ID_KEY') : keyFileIn(args.data, REALM_ID_KEY_FILE);
const storage = await openRealmStorage({ databaseUrl: args.database || undefined, dataDir: args.data }, realmIdKey(idKey));
const realm = createRealm({
  id: args.id,
  storage,
  issuers,
  // None given: APP_ORIGIN applies (createRealm's default), else the request's own origin.
  ...(origins.length > 0 ? { allowedOrigins: origins } : {}),
  clientAddress: clientAddress(list(process.env.TRUSTED_PROXY))
});

const server = createServer((req, res) => {
  void realm.handle(req, res).then((handled) => {
    if (!handled) {
      res.writeHead(404);
      res.end();
    }
  });
});

server.listen(args.port, args.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : args.port;
  console.log(`realm ${args.id} listening on http://${args.host}:${port}/realm/`);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      realm.close().then(
        () => process.exit(0),
        () => process.exit(1)
      );
    });
    server.closeIdleConnections();
  });
}
