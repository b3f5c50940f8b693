/**
 * What the vault needs to seal and open (SECURITY.md P41): the pinned trust root, our current
 * sender certificate and one SealedSenderCache, per engine context, in worker memory.
 *
 * Trust: the build's pin (`ctx.sealedTrust`, from VITE_PARLEY_SEALED_ROOT) when there is one;
 * otherwise the root the host serves, pinned in the vault on first use and never replaced by a
 * later answer (README "sealed sender": trust on first use, like the first load of the code).
 * Certificates are fetched over the authenticated connection and renewed an hour before expiry.
 * Knows nothing of envelopes' layouts or of the outbox.
 */
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { decodeSenderCertificate, type SealedSenderTrust, type SenderCertificate } from '../../src/lib/crypto/certificates';
import { SealedSenderCache } from '../../src/lib/crypto/sealed-cache';
import { checkOwnCertificate } from '../../src/lib/crypto/sealed-sender';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';

const TRUST_KEY = 'sealedTrust';
/** Renew our certificate this long before it expires (a sealed envelope waiting in the outbox is fine). */
const RENEW_MS = 60 * 60 * 1000;

interface State {
  trust?: SealedSenderTrust;
  cache?: SealedSenderCache;
  certificate?: SenderCertificate;
}

const states = new WeakMap<EngineContext, State>();

function stateOf(ctx: EngineContext): State {
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = {}));
  return s;
}

interface StoredTrust {
  root: string;
  revoked: number[];
}

/** The pinned trust, or undefined when none is pinned and the host serves none. */
export async function pinnedTrust(ctx: EngineContext): Promise<SealedSenderTrust | undefined> {
  const s = stateOf(ctx);
  if (s.trust) return s.trust;
  if (ctx.sealedTrust) return (s.trust = ctx.sealedTrust);
  const stored = (await ctx.vault.db.get('meta', TRUST_KEY)) as StoredTrust | undefined;
  if (stored) return (s.trust = { root: fromBase64Url(stored.root, 32), revokedServerKeyIds: stored.revoked });
  if (!ctx.transport.sealedTrust) return undefined;
  const served = await ctx.transport.sealedTrust();
  const tx = ctx.vault.db.transaction('meta', 'readwrite');
  // First use pins it; a pin another tab wrote meanwhile wins.
  const again = (await tx.store.get(TRUST_KEY)) as StoredTrust | undefined;
  if (!again) await tx.store.put({ root: toBase64Url(served.root), revoked: [...served.revokedServerKeyIds] } satisfies StoredTrust, TRUST_KEY);
  await tx.done;
  return pinnedTrust(ctx);
}

/** The per-context memo (sealed-cache.ts), made for the pinned trust. */
export async function sealedCache(ctx: EngineContext): Promise<SealedSenderCache | undefined> {
  const trust = await pinnedTrust(ctx);
  if (!trust) return undefined;
  const s = stateOf(ctx);
  s.cache ??= new SealedSenderCache(trust);
  return s.cache;
}

/** Our sender certificate, renewed when it is near expiry; undefined if the host issues none. */
export async function senderCertificate(ctx: EngineContext): Promise<SenderCertificate | undefined> {
  const me = requireMe(ctx);
  const s = stateOf(ctx);
  const now = ctx.deps.now();
  if (s.certificate && s.certificate.expires - RENEW_MS > now) return s.certificate;
  if (!ctx.transport.senderCertificate) return undefined;
  const cert = decodeSenderCertificate(await ctx.transport.senderCertificate(hostAuth(me)));
  // The host must certify OUR identity and username, or nobody could open what we seal.
  checkOwnCertificate(cert, me.identity, ctx.deps);
  if (cert.username !== me.username) return undefined;
  s.certificate = cert;
  return cert;
}

/** Forgets certificates and the cache (lock, restore, a trust change). */
export function clearSealedState(ctx: EngineContext): void {
  const s = states.get(ctx);
  s?.cache?.clear();
  states.delete(ctx);
}
