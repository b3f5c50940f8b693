/**
 * Who is typing to us now (README "Typing indicators"): set by a `typing` event, cleared by their
 * "stopped", by a message from them, or SHOW_MS after the last "started" (a lost "stopped" or a
 * sender that went away never leaves "typing…" up). Only what the vault decided to show reaches
 * here (workers/engine/typing.ts). Pure: timers injected; knows nothing of Svelte or the vault.
 */
import type { VaultEvent } from '../../vault/views';

/** How long one "started" shows without a refresh (Signal: 15 s). */
export const SHOW_MS = 15_000;

export interface BoardTimers {
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: BoardTimers = { set: (f, ms) => setTimeout(f, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };

export class TypingBoard {
  readonly #expiry = new Map<string, unknown>();

  constructor(
    private readonly changed: (typing: ReadonlySet<string>) => void,
    private readonly timers: BoardTimers = realTimers
  ) {}

  has(username: string): boolean {
    return this.#expiry.has(username);
  }

  onEvent(e: VaultEvent): void {
    if (e.type === 'typing') {
      if (e.typing) return this.#start(e.username);
      return this.#clear(e.username);
    }
    // Their message ends their typing; ours, a status or a marker does not.
    if (e.type === 'message' && !e.removed && e.message?.kind === 'text' && e.message.direction === 'in') this.#clear(e.username);
    else if (e.type === 'message' && !e.message && !e.removed && e.id !== 'gap') this.#clear(e.username);
    if (e.type === 'locked' || e.type === 'removed' || e.type === 'signed-out') this.#clearAll();
  }

  #start(username: string): void {
    const old = this.#expiry.get(username);
    if (old !== undefined) this.timers.clear(old);
    this.#expiry.set(username, this.timers.set(() => this.#clear(username), SHOW_MS));
    if (old === undefined) this.#emit();
  }

  #clear(username: string): void {
    const t = this.#expiry.get(username);
    if (t === undefined) return;
    this.timers.clear(t);
    this.#expiry.delete(username);
    this.#emit();
  }

  #clearAll(): void {
    for (const t of this.#expiry.values()) this.timers.clear(t);
    if (this.#expiry.size === 0) return;
    this.#expiry.clear();
    this.#emit();
  }

  #emit(): void {
    this.changed(new Set(this.#expiry.keys()));
  }
}
