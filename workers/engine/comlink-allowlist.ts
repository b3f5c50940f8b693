/**
 * The worker's side of Comlink, narrowed to the vault contract (DESIGN.md §1). Comlink's `expose`
 * answers GET, SET, APPLY and CONSTRUCT along any property path of the exposed object, so a script
 * in the page could otherwise read or replace whatever that object reaches. This endpoint passes
 * on only calls of one allowed method by name (APPLY with a one-element path) and RELEASE; every
 * other message is dropped and counted. Knows nothing of the methods themselves.
 */

/** The slice of a worker's global scope (or a MessagePort) Comlink listens on. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
}

export interface AllowlistEndpoint extends MessageEndpoint {
  /** Messages refused so far (for tests and diagnostics). */
  readonly refused: number;
}

export function isAllowedCall(data: unknown, allowed: ReadonlySet<string>): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const { type, path } = data as { type?: unknown; path?: unknown };
  if (!Array.isArray(path)) return false;
  if (type === 'RELEASE') return path.length === 0;
  return type === 'APPLY' && path.length === 1 && typeof path[0] === 'string' && allowed.has(path[0]);
}

export function allowlistEndpoint(inner: MessageEndpoint, methods: readonly string[]): AllowlistEndpoint {
  const allowed = new Set(methods);
  const wrapped = new Map<(ev: MessageEvent) => void, (ev: MessageEvent) => void>();
  let refused = 0;
  return {
    get refused() {
      return refused;
    },
    postMessage: (message, transfer) => inner.postMessage(message, transfer ?? []),
    addEventListener(type, listener) {
      const filtered = (ev: MessageEvent): void => {
        if (isAllowedCall(ev?.data, allowed)) listener(ev);
        else refused++;
      };
      wrapped.set(listener, filtered);
      inner.addEventListener(type, filtered);
    },
    removeEventListener(type, listener) {
      const filtered = wrapped.get(listener);
      if (!filtered) return;
      wrapped.delete(listener);
      inner.removeEventListener(type, filtered);
    }
  };
}
