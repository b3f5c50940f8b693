/**
 * Our username link (README "Design: private discovery"; crypto in
 * src/lib/crypto/username-link.ts): a URL or QR code that names us without the host being able to
 * read it, and that we can reset. The link text (id and key) is kept in the meta store sealed with
 * the data key (P32); the host keeps only the id, a write-token verifier and the encrypted name,
 * uploaded over a request that carries no account. Opening someone's link fetches the blob by id,
 * decrypts it with the key from the fragment and starts the chat (contacts.lookupUser).
 * Knows nothing of the page or URLs beyond the link text.
 */
import { fail } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { linkText, newUsernameLink, openUsernameLink as openLink, parseLinkText, sealUsernameLink, usernameLinkWriteToken, type UsernameLink } from '../../src/lib/crypto/username-link';
import { openText, sealText } from '../storage/record-seal';
import type { Sealed } from '../storage/schema';
import { commit } from '../storage/vault';
import { lookupUser } from './contacts';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { deleteRetiredBlobs, txRetireBlob } from './retired-blobs';

const META_KEY = 'usernameLink';

async function stored(ctx: EngineContext): Promise<UsernameLink | undefined> {
  const sealed = (await ctx.vault.db.get('meta', META_KEY)) as Sealed | undefined;
  return sealed ? parseLinkText(openText(ctx.vault.db, 'meta', META_KEY, sealed)) : undefined;
}

/** A new link, published, then stored; `retired`: the old link, owed a delete from the same commit. */
async function publish(ctx: EngineContext, retired?: UsernameLink): Promise<UsernameLink> {
  const me = requireMe(ctx);
  if (!ctx.usernameLinks) fail('NotInitialized', 'this engine has no username link endpoint');
  const link = newUsernameLink(ctx.deps);
  await ctx.usernameLinks.put(link.id, sealUsernameLink(link, me.username, ctx.deps), usernameLinkWriteToken(me.identity, link.id));
  const text = linkText(link);
  await commit(ctx.vault, async (tx) => {
    await tx.objectStore('meta').put(sealText(tx, 'meta', META_KEY, text), META_KEY);
    if (retired) await txRetireBlob(tx, 'link', retired.id);
  });
  return link;
}

/** Our link text (made and published on first use). */
export async function usernameLink(ctx: EngineContext): Promise<string> {
  return linkText((await stored(ctx)) ?? (await publish(ctx)));
}

/**
 * A new link; the old one is deleted from the host, so every copy of it stops working. A delete the
 * host does not take now stays owed and is asked again until it does (retired-blobs.ts).
 */
export async function resetUsernameLink(ctx: EngineContext): Promise<string> {
  const me = requireMe(ctx);
  const next = await publish(ctx, await stored(ctx));
  // A lock while the new link went up (P46): once the keys are going, ask nothing more.
  if (ctx.me !== me) engineFail('Locked', 'the vault locked while the new link went up');
  if (await deleteRetiredBlobs(ctx)) ctx.kickWithdrawals(true);
  return linkText(next);
}

/** Opens someone's link and starts the chat with them; NoSuchUser if it was reset or never existed. */
export async function openUsernameLink(ctx: EngineContext, text: string): Promise<{ username: Username }> {
  requireMe(ctx);
  if (!ctx.usernameLinks) fail('NotInitialized', 'this engine has no username link endpoint');
  const link = parseLinkText(text);
  const blob = await ctx.usernameLinks.get(link.id);
  if (!blob) engineFail('NoSuchUser', 'this link was reset or never existed');
  return lookupUser(ctx, openLink(link, blob));
}
