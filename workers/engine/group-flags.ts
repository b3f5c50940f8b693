/**
 * Pin, mute and archive for a group (README "Chat list"), as chat-flags.ts files a 1:1 chat: on
 * this browser only — no outbox item, no host request, the members are not told. Mute is the one
 * group mute (a mention of us still notifies, attention.ts). The flags ride in the group's sealed
 * record, and in the account record (version 5) so a PIN restore brings them back as it brings
 * back a chat's.
 */
import { fail } from '../../src/lib/codec/errors';
import type { ChatFlags } from '../../src/lib/vault/views';
import { putGroup, txGetGroup } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { withFlags } from './chat-flags';
import type { EngineContext } from './context';
import { engineFail } from './errors';

/** Pins, mutes or archives group `id` (only the flags given change). */
export async function setGroupFlags(ctx: EngineContext, id: string, flags: Partial<ChatFlags>): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(id)) fail('InvalidArgument', `group id of ${id.length} characters is not 64 hex digits`);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g) engineFail('NoSuchGroup', 'no such group');
      const next = withFlags(g, flags);
      if (next !== g) await putGroup(tx, next);
    })
  );
  ctx.events.emit({ type: 'chats' });
}
