/**
 * One action at a time for a decision bar (RequestBar.svelte, ComposerBar.svelte): `busy` is true
 * while an action runs, so its buttons can be disabled and a second click never starts a second
 * request. A failure propagates to the caller (the page shows it); the bar is usable again after.
 * Knows nothing of what the actions do.
 */
export class BusyGate {
  busy = $state(false);

  /** Runs `action`, busy until it settles. */
  run = async (action: () => Promise<void>): Promise<void> => {
    this.busy = true;
    try {
      await action();
    } finally {
      this.busy = false;
    }
  };
}
