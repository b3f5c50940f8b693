/**
 * Requests that one call cuts off (P46). A lock, sign-out or close must not wait on the host, and
 * no request made before it may resume work when its answer comes: that work would hold what it
 * captured (the account's identity key, a profile key) past the moment the keys are dropped, and
 * could ask the host more once locked. `fetch` gives each request the current cut signal;
 * `cut()` fails every request made before it, as fetch fails an aborted one. Knows nothing of
 * what is sent.
 */
export interface CuttableFetch {
  readonly fetch: typeof fetch;
  cut(): void;
}

/** `impl` is looked up on every request, so a test may replace it after construction. */
export function cuttableFetch(impl: () => typeof fetch): CuttableFetch {
  let now = new AbortController();
  return {
    fetch: (input, init = {}) => {
      const cut = now.signal;
      return impl()(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, cut]) : cut });
    },
    cut() {
      now.abort();
      now = new AbortController();
    }
  };
}
