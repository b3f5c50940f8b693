/**
 * Opens a PeerJS Peer for one call (DESIGN.md §6): a fresh random 128-bit id, the host's own
 * PeerServer at /peerjs, and an RTCConfiguration carrying the pre-generated certificate, the ICE
 * servers from the host and — in relay-only mode — iceTransportPolicy 'relay' (P29).
 * PeerJS is loaded on demand so the app shell stays small. Knows nothing of the call protocol.
 */
import type { MediaConnection, Peer } from 'peerjs';
import type { IceServers } from '../../vault/views';

export type { MediaConnection, Peer };

export interface SignallingServer {
  host: string;
  port: number;
  secure: boolean;
  path: string;
}

let peerjs: Promise<typeof import('peerjs')> | undefined;

/** Starts loading PeerJS (call it early so the first call does not wait for the download). */
export function preloadPeerJs(): Promise<typeof import('peerjs')> {
  peerjs ??= import('peerjs');
  return peerjs;
}

export function signallingFromLocation(): SignallingServer {
  const secure = location.protocol === 'https:';
  return { host: location.hostname, port: Number(location.port) || (secure ? 443 : 80), secure, path: '/peerjs' };
}

export async function openPeer(
  id: string,
  certificate: RTCCertificate,
  ice: IceServers,
  relay: boolean,
  server: SignallingServer
): Promise<Peer> {
  const { Peer } = await preloadPeerJs();
  return new Peer(id, {
    ...server,
    key: 'peerjs',
    debug: 0,
    config: {
      iceServers: ice.iceServers,
      certificates: [certificate],
      iceTransportPolicy: relay ? 'relay' : 'all'
    }
  });
}

/**
 * Resolves once the peer is registered with the PeerServer. PeerJS silently DROPS signalling
 * sent while its socket is still connecting, so nothing may be dialled before this.
 */
export function whenOpen(peer: Peer): Promise<void> {
  if (peer.open) return Promise.resolve();
  return new Promise((resolve, reject) => {
    peer.once('open', () => resolve());
    peer.once('error', (e) => reject(e));
    peer.once('close', () => reject(new Error('the peer closed before it opened')));
  });
}
