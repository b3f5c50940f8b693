/**
 * The boot check of SECURITY.md P39 ("code updates need consent"): before the vault worker starts,
 * the page compares the build it is running (the hash sealed into index.html, build-seal.ts) with
 * the build the user accepted (kept in localStorage). Equal: Parley opens. No build accepted yet:
 * this is the first run, and this build becomes the accepted one (trust on first use). Different:
 * something other than the user's consent changed the code (a service worker that skipped
 * waiting, a cleared cache, a host serving other files), and Parley stays closed on a consent
 * screen until the user accepts this build.
 *
 * Also the state the update prompt and Settings → About read: the build the host offers
 * (sw-updates.ts), and `replaced` when a service worker took over the running page unasked.
 * Knows nothing of the vault, the service worker API or the screens.
 */
import { BUILD_META, isBuildHash } from './build-seal';

export const ACCEPTED_BUILD_KEY = 'parley:accepted-build';

/** 'open': run Parley; 'consent': this build was never accepted; 'replaced': code changed while open. */
export type GateState = 'open' | 'consent' | 'replaced';

export class BuildGate {
  /** The running build's hash; undefined in an unsealed development build (`vite dev`). */
  readonly running: string | undefined;
  /** The build the user accepted before this page started (undefined on first run). */
  readonly acceptedBefore: string | undefined;
  state = $state<GateState>('open');
  /** A build the host offers that differs from the running one (parley-build.json). */
  offered = $state<string | undefined>();

  readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;

  constructor(running: string | undefined, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined) {
    this.running = isBuildHash(running) ? running : undefined;
    this.#storage = storage;
    this.acceptedBefore = this.acceptedNow();
    if (!this.running) return;
    if (this.acceptedBefore === undefined) this.#write(this.running);
    else if (this.acceptedBefore !== this.running) this.state = 'consent';
  }

  /** The user accepts the running build (consent screen). */
  acceptRunning(): void {
    if (this.running) this.#write(this.running);
    this.state = 'open';
  }

  /**
   * The user accepts `hash`, the build about to replace this one (the update prompt). Returns a
   * function that takes the acceptance back if the update then fails.
   */
  acceptNext(hash: string): () => void {
    const before = this.#read();
    this.#write(hash);
    return () => {
      if (before) this.#write(before);
    };
  }

  /** The build the user accepts now: another tab may have accepted an update since this page started. */
  acceptedNow(): string | undefined {
    const stored = this.#read();
    return isBuildHash(stored) ? stored : undefined;
  }

  /** A service worker took over this page without the user's consent. */
  replaced(): void {
    this.state = 'replaced';
  }

  #read(): string | null | undefined {
    try {
      return this.#storage?.getItem(ACCEPTED_BUILD_KEY);
    } catch {
      return undefined;
    }
  }

  #write(hash: string): void {
    try {
      this.#storage?.setItem(ACCEPTED_BUILD_KEY, hash);
    } catch {
      // Storage refused (private mode, full): every start is then a first run, as for a new browser.
    }
  }
}

let gate: BuildGate | undefined;

/** The page's one gate, decided once when first asked (the root layout asks before anything else). */
export function buildGate(): BuildGate {
  if (!gate) {
    const meta = document.querySelector<HTMLMetaElement>(`meta[name="${BUILD_META}"]`)?.content;
    let storage: Storage | undefined;
    try {
      storage = window.localStorage;
    } catch {
      storage = undefined;
    }
    gate = new BuildGate(meta, storage);
  }
  return gate;
}
