/**
 * Runs inside the search benchmark's page (bundled by search-browser.bench.ts): writes the search
 * corpus (search-corpus.ts) into the account's vault through the worker's own storage code —
 * loadVault (data key, P32 sealing) and `putMessage`, which indexes each row in its transaction
 * exactly as the engine does, so the sealed index is the one the app builds. Only sending is
 * skipped.
 */
import { asUsername } from '../../src/lib/codec/username';
import { preview, updateChat } from '../../workers/storage/chat-repo';
import { putMessage } from '../../workers/storage/message-repo';
import type { MessageRecord } from '../../workers/storage/schema';
import { commit, loadVault } from '../../workers/storage/vault';
import { MESSAGES, message } from './search-corpus';

const BATCH = 500;

async function seedSearch(dbName: string, endAt: number): Promise<number> {
  const vault = await loadVault(dbName);
  if (vault.lost) throw new Error(`vault is lost: ${vault.lost}`);
  for (let from = 0; from < MESSAGES; from += BATCH) {
    await commit(vault, async (tx) => {
      const newest = new Map<string, MessageRecord>();
      for (let i = from; i < from + BATCH; i++) {
        const m = message(i, endAt);
        await putMessage(tx, m);
        newest.set(m.username, m);
      }
      for (const m of newest.values()) await updateChat(tx, asUsername(m.username), (c) => (m.sentAt > c.lastAt ? { ...c, lastAt: m.sentAt, lastPreview: preview(m.body) } : c));
    });
  }
  vault.db.close();
  return MESSAGES;
}

(globalThis as { __seedSearch?: typeof seedSearch }).__seedSearch = seedSearch;
