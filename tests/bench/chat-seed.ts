/**
 * Runs inside the benchmark's page (bundled by chat.bench.ts): writes a long conversation into the
 * account's vault through the worker's own storage code — the same loadVault (wrapping key, data
 * key, P32 sealing) and message/chat repositories the engine uses, so every row is exactly what
 * the engine would have stored. Nothing is mocked; only the sending is skipped.
 */
import { asUsername } from '../../src/lib/codec/username';
import { preview, updateChat } from '../../workers/storage/chat-repo';
import { incomingKey, putMessage } from '../../workers/storage/message-repo';
import type { MessageRecord } from '../../workers/storage/schema';
import { commit, loadVault } from '../../workers/storage/vault';

const BATCH = 500;

/** Writes `count` texts (alternating in/out, all delivered and read) ending one minute before `endAt`. */
async function seedConversation(dbName: string, raw: string, count: number, endAt: number): Promise<number> {
  const username = asUsername(raw);
  const vault = await loadVault(dbName);
  if (vault.lost) throw new Error(`vault is lost: ${vault.lost}`);
  const start = endAt - (count + 1) * 60_000;
  for (let from = 0; from < count; from += BATCH) {
    await commit(vault, async (tx) => {
      let last: MessageRecord | undefined;
      for (let i = from; i < Math.min(count, from + BATCH); i++) {
        const sentAt = start + i * 60_000;
        const id = `seed${i.toString(36).padStart(6, '0')}`;
        const out = i % 2 === 0;
        const body = `${out ? 'Me' : 'You'} #${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (i % 3))}`;
        last = out
          ? { key: id, id, username, direction: 'out', body, sentAt, receivedAt: sentAt, status: 'read' }
          : { key: incomingKey(username, id), id, username, direction: 'in', body, sentAt, receivedAt: sentAt, status: 'received', read: true };
        await putMessage(tx, last);
      }
      const newest = last!;
      await updateChat(tx, username, (c) => (newest.sentAt > c.lastAt ? { ...c, lastAt: newest.sentAt, lastPreview: preview(newest.body) } : c));
    });
  }
  vault.db.close();
  return count;
}

(globalThis as { __seedConversation?: typeof seedConversation }).__seedConversation = seedConversation;
