/**
 * Sending one short content right away, outside the outbox's batches (DESIGN.md §7), for the
 * signals that must not wait behind a flush: call signals (calls.ts) and typing notices
 * (typing.ts). The ciphertext is stored in the outbox together with the advanced session in one
 * transaction (as outbox.ts does), so a failed send is retried with the same ciphertext and the
 * ratchet never forks (P12); delivered, the item is removed. Sealed when we hold the peer's
 * delivery token (P41), padded like any short message (sealed-send.ts).
 */
import { isCodedError } from '../../src/lib/codec/errors';
import type { Username } from '../../src/lib/codec/username';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { sessionEncrypt } from '../../src/lib/crypto/session';
import type { SessionState } from '../../src/lib/crypto/session-state';
import { addOutbox, deleteOutbox } from '../storage/outbox-repo';
import { putSessions, sealSessions } from '../storage/session-repo';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { deliver } from './sealed-send';

/**
 * Encrypts `content` on `sessions[0]` and hands it to the host. 'sent' once the host has it;
 * 'stored' if the host refused or could not be reached (the outbox now retries or holds it).
 */
export async function encryptAndSendNow(ctx: EngineContext, username: Username, sessions: readonly SessionState[], content: Uint8Array): Promise<'sent' | 'stored'> {
  const { state, message } = sessionEncrypt(sessions[0]!, content, ctx.deps);
  const record = await sealSessions(ctx.vault, username, [state, ...sessions.slice(1)]);
  const identity = encodeIdentityPublic(sessions[0]!.theirIdentity);
  const seq = await commit(ctx.vault, async (tx) => {
    await putSessions(tx, record);
    return addOutbox(tx, { username, ciphertext: message, identity });
  });
  try {
    await deliver(ctx, username, message, { identity, implicit: true });
  } catch (e) {
    ctx.kickOutbox();
    if (isCodedError(e)) return 'stored';
    throw e;
  }
  await commit(ctx.vault, (tx) => deleteOutbox(tx, seq));
  return 'sent';
}
