/**
 * The callee's held PeerJS signalling (src/lib/client/calls/held-signalling.ts): while ringing,
 * nothing addressed to the caller leaves; on accept it all goes, in order; on decline, none of it.
 */
import { describe, expect, test } from 'vitest';
import { holdSignalling } from '../../src/lib/client/calls/held-signalling';
import type { Peer } from '../../src/lib/client/calls/peer';

function fakePeer() {
  const wire: { type: string; dst?: string }[] = [];
  const socket = { send: (m: { type: string; dst?: string }) => void wire.push(m) };
  return { peer: { socket } as unknown as Peer, socket, wire };
}

describe('held signalling', () => {
  test('messages to the caller wait for release and then leave in order; others pass at once', () => {
    const { peer, socket, wire } = fakePeer();
    const held = holdSignalling(peer, 'alice-id');
    socket.send({ type: 'OFFER', dst: 'alice-id' });
    socket.send({ type: 'HEARTBEAT' });
    socket.send({ type: 'CANDIDATE', dst: 'alice-id' });
    expect(wire).toEqual([{ type: 'HEARTBEAT' }]);
    held.release();
    expect(wire.map((m) => m.type)).toEqual(['HEARTBEAT', 'OFFER', 'CANDIDATE']);
    socket.send({ type: 'CANDIDATE', dst: 'alice-id' });
    expect(wire).toHaveLength(4);
  });

  test('drop forgets what was held: a declined call never reveals its offer or candidates', () => {
    const { peer, socket, wire } = fakePeer();
    const held = holdSignalling(peer, 'alice-id');
    socket.send({ type: 'OFFER', dst: 'alice-id' });
    held.drop();
    held.release();
    expect(wire).toEqual([]);
  });
});
