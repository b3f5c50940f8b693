/**
 * Our own blobs the host should delete (wire/blob-api.ts DELETE; README "Attachments (as built)",
 * *The uploader's delete*): a file message deleted for everyone, an upload cancelled or given up.
 * Only the person's own action puts a blob here, in the transaction of its local change
 * (`noteWithdrawals`): the note stands or falls with the change, and no worker dies between them.
 *
 * The ids wait in a sealed `meta` value (P32: a blob id is the capability to fetch the ciphertext)
 * until the host confirms: 204, or 404 (already gone: retention, a release, another tab's delete).
 * Any other answer, or none, stops the pass and keeps the rest for the next one (`WithdrawalRetry`:
 * when the socket comes online, when a blob is withdrawn, and on a doubling delay while any wait).
 * So a delete made offline, or in a worker killed before its request went, reaches the host later.
 * An id older than the host's retention is dropped unsent: the host deleted that blob by itself.
 * The host learns nothing a first attempt did not tell it.
 */
import { BLOB_RETENTION_MS } from '../../src/lib/wire/blob-api';
import { openJson, sealJson } from '../storage/record-seal';
import type { Tx } from '../storage/schema';
import { assertUsable, commit, type Vault } from '../storage/vault';
import { Backoff } from './backoff';
import { withdrawBlob } from './blob-client';
import type { EngineContext } from './context';

export const WITHDRAWALS_META_KEY = 'blobWithdrawals';
/** Ids kept at most; past it the oldest go (they are the nearest to the host's own deletion). */
export const MAX_WITHDRAWALS = 256;
/** The longest wait between passes while the host leaves ids unconfirmed. */
export const WITHDRAW_RETRY_MAX_MS = 10 * 60_000;

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

/** The pass running in this worker, and whether another was asked for meanwhile. */
const passes = new WeakMap<EngineContext, { again: boolean; done: Promise<boolean> }>();

/**
 * Notes `blobIds` as withdrawn at `now`, inside `tx`: the transaction of the action that gave them
 * up, which stands or falls with it. Ask for a pass (`ctx.kickWithdrawals`) once `tx` committed.
 * It fails the action only with `tx` itself: the one write is a put to `meta` sealed with the data
 * key the action's own rows are sealed with. A stored list that does not open (only this file
 * writes it, sealed, and a key rotation re-seals it) is left as it is and nothing is noted: the
 * blob is left to the host's retention, and the action stands.
 */
export async function noteWithdrawals(tx: Tx, blobIds: readonly string[], now: number): Promise<void> {
  if (blobIds.length === 0) return;
  let list: Pending[];
  try {
    list = (await txPending(tx)).filter((p) => live(now)(p) && !blobIds.includes(p.id));
  } catch {
    return;
  }
  await txWrite(tx, [...list, ...blobIds.map((id) => ({ id, at: now }))]);
}

/**
 * Sends the waiting DELETEs in order until one is not confirmed. True when ids are left because
 * the host did not confirm one (try again later); false when none wait, or when the vault is
 * locked or closed (its next unlock and connection ask again). Never rejects. A call while a pass
 * runs joins it, and the pass goes round once more for what was noted since.
 */
export function sendWithdrawals(ctx: EngineContext): Promise<boolean> {
  const running = passes.get(ctx);
  if (running) {
    running.again = true;
    return running.done;
  }
  // Registered before the pass starts: one that ends at once (no account, a locked vault) still
  // removes itself, so it never stands for a pass that is over.
  const pass = { again: true, done: Promise.resolve(false) };
  passes.set(ctx, pass);
  pass.done = runPass(ctx, pass);
  return pass.done;
}

async function runPass(ctx: EngineContext, pass: { again: boolean }): Promise<boolean> {
  let left = false;
  try {
    while (pass.again) {
      pass.again = false;
      if (!ctx.me || ctx.vault.locked) return false;
      const now = ctx.deps.now();
      const list = await storedPending(ctx.vault);
      const gone = new Set<string>();
      const due = list.filter(live(now));
      for (const p of due) {
        if (!(await withdrawBlob(ctx, p.id))) break;
        gone.add(p.id);
      }
      left = gone.size < due.length;
      if (gone.size === 0 && due.length === list.length) continue;
      await commit(ctx.vault, async (tx) => txWrite(tx, (await txPending(tx)).filter((p) => live(now)(p) && !gone.has(p.id))));
    }
    return left;
  } catch {
    // The vault locked or closed under the pass: what is left waits for the next one.
    return false;
  } finally {
    passes.delete(ctx);
  }
}

/**
 * When the engine runs passes: at once when asked (a withdrawal, the socket coming online), and,
 * while the host leaves ids unconfirmed and the engine wants to be connected, again after a delay
 * that doubles from the engine's retry delay up to WITHDRAW_RETRY_MAX_MS. A confirmed pass resets
 * it. So a DELETE that failed while the socket stayed up (an HTTP error, a proxy, a browser gone
 * offline without closing the socket) still goes once the host answers, and a host that refuses
 * for good gets about six an hour.
 */
export class WithdrawalRetry {
  readonly #backoff: Backoff;

  /**
   * `pass`: one pass over the deletes owed (`sendWithdrawals`, with whatever else the engine owes),
   * answering true while some are left; it never rejects.
   */
  constructor(
    private readonly pass: () => Promise<boolean>,
    baseMs: number,
    wanted: () => boolean,
    private readonly track: (p: Promise<boolean>) => Promise<boolean>
  ) {
    this.#backoff = new Backoff(baseMs, WITHDRAW_RETRY_MAX_MS, wanted);
  }

  kick(): void {
    void this.track(this.pass()).then((left) => {
      if (left) this.#backoff.schedule(() => this.kick());
      else this.#backoff.reset();
    });
  }

  /** A pass after the current delay, not now: the caller's own attempt has just failed. */
  later(): void {
    this.#backoff.schedule(() => this.kick());
  }

  stop(): void {
    this.#backoff.stop();
  }
}
