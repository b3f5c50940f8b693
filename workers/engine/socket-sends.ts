/**
 * Sends over the open WebSocket (DESIGN.md §5; kept fast for bench:call): a Send frame with a
 * request id, settled by the host's Stored frame (sent only after the durable commit) or its Error
 * frame. On a live socket this saves an HTTP request per message, which matters most for call
 * signals. A send still in flight when the socket closes, or unanswered for `timeoutMs`, fails as
 * `Unavailable`: the outbox keeps the ciphertext and retries, and a copy the host did store is a
 * duplicate the receiving ratchet drops. Knows nothing of sessions or storage.
 */
import { isCodedError, type CodedError } from '../../src/lib/codec/errors';
import { EngineError } from './errors';
import { hostRefusal } from './host-refusal';
import { encodeClientFrame, type HostFrame } from '../../src/lib/wire/host-frames';
import type { Username } from '../../src/lib/codec/username';

/** How long a Send may wait for its Stored before it counts as lost. */
export const SOCKET_SEND_TIMEOUT_MS = 10_000;
/** Request ids are u32 on the wire; 0 is the host's "not about a request". */
const MAX_REQ_ID = 0xffff_ffff;

interface Pending {
  resolve(): void;
  reject(e: CodedError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class SocketSends {
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  constructor(private readonly timeoutMs = SOCKET_SEND_TIMEOUT_MS) {}

  /** Writes a Send frame with `write` and resolves once the host has stored the envelope. */
  send(write: (frame: Uint8Array) => void, to: Username, body: Uint8Array): Promise<void> {
    const reqId = this.#next;
    this.#next = this.#next >= MAX_REQ_ID ? 1 : this.#next + 1;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(reqId, new EngineError('Unavailable', `no Stored within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.#pending.set(reqId, { resolve, reject, timer });
      try {
        write(encodeClientFrame({ type: 'send', reqId, to, body }));
      } catch (e) {
        this.#settle(reqId, isCodedError(e) ? e : new EngineError('Unavailable', 'the socket refused the frame'));
      }
    });
  }

  /** A frame from the host; true if it answered one of our sends. */
  onFrame(f: HostFrame): boolean {
    if (f.type === 'stored') return this.#settle(f.reqId);
    if (f.type === 'error' && f.reqId !== 0) return this.#settle(f.reqId, hostRefusal(f.code));
    return false;
  }

  /** The socket closed: every send in flight fails as Unavailable (the outbox retries). */
  failAll(): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, new EngineError('Unavailable', 'the socket closed before the host stored the envelope'));
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  #settle(reqId: number, error?: CodedError): boolean {
    const p = this.#pending.get(reqId);
    if (!p) return false;
    this.#pending.delete(reqId);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve();
    return true;
  }
}
