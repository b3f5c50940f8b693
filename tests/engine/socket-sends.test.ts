/**
 * Sends over the live WebSocket (workers/engine/socket-sends.ts) against the REAL host on
 * loopback: a Send frame is answered only after the host stored the envelope, refusals keep their
 * meaning, a socket that dies mid-send fails it as Unavailable (so the outbox retries), and with no
 * socket the HTTP API still carries the message.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { API, HostLimits } from '../../src/lib/wire/host-api';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { SocketSends } from '../../workers/engine/socket-sends';
import { refusalCode } from '../../workers/engine/host-refusal';
import type { Envelope, HostAuth, InboxSink } from '../../workers/engine/transport';
import { eventually, realHostPerTest } from './real-host-support';
import { asUsername } from '../../src/lib/codec/username';

const transports: HostHttpTransport[] = [];

const real = realHostPerTest('parley-socket-sends-', async () => {
  for (const t of transports.splice(0)) t.disconnect();
});

/** A transport whose HTTP POSTs to /messages are counted, and a registered account on it. */
async function person(username: string) {
  let posts = 0;
  const fetchImpl: typeof fetch = (input, init) => {
    if (String(input).includes(API.messages) && init?.method === 'POST') posts++;
    return fetch(input, init);
  };
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor, fetchImpl);
  transports.push(transport);
  const id = generateIdentity(systemDeps);
  const auth: HostAuth = { username: asUsername(username), sign: (m) => ed25519Sign(id.signing.privateKey, m) };
  await transport.register(auth, {
    identity: identityPublic(id),
    signedPreKey: signedPreKeyPublic(generateSignedPreKey(id, 1, systemDeps)),
    oneTimePreKeys: [],
    kemPreKeys: [kemPreKeyPublic(generateKemPreKey(id, 1, true, systemDeps))]
  });
  const received: Envelope[] = [];
  let state = 'offline';
  const sink: InboxSink = { envelope: (e) => void received.push(e as Envelope), state: (s) => void (state = s) };
  return { transport, auth, received, sink, posts: () => posts, online: () => state === 'online' };
}

describe('sends over the live socket, against the real host', () => {
  test('a connected sender sends by Send frame: no HTTP request, and the envelope reaches the recipient', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    alice.transport.connect(alice.auth, alice.sink);
    bob.transport.connect(bob.auth, bob.sink);
    await eventually(() => expect(alice.online() && bob.online()).toBe(true));

    await alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array([1, 2, 3]));
    await alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array([4, 5]));
    expect(alice.posts()).toBe(0);
    await eventually(() => expect(bob.received.map((e) => [...e.body])).toEqual([[1, 2, 3], [4, 5]]));
    expect(bob.received.every((e) => e.sender === 'alice')).toBe(true);
  });

  test('refusals over the socket keep their meaning (unknown user), oversized envelopes never leave, and the socket stays usable', async () => {
    const alice = await person('alice');
    alice.transport.connect(alice.auth, alice.sink);
    await eventually(() => expect(alice.online()).toBe(true));
    await expect(alice.transport.send(alice.auth, asUsername('nobody'), new Uint8Array([1]))).rejects.toMatchObject({ code: 'NoSuchUser' });
    await person('bob');
    // Over the host's limit: refused before sending (over the socket it would close the socket).
    await expect(alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array(HostLimits.maxEnvelopeBytes + 1))).rejects.toMatchObject({ code: 'InvalidArgument' });
    // The socket stays usable after a refusal.
    await alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array([9]));
    expect(alice.posts()).toBe(0);
  });

  test('with no socket the HTTP API carries the message', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    await alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array([7]));
    expect(alice.posts()).toBe(1);
    bob.transport.connect(bob.auth, bob.sink);
    await eventually(() => expect(bob.received.map((e) => [...e.body])).toEqual([[7]]));
  });

  test('a send in flight when the host goes away fails as Unavailable, so the outbox retries it', async () => {
    const alice = await person('alice');
    await person('bob');
    alice.transport.connect(alice.auth, alice.sink);
    await eventually(() => expect(alice.online()).toBe(true));
    const pending = alice.transport.send(alice.auth, asUsername('bob'), new Uint8Array([1]));
    alice.transport.disconnect();
    await expect(pending).rejects.toMatchObject({ code: 'Unavailable' });
  });
});

describe('SocketSends bookkeeping', () => {
  afterEach(() => vi.useRealTimers());

  test('an unanswered send times out as Unavailable and a late Stored for it is ignored', async () => {
    vi.useFakeTimers();
    const sends = new SocketSends(1000);
    const frames: Uint8Array[] = [];
    const p = sends.send((f) => frames.push(f), asUsername('bob'), new Uint8Array([1]));
    const caught = p.catch((e: unknown) => e);
    vi.advanceTimersByTime(1000);
    expect(await caught).toMatchObject({ code: 'Unavailable' });
    expect(frames).toHaveLength(1);
    expect(sends.onFrame({ type: 'stored', reqId: 1, serverId: 5, receivedAt: 1 })).toBe(false);
    expect(sends.inFlight).toBe(0);
  });

  test('Stored settles only its own request; Error frames map to the HTTP meanings', async () => {
    const sends = new SocketSends();
    const a = sends.send(() => undefined, asUsername('bob'), new Uint8Array([1]));
    const b = sends.send(() => undefined, asUsername('bob'), new Uint8Array([2]));
    expect(sends.onFrame({ type: 'stored', reqId: 2, serverId: 9, receivedAt: 1 })).toBe(true);
    await b;
    expect(sends.inFlight).toBe(1);
    expect(sends.onFrame({ type: 'error', reqId: 1, code: 'QuotaExceeded', message: 'full' })).toBe(true);
    await expect(a).rejects.toMatchObject({ code: 'Unavailable' });
    expect(sends.onFrame({ type: 'error', reqId: 0, code: 'BadRequest', message: 'connection-level' })).toBe(false);
    expect(['NoSuchUser', 'SignedOut', 'RateLimited', 'Unauthorized', 'TooLarge', 'BadRequest'].map((c) => refusalCode(c))).toEqual([
      'NoSuchUser',
      'SignedOut',
      'Unavailable',
      'InvalidSignature',
      'InvalidArgument',
      'InvalidArgument'
    ]);
  });

  test('a socket that throws on write fails the send at once', async () => {
    const sends = new SocketSends();
    await expect(
      sends.send(() => {
        throw new Error('closed');
      }, asUsername('bob'), new Uint8Array([1]))
    ).rejects.toMatchObject({ code: 'Unavailable' });
    expect(sends.inFlight).toBe(0);
  });
});
