/**
 * What a call keeps warm (src/lib/client/calls/resources.ts; DESIGN.md §6, SECURITY.md P29):
 * certificates and peers are each handed out once (every call its own id and certificate), a warm
 * peer is only reused while it is open and the ICE settings are unchanged, an idle one is closed,
 * and relay-only without TURN is refused. PeerJS and WebRTC are replaced by recording fakes.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { CallCertificate } from '../../src/lib/client/calls/certificate';
import type { Peer } from '../../src/lib/client/calls/peer';
import { CallResources, PEER_IDLE_MS, RelayUnavailable } from '../../src/lib/client/calls/resources';
import type { IceServers } from '../../src/lib/vault/views';

interface FakePeer {
  id: string;
  relay: boolean;
  ice: IceServers;
  destroyed: boolean;
  disconnected: boolean;
  open: boolean;
  on(): void;
  destroy(): void;
}

const STUN: IceServers = { iceServers: [{ urls: 'stun:stun.example:3478' }], expiresAt: null };
const TURN: IceServers = { iceServers: [{ urls: 'turn:turn.example:3478', username: 'u', credential: 'c' }], expiresAt: null };

function rig(ice: () => IceServers = () => STUN) {
  let n = 0;
  let certs = 0;
  const opened: FakePeer[] = [];
  const resources = new CallResources({
    fetchIce: async () => ice(),
    now: () => Date.now(),
    newPeerId: () => (++n).toString(16).padStart(32, '0'),
    signalling: () => ({ host: 'localhost', port: 1, secure: false, path: '/peerjs' }),
    makeCertificate: async () => ({ certificate: {} as RTCCertificate, fingerprint: new Uint8Array(32).fill(++certs) }) as CallCertificate,
    openPeer: async (id, _cert, iceServers, relay) => {
      const p: FakePeer = {
        id,
        relay,
        ice: iceServers,
        destroyed: false,
        disconnected: false,
        open: true,
        on() {},
        destroy() {
          this.destroyed = true;
        }
      };
      opened.push(p);
      return p as unknown as Peer;
    }
  });
  return { resources, opened };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.useRealTimers());

describe('call resources', () => {
  test('every call gets its own peer id and certificate, warm or not', async () => {
    const { resources } = rig();
    const first = await resources.peer(false);
    resources.warmPeer(false);
    await settle();
    const second = await resources.peer(false);
    const third = await resources.peer(false);
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    expect(new Set([first, second, third].map((p) => p.cert.fingerprint[0])).size).toBe(3);
  });

  test('a warm peer is used by the next call, once', async () => {
    const { resources, opened } = rig();
    resources.warmPeer(false);
    await settle();
    expect(opened).toHaveLength(1);
    const call = await resources.peer(false);
    expect(call.id).toBe(opened[0]!.id);
    expect(opened).toHaveLength(1);
    await resources.peer(false);
    expect(opened).toHaveLength(2);
  });

  test('P29 a warm peer made before relay-only was turned on is closed, not used for the call', async () => {
    const { resources, opened } = rig(() => TURN);
    resources.warmPeer(false);
    await settle();
    const call = await resources.peer(true);
    expect(opened[0]!.destroyed).toBe(true);
    expect(call.id).toBe(opened[1]!.id);
    expect(opened[1]!.relay).toBe(true);
  });

  test('a warm peer whose ICE servers changed, or whose socket dropped, is closed and replaced', async () => {
    let ice = STUN;
    const { resources, opened } = rig(() => ice);
    resources.warmPeer(false);
    await settle();
    opened[0]!.disconnected = true;
    const a = await resources.peer(false);
    expect(opened[0]!.destroyed).toBe(true);
    expect(a.id).toBe(opened[1]!.id);

    // The cached ICE list expires (TURN credentials) and the host hands out another one.
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    resources.warmPeer(false);
    await vi.waitFor(() => expect(opened).toHaveLength(3));
    ice = TURN;
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const b = await resources.peer(false);
    expect(opened[2]!.destroyed).toBe(true);
    expect(b.id).toBe(opened[3]!.id);
    expect(opened[3]!.ice).toEqual(TURN);
  });

  test('an unused warm peer leaves the PeerServer after the idle time', async () => {
    vi.useFakeTimers();
    const { resources, opened } = rig();
    resources.warmPeer(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(opened[0]!.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(PEER_IDLE_MS);
    expect(opened[0]!.destroyed).toBe(true);
    await resources.peer(false);
    expect(opened).toHaveLength(2);
  });

  test('P29 a failed ICE fetch is not cached: that call is refused relay-only, the next one gets TURN', async () => {
    let down = true;
    const { resources, opened } = rig(() => {
      if (down) throw new Error('host unreachable');
      return TURN;
    });
    await expect(resources.peer(true)).rejects.toBeInstanceOf(RelayUnavailable);
    expect(opened).toHaveLength(0);
    down = false;
    await resources.peer(true);
    expect(opened.at(-1)!.ice).toEqual(TURN);
    expect(opened.at(-1)!.relay).toBe(true);
  });

  test('P29 relay-only without any TURN server is refused, and no peer is opened', async () => {
    const { resources, opened } = rig(() => STUN);
    await expect(resources.peer(true)).rejects.toBeInstanceOf(RelayUnavailable);
    resources.warmPeer(true);
    await settle();
    expect(opened).toHaveLength(0);
  });

  test("P42 P29 'if-turn' (a call with someone not in our contacts): relay-only when the host offers TURN, any candidate without, never refused", async () => {
    const withTurn = rig(() => TURN);
    await withTurn.resources.peer('if-turn');
    expect(withTurn.opened.map((p) => p.relay)).toEqual([true]);
    const without = rig(() => STUN);
    await without.resources.peer('if-turn');
    expect(without.opened.map((p) => p.relay)).toEqual([false]);
  });

  test("P42 a warm peer opened for contacts is not handed to a stranger's call when TURN is offered", async () => {
    const { resources, opened } = rig(() => TURN);
    resources.warmPeer(false);
    await settle();
    await settle();
    expect(opened.map((p) => p.relay)).toEqual([false]);
    expect(resources.takeReady('if-turn')).toBeUndefined();
    const p = await resources.peer('if-turn');
    expect(opened.map((q) => q.relay)).toEqual([false, true]);
    expect(opened[0]!.destroyed).toBe(true);
    expect(p.id).toBe(opened[1]!.id);
  });

  test('dispose closes the warm peer', async () => {
    const { resources, opened } = rig();
    resources.warmPeer(false);
    await settle();
    resources.dispose();
    await settle();
    expect(opened[0]!.destroyed).toBe(true);
  });

  test('takeReady hands over an open warm peer at once, and only one that fits the cached ICE settings', async () => {
    const { resources, opened } = rig(() => TURN);
    expect(resources.takeReady(false)).toBeUndefined(); // nothing warm yet
    resources.warmPeer(false);
    expect(resources.takeReady(false)).toBeUndefined(); // still opening
    await settle();
    expect(resources.takeReady(true)).toBeUndefined(); // made for direct calls, relay-only asked
    opened[0]!.open = false;
    expect(resources.takeReady(false)).toBeUndefined(); // its socket is not open
    opened[0]!.open = true;
    expect(resources.takeReady(false)?.id).toBe(opened[0]!.id);
    expect(resources.takeReady(false)).toBeUndefined(); // handed out once
  });
});
