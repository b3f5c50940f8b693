/**
 * The engine's storage methods (README "Attachments": Manage storage): what this browser's file
 * copies take per conversation, removing a conversation's copies to free space, and the uploads a
 * closed tab left unsent (unsent-files.ts). The contract's
 * thin facade over storage/file-usage.ts; Engine (engine.ts) inherits it. Owns no state.
 */
import { fail } from '../../src/lib/codec/errors';
import type { FilePlaceView, FileStorageView, UnsentFileView } from '../../src/lib/vault/views';
import { fileUsage, removePlaceFiles, type FilePlace } from '../storage/file-usage';
import * as account from './account';
import { discardUpload } from './attachments';
import { EnginePush } from './engine-push';
import { dismissUnsent, unsentFiles } from './unsent-files';

const GROUP_ID = /^[0-9a-f]{64}$/;

/** The place the page named, checked: a canonical username or a group id (the page's types are promises only). */
function checkedPlace(raw: unknown): FilePlace {
  const p = raw as Partial<{ kind: unknown; username: unknown; id: unknown }> | null;
  if (p?.kind === 'chat' && typeof p.username === 'string') return { kind: 'chat', username: account.canonicalUsername(p.username) };
  if (p?.kind === 'group' && typeof p.id === 'string' && GROUP_ID.test(p.id)) return { kind: 'group', id: p.id };
  return fail('InvalidArgument', 'a conversation is a chat by username or a group by its id');
}

export abstract class EngineStorage extends EnginePush {
  fileStorage(): Promise<FileStorageView[]> {
    return fileUsage(this.ctx.vault);
  }

  async removeFiles(place: FilePlaceView): Promise<{ files: number; bytes: number }> {
    return removePlaceFiles(this.ctx.vault, checkedPlace(place));
  }

  async unsentFiles(place: FilePlaceView): Promise<UnsentFileView[]> {
    return unsentFiles(this.ctx.vault, checkedPlace(place));
  }

  async dismissUnsentFile(id: string): Promise<void> {
    if (typeof id !== 'string' || id.length > 256) return fail('InvalidArgument', 'not an unsent file');
    // Its unfinished blob goes from the host too, freeing one of the account's upload slots.
    if (await dismissUnsent(this.ctx.vault, id, this.ctx.deps.now())) this.ctx.kickWithdrawals();
  }

  async discardUpload(transfer: string): Promise<void> {
    if (typeof transfer !== 'string' || !/^[\w-]{1,128}$/.test(transfer)) return fail('InvalidArgument', 'not a transfer id');
    await discardUpload(this.ctx, transfer);
  }
}
