/**
 * The worker-memory caches that hold secrets outside the vault's own (SECURITY.md P46: locking
 * drops every key this worker holds). Each lives per engine context in a module of its own, out
 * of reach of the engine object, so dropping the engine's fields alone leaves them:
 * - sealed-state.ts: the SealedSenderCache (static-static X25519 secrets, as sensitive as the
 *   identity key, and the v2 tag keys derived from them) and our sender certificate;
 * - sealed-recipients.ts: the delivery tokens derived from contacts' profile keys;
 * - group-sealed.ts: the groups' v3 send plans (no secret between sends, but members' keys and
 *   names in libsodium's heap, freed with the rest);
 * - chat-routes.ts: the subkeys that seal usernames into chat addresses;
 * - attachments.ts: uploads kept for a Retry, each holding its file key and stream state (their
 *   notes and partial copies stay in the vault: a Retry after unlocking takes over from there).
 * - profile-transport.ts: requests for owner-written blobs (profiles, username links) still
 *   waiting on the host. The work behind each holds what it captured (the identity key it signs
 *   write tokens with, a contact's profile key) until the answer comes, so they are cut off
 *   (cut-off.ts); whatever resumes finds the vault locked or no account, and asks nothing more.
 * `forgetMemorySecrets` wipes and drops them all; the engine calls it when the vault locks, when
 * the account leaves this browser and when the local data is reset. They refill on the next use.
 * Knows nothing of what the caches hold beyond whom to tell.
 */
import type { EngineContext } from './context';
import { forgetUnfinishedUploads } from './attachments';
import { forgetChatRoutes } from './chat-routes';
import { forgetPlans } from './group-sealed';
import { forgetSealedRecipients } from './sealed-recipients';
import { clearSealedState } from './sealed-state';

export function forgetMemorySecrets(ctx: EngineContext): void {
  clearSealedState(ctx);
  forgetSealedRecipients(ctx);
  forgetPlans(ctx);
  forgetChatRoutes(ctx);
  forgetUnfinishedUploads(ctx.vault);
  ctx.profiles?.cut();
  ctx.usernameLinks?.cut();
}
