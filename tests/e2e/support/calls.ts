/**
 * Helpers for the call tests (DESIGN.md §6): people with camera/microphone granted, a hook that records
 * every RTCPeerConnection a page makes (to read getStats), RTP counters, the call overlay, and a
 * hand-written impostor that speaks raw PeerJS signalling with its own certificate (P27, P28).
 */
import { expect, type Browser, type Locator, type Page } from '@playwright/test';
import { openPerson, register, type Person } from './parley';

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
    /**
     * What the page's calls did, for the failure dump: each connection's state changes and where
     * it was closed from, and the PeerJS socket's opening, closing and message types (no payloads).
     */
    __callLog?: string[];
  }
}

/** Every page openCaller made, so a failure can show both sides. */
const callPages: { name: string; page: Page }[] = [];

export async function openCaller(browser: Browser, base: string, o: { ringTimeoutMs?: number; connectTimeoutMs?: number } = {}): Promise<Person> {
  const p = await openPerson(browser, base);
  await p.context.grantPermissions(['camera', 'microphone']);
  for (let i = callPages.length - 1; i >= 0; i--) if (callPages[i]!.page.isClosed()) callPages.splice(i, 1);
  callPages.push({ name: p.name, page: p.page });
  await p.page.addInitScript(
    ([ring, connect]) => {
      const t0 = performance.now();
      const log = (line: string) => {
        const l = (window.__callLog ??= []);
        l.push(`${Math.round(performance.now() - t0)}ms ${line}`);
        if (l.length > 200) l.shift();
      };
      const Native = window.RTCPeerConnection;
      window.__pcs = [];
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          const n = window.__pcs!.push(this);
          for (const ev of ['signalingstatechange', 'iceconnectionstatechange', 'connectionstatechange', 'icegatheringstatechange'] as const) {
            this.addEventListener(ev, () => log(`pc${n} ${ev.replace('statechange', '')}=${ev === 'signalingstatechange' ? this.signalingState : ev === 'iceconnectionstatechange' ? this.iceConnectionState : ev === 'connectionstatechange' ? this.connectionState : this.iceGatheringState}`));
          }
          // Each DTLS transport's own state, which the after-connect check (P27) waits on.
          const watched = new Set<RTCDtlsTransport>();
          this.addEventListener('connectionstatechange', () => {
            const ts = [...this.getSenders(), ...this.getReceivers()].map((x) => x.transport).concat(this.sctp?.transport ?? null).filter((t): t is RTCDtlsTransport => !!t);
            const fresh = ts.filter((t) => !watched.has(t));
            log(`pc${n} transports ${ts.length} (${[...new Set(ts)].map((t) => t.state).join(',')}), ${fresh.length} new`);
            for (const t of new Set(fresh)) {
              const k = watched.size + 1;
              watched.add(t);
              t.addEventListener('statechange', () => log(`pc${n} dtls${k}=${t.state}`));
            }
          });
        }
        override close(): void {
          if (this.localDescription) log(`pc${window.__pcs!.indexOf(this) + 1} close from ${(new Error('x').stack ?? '').split('\n').slice(2, 6).map((f) => f.trim()).join(' < ')}`);
          super.close();
        }
      };
      const NativeWs = window.WebSocket;
      window.WebSocket = class extends NativeWs {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          if (!String(url).includes('/peerjs')) return;
          const id = new URL(String(url)).searchParams.get('id')?.slice(0, 6);
          log(`ws ${id} connecting`);
          this.addEventListener('open', () => log(`ws ${id} open`));
          this.addEventListener('close', (e) => log(`ws ${id} close ${e.code}`));
          const typeOf = (data: unknown) => {
            try {
              return (JSON.parse(String(data)) as { type?: string }).type;
            } catch {
              return 'unparsed';
            }
          };
          this.addEventListener('message', (e) => {
            const type = typeOf(e.data);
            if (type !== 'HEARTBEAT') log(`ws ${id} < ${type}`);
          });
          const send = this.send.bind(this);
          this.send = (data) => {
            const type = typeOf(data);
            if (type !== 'HEARTBEAT') log(`ws ${id} > ${type}${this.readyState === NativeWs.OPEN ? '' : ` (socket ${this.readyState})`}`);
            send(data);
          };
        }
      };
      if (ring) localStorage.setItem('parley:ringTimeoutMs', String(ring));
      if (connect) localStorage.setItem('parley:connectTimeoutMs', String(connect));
    },
    [o.ringTimeoutMs ?? 0, o.connectTimeoutMs ?? 0]
  );
  await register(p);
  return p;
}

/**
 * Holds back, in this page, the vault's answers to `sendCallSignal` until `release` (the signal
 * itself leaves at once and reaches the other side): the page then learns that its offer or
 * answer was stored only after the call moved on, as when the host's 'stored' frame is slow.
 * Wraps the page's Worker (Comlink's APPLY requests and their replies by id); call before the
 * first load.
 */
export async function holdCallSendReplies(page: Page): Promise<{ release: () => Promise<number> }> {
  await page.addInitScript(() => {
    type Held = { on: boolean; ids: Set<unknown>; queue: (() => void)[] };
    const held: Held = { on: true, ids: new Set(), queue: [] };
    (window as unknown as { __heldCallSends: Held }).__heldCallSends = held;
    const Native = window.Worker;
    window.Worker = class extends Native {
      override postMessage(message: unknown, options?: Transferable[] | StructuredSerializeOptions): void {
        const m = message as { type?: string; id?: unknown; path?: string[] } | null;
        if (m?.type === 'APPLY' && m.path?.[0] === 'sendCallSignal') held.ids.add(m.id);
        super.postMessage(message, options as StructuredSerializeOptions);
      }
      override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void {
        if (type !== 'message' || typeof listener !== 'function') return super.addEventListener(type, listener, options);
        const wrapped = (ev: Event) => {
          const id = ((ev as MessageEvent).data as { id?: unknown } | null)?.id;
          if (held.on && held.ids.has(id)) held.queue.push(() => listener.call(this, ev));
          else listener.call(this, ev);
        };
        super.addEventListener(type, wrapped, options);
      }
    };
  });
  return {
    release: () =>
      page.evaluate(() => {
        const held = (window as unknown as { __heldCallSends: { on: boolean; queue: (() => void)[] } }).__heldCallSends;
        held.on = false;
        const queue = held.queue.splice(0);
        for (const f of queue) f();
        return queue.length;
      })
  };
}

export function overlay(page: Page): Locator {
  return page.getByRole('dialog', { name: /^Call with / });
}

/**
 * The call screen says "end-to-end verified" (P27). If it does not in time, the failure carries,
 * for every open call page (both sides), the state of each negotiated connection and the page's
 * call log (state changes, closes and where from, PeerJS socket events), so that a run that failed
 * elsewhere (CI) says whether signalling, ICE, DTLS or the check itself stopped.
 */
export async function expectVerified(page: Page, timeout = 30_000): Promise<void> {
  try {
    await expect(overlay(page)).toContainText('end-to-end verified', { timeout });
  } catch (e) {
    const dumps: string[] = [];
    for (const { name, page: p } of callPages.filter((c) => !c.page.isClosed())) {
      const state = await p
        .evaluate(() => ({
          connections: (window.__pcs ?? [])
            .filter((pc) => pc.localDescription)
            .map((pc) => {
              const transports = [...pc.getSenders(), ...pc.getReceivers()].map((x) => x.transport?.state ?? 'none');
              const sctp = pc.sctp?.transport.state ?? 'none';
              return { connection: pc.connectionState, ice: pc.iceConnectionState, signalling: pc.signalingState, dtls: [...new Set(transports)], sctp };
            }),
          log: window.__callLog ?? []
        }))
        .catch((x: unknown) => `unreadable (${String(x)})`);
      dumps.push(`${name}${p === page ? ' (this page)' : ''}: ${JSON.stringify(state)}`);
    }
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${dumps.join('\n')}`, { cause: e });
  }
}

export async function placeCall(p: Person, other: string, kind: 'Voice' | 'Video'): Promise<void> {
  await p.page.getByRole('button', { name: `${kind} call ${other}` }).click();
}

export interface Rtp {
  inAudioPackets: number;
  inVideoPackets: number;
  inVideoFrames: number;
  inAudioEnergy: number;
  outAudioBytes: number;
  outVideoBytes: number;
  outVideoFrames: number;
}

/** Summed RTP counters of the page's newest peer connection. */
export async function rtp(page: Page): Promise<Rtp> {
  return page.evaluate(async () => {
    const pc = window.__pcs?.at(-1);
    const r = { inAudioPackets: 0, inVideoPackets: 0, inVideoFrames: 0, inAudioEnergy: 0, outAudioBytes: 0, outVideoBytes: 0, outVideoFrames: 0 };
    if (!pc) return r;
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        r.inAudioPackets += n('packetsReceived');
        r.inAudioEnergy += n('totalAudioEnergy');
      }
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        r.inVideoPackets += n('packetsReceived');
        r.inVideoFrames += n('framesDecoded');
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') r.outAudioBytes += n('bytesSent');
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        r.outVideoBytes += n('bytesSent');
        r.outVideoFrames += n('framesEncoded');
      }
    });
    return r;
  });
}

/** Waits until `pick(rtp)` grows by more than `by` on `page`. */
export async function expectRising(page: Page, pick: (r: Rtp) => number, by = 10): Promise<void> {
  const start = pick(await rtp(page));
  await expect.poll(async () => pick(await rtp(page)) - start, { timeout: 15_000 }).toBeGreaterThan(by);
}

/** Growth of `pick(rtp)` over `ms`. */
export async function growth(page: Page, pick: (r: Rtp) => number, ms = 2000): Promise<number> {
  const a = pick(await rtp(page));
  await page.waitForTimeout(ms);
  return pick(await rtp(page)) - a;
}

export function callEntries(page: Page, other: string): Locator {
  return page.getByRole('log', { name: `Messages with ${other}` }).getByTestId('call-entry');
}

/**
 * An impostor on the PeerServer, speaking raw PeerJS signalling (the way anyone with a browser
 * could) with its own fresh certificate and fake media: registers `id`, then answers any OFFER
 * (`impostorAnswers`) or places a call to `target` itself (`impostorCalls`).
 */
export async function impostorAnswers(page: Page, id: string): Promise<void> {
  await impostor(page, id);
}

export async function impostorCalls(page: Page, id: string, target: string): Promise<void> {
  await impostor(page, id, target);
}

async function impostor(page: Page, id: string, target?: string): Promise<void> {
  await page.evaluate(
    async ({ peerId, target }) => {
      const url = `${location.origin.replace('http', 'ws')}/peerjs/peerjs?key=peerjs&id=${peerId}&token=mallory${Math.floor(Math.random() * 1e6)}&version=1.5.5`;
      const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const ws = new WebSocket(url);
      type Payload = { sdp?: RTCSessionDescriptionInit; connectionId?: string; candidate?: RTCIceCandidateInit };
      const pc = new RTCPeerConnection();
      (window as unknown as { __impostor: RTCPeerConnection }).__impostor = pc;
      for (const t of media.getTracks()) pc.addTrack(t, media);
      let other = target;
      const connectionId = 'mc_impostor';
      const send = (type: string, payload: unknown) => ws.send(JSON.stringify({ type, dst: other, payload }));
      pc.onicecandidate = (e) => e.candidate && send('CANDIDATE', { candidate: e.candidate, type: 'media', connectionId });
      await new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          ws.close();
          reject(new Error('no OPEN'));
        }, 5000);
        ws.onclose = () => reject(new Error('closed'));
        ws.onmessage = (ev) => {
          const m = JSON.parse(String(ev.data)) as { type: string; src?: string; payload?: Payload };
          if (m.type === 'OPEN') resolve();
          if (m.type === 'ID-TAKEN' || m.type === 'ERROR') reject(new Error(m.type));
          if (m.type === 'OFFER' && m.payload?.sdp && !target) {
            other = m.src;
            void (async () => {
              await pc.setRemoteDescription(m.payload!.sdp!);
              const answer = await pc.createAnswer();
              await pc.setLocalDescription(answer);
              ws.send(JSON.stringify({ type: 'ANSWER', dst: other, payload: { sdp: answer, type: 'media', connectionId: m.payload!.connectionId } }));
            })();
          }
          if (m.type === 'ANSWER' && m.payload?.sdp && target) void pc.setRemoteDescription(m.payload.sdp);
          if (m.type === 'CANDIDATE' && m.payload?.candidate) void pc.addIceCandidate(m.payload.candidate).catch(() => undefined);
        };
      });
      if (target) {
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        send('OFFER', { sdp: offer, type: 'media', connectionId });
      }
      setInterval(() => ws.readyState === 1 && ws.send(JSON.stringify({ type: 'HEARTBEAT' })), 5000);
    },
    { peerId: id, target }
  );
}

/** The peer id (32 hex) in a PeerJS signalling socket URL. */
export function peerIdOf(url: string): string {
  return new URL(url).searchParams.get('id') ?? '';
}

/** Mean brightness (0..255) of the video element labelled `label`, sampled through a canvas. */
export async function brightness(page: Page, label: string): Promise<number> {
  return page.evaluate((l) => {
    const v = document.querySelector(`video[aria-label="${l}"]`) as HTMLVideoElement | null;
    if (!v || v.videoWidth === 0) return -1;
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const g = c.getContext('2d')!;
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
    return sum / (d.length / 4);
  }, label);
}
