/**
 * What a call needs before it can start, kept warm between calls:
 * - ICE servers from the host (cached until a minute before the TURN credentials expire), with the
 *   relay-only rule (P29): relay-only without any TURN server is refused, never silently direct;
 * - the next call's DTLS certificate, generated ahead of time. Each certificate is handed out
 *   once, so every call still has its own fresh certificate (DESIGN.md §6).
 */
import type { IceServers } from '../types';
import { generateCallCertificate, type CallCertificate } from './certificate';

export const NO_TURN_FOR_RELAY = 'Relay-only calls are on, but this host offers no TURN relay. Turn the setting off or ask the host to configure TURN.';

export class RelayUnavailable extends Error {
  constructor() {
    super(NO_TURN_FOR_RELAY);
    this.name = 'RelayUnavailable';
  }
}

export class CallResources {
  #ice: { value: IceServers; until: number } | undefined;
  #spare: Promise<CallCertificate> | undefined;

  constructor(
    private readonly fetchIce: () => Promise<IceServers>,
    private readonly now: () => number
  ) {
    this.#prepare();
  }

  async iceServers(relayOnly: boolean): Promise<IceServers> {
    const now = this.now();
    if (!this.#ice || this.#ice.until <= now) {
      const value = await this.fetchIce().catch((): IceServers => ({ iceServers: [], expiresAt: null }));
      this.#ice = { value, until: value.expiresAt ? value.expiresAt - 60_000 : now + 10 * 60_000 };
    }
    const ice = this.#ice.value;
    if (relayOnly && !ice.iceServers.some((s) => [s.urls].flat().some((u) => /^turns?:/.test(u)))) throw new RelayUnavailable();
    return ice;
  }

  /** A fresh certificate for one call (the pre-made one if any); starts making the next. */
  certificate(): Promise<CallCertificate> {
    const cert = this.#spare ?? generateCallCertificate();
    this.#spare = undefined;
    void cert.then(
      () => this.#prepare(),
      () => undefined
    );
    return cert;
  }

  #prepare(): void {
    if (this.#spare || typeof RTCPeerConnection === 'undefined') return;
    const next = generateCallCertificate();
    next.catch(() => (this.#spare = undefined)); // made again on demand
    this.#spare = next;
  }
}
