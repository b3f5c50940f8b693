/**
 * Account lifecycle (DESIGN.md §4 "Identity", "Prekeys"; §8): create an identity and prekeys,
 * store them sealed, claim the username on the host, and keep the host's prekey pool topped up.
 *
 * Order on creation: keys are committed locally FIRST, then registered; if the host refuses, the
 * local account is erased again so a retry starts clean. Refilling prekeys is prekey-pool.ts.
 * Knows nothing of sessions or messages.
 */
import { fail, ProtocolError } from '../../src/lib/codec/errors';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic
} from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { canonicalUsername as canonical } from '../../src/lib/codec/username';
import { getAccount, getDevice, getIdentity, putAccount, putIdentity, sealIdentity } from '../storage/account-repo';
import { putPreKeys, sealPreKeys, type NewPreKeys } from '../storage/prekey-repo';
import { ALL_STORES, type AccountRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext, Me } from './context';
import type { HostAuth } from './transport';
import type { Username } from '../../src/lib/codec/username';

/** Pool sizes at creation; prekey-pool.ts refills to the same targets. */
export const ONE_TIME_TARGET = 50;
export const KEM_TARGET = 20;

/** DESIGN.md §4: NFKC, case-folded; then 3–32 chars of [a-z0-9_.] (shared with the host). */
export function canonicalUsername(name: string): Username {
  const c = canonical(name);
  if (c instanceof ProtocolError) throw c;
  return c;
}

export function hostAuth(me: Me): HostAuth {
  const auth: HostAuth = { username: me.username, sign: (m) => ed25519Sign(me.identity.signing.privateKey, m) };
  if (me.device) auth.device = me.device;
  return auth;
}

/** Loads the stored account into ctx.me; false if this vault has none. */
export async function loadAccount(ctx: EngineContext): Promise<boolean> {
  const account = await getAccount(ctx.vault);
  const identity = await getIdentity(ctx.vault);
  if (!account || !identity || !account.registered) return false;
  const device = await getDevice(ctx.vault);
  ctx.me = device ? { username: account.username, identity, device } : { username: account.username, identity };
  return true;
}

export async function createAccount(ctx: EngineContext, name: string): Promise<{ username: Username }> {
  const username = canonicalUsername(name);
  const existing = await getAccount(ctx.vault);
  if (existing?.registered) fail('InvalidArgument', 'this vault already holds an account');
  const { deps } = ctx;
  const identity = generateIdentity(deps);
  const signed = generateSignedPreKey(identity, 1, deps);
  const lastResort = generateKemPreKey(identity, 1, true, deps);
  const oneTime = generateOneTimePreKeys(1, ONE_TIME_TARGET, deps);
  const kem = [lastResort];
  for (let i = 0; i < KEM_TARGET; i++) kem.push(generateKemPreKey(identity, 2 + i, false, deps));
  const keys: NewPreKeys = { signed, oneTime, kem };
  const account: AccountRecord = {
    username,
    createdAt: deps.now(),
    registered: false,
    nextOneTimeId: 1 + ONE_TIME_TARGET,
    nextKemId: 2 + KEM_TARGET,
    nextSignedId: 2
  };
  const sealedId = await sealIdentity(ctx.vault, identity);
  const records = sealPreKeys(ctx.vault, keys, deps.now());
  await commit(ctx.vault, async (tx) => {
    // A previous failed attempt may have left keys behind: start from an empty vault.
    for (const s of ALL_STORES) if (s !== 'meta') await tx.objectStore(s).clear();
    await putAccount(tx, account);
    await putIdentity(tx, sealedId);
    await putPreKeys(tx, records);
  });
  const me = { username, identity };
  try {
    await ctx.transport.register(hostAuth(me), {
      identity: identityPublic(identity),
      signedPreKey: signedPreKeyPublic(signed),
      oneTimePreKeys: oneTime.map(oneTimePreKeyPublic),
      kemPreKeys: kem.map(kemPreKeyPublic)
    });
  } catch (e) {
    await commit(ctx.vault, async (tx) => {
      for (const s of ALL_STORES) if (s !== 'meta') await tx.objectStore(s).clear();
      await tx.objectStore('meta').delete('account');
      await tx.objectStore('meta').delete('identity');
    });
    throw e;
  }
  await commit(ctx.vault, (tx) => putAccount(tx, { ...account, registered: true }));
  ctx.me = me;
  // Persistent storage is requested by the page (src/lib/client/session.svelte.ts): workers have no persist().
  return { username };
}
