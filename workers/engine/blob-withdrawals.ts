/**
 * Our own blobs the host should delete (wire/blob-api.ts DELETE; README "Attachments (as built)",
 * *The uploader's delete*): a file message deleted for everyone, an upload cancelled or given up.
 * Only the person's own action puts a blob here, after the local change is committed.
 *
 * The ids wait in a sealed `meta` value (P32: a blob id is the capability to fetch the ciphertext)
 * until the host confirms: 204, or 404 (already gone: retention, a release, another tab's delete).
 * Any other answer, or none, stops the pass and keeps the rest for the next one: when this tab's
 * socket comes online again, or the next time a blob is withdrawn. So a delete made offline, or in
 * a worker killed before its request went, reaches the host later; a host that refuses forever
 * gets at most one DELETE per reconnect. An id older than the host's retention is dropped unsent:
 * the host deleted that blob by itself. The host learns nothing a first attempt did not tell it.
 */
import { BLOB_RETENTION_MS } from '../../src/lib/wire/blob-api';
import { openJson, sealJson } from '../storage/record-seal';
import type { Tx } from '../storage/schema';
import { assertUsable, commit, type Vault } from '../storage/vault';
import { withdrawBlob } from './blob-client';
import type { EngineContext } from './context';

export const WITHDRAWALS_META_KEY = 'blobWithdrawals';
/** Ids kept at most; past it the oldest go (they are the nearest to the host's own deletion). */
export const MAX_WITHDRAWALS = 256;

interface Pending {
  id: string;
  /** When it was withdrawn, by our clock. */
  at: number;
}

async function txPending(tx: Tx): Promise<Pending[]> {
  const sealed = await tx.objectStore('meta').get(WITHDRAWALS_META_KEY);
  return sealed ? openJson<Pending[]>(tx, 'meta', WITHDRAWALS_META_KEY, sealed as never) : [];
}

/** The list as stored, read on its own (a pass at each connection usually finds none). */
async function storedPending(vault: Vault): Promise<Pending[]> {
  assertUsable(vault);
  const sealed = await vault.db.get('meta', WITHDRAWALS_META_KEY);
  return sealed ? openJson<Pending[]>(vault.db, 'meta', WITHDRAWALS_META_KEY, sealed as never) : [];
}

async function txWrite(tx: Tx, list: readonly Pending[]): Promise<void> {
  const meta = tx.objectStore('meta');
  if (list.length === 0) await meta.delete(WITHDRAWALS_META_KEY);
  else await meta.put(sealJson(tx, 'meta', WITHDRAWALS_META_KEY, list.slice(-MAX_WITHDRAWALS)), WITHDRAWALS_META_KEY);
}

const live = (now: number) => (p: Pending) => now - p.at < BLOB_RETENTION_MS;

/** A pass running in this worker, and whether another was asked for meanwhile. */
const passes = new WeakMap<EngineContext, { again: boolean }>();

/**
 * Notes `blobIds` as withdrawn (after the action that gave them up is stored) and starts a pass.
 * Never rejects: the action stands whatever happens here.
 */
export async function withdrawBlobs(ctx: EngineContext, blobIds: readonly string[]): Promise<void> {
  if (blobIds.length === 0) return;
  const now = ctx.deps.now();
  try {
    await commit(ctx.vault, async (tx) => {
      const list = (await txPending(tx)).filter((p) => live(now)(p) && !blobIds.includes(p.id));
      await txWrite(tx, [...list, ...blobIds.map((id) => ({ id, at: now }))]);
    });
  } catch {
    // Locked or gone meanwhile: the blob is left to the host's retention, as before.
    return;
  }
  await sendWithdrawals(ctx);
}

/** Sends the waiting DELETEs in order until one is not confirmed. Never rejects. */
export async function sendWithdrawals(ctx: EngineContext): Promise<void> {
  const running = passes.get(ctx);
  if (running) {
    running.again = true;
    return;
  }
  const pass = { again: true };
  passes.set(ctx, pass);
  try {
    while (pass.again) {
      pass.again = false;
      if (!ctx.me || ctx.vault.locked) return;
      const now = ctx.deps.now();
      const list = await storedPending(ctx.vault);
      const gone = new Set<string>();
      for (const p of list.filter(live(now))) {
        if (!(await withdrawBlob(ctx, p.id))) break;
        gone.add(p.id);
      }
      if (gone.size === 0 && list.every(live(now))) continue;
      await commit(ctx.vault, async (tx) => txWrite(tx, (await txPending(tx)).filter((p) => live(now)(p) && !gone.has(p.id))));
    }
  } catch {
    // The vault locked or closed under the pass: what is left waits for the next one.
  } finally {
    passes.delete(ctx);
  }
}
