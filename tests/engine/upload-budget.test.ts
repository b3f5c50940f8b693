/**
 * The host's per-account upload budget (limits.blobUploadMiBPerAccount, P40) as the vault meets
 * it through the real host: past the budget a send is refused as RateLimited before anything is
 * queued, so no half-sent message is left, the files already sent still open, and the other
 * account sends as before.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { enginesOnRealHost, eventually, fileKeyIn } from './real-host-support';

const { user } = enginesOnRealHost('parley-upload-budget-', { limits: { blobUploadMiBPerAccount: { max: 3, windowMs: 3_600_000 } } });

const file = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('the upload budget through the engine', () => {
  test('P40 the send past the budget is RateLimited and leaves no message; sent files still open; another account is unaffected', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    // Each file pads to under 1 MiB: one unit of the budget of three.
    for (let i = 0; i < 3; i++) await alice.sendAttachment('bob' as Username, { bytes: file(50_000, i), name: `f${i}.bin`, mime: '', transfer: `t${i}` });
    const before = (await alice.listMessages('bob')).length;
    await expect(alice.sendAttachment('bob' as Username, { bytes: file(50_000, 9), name: 'over.bin', mime: '', transfer: 't9' })).rejects.toMatchObject({ code: 'RateLimited' });
    expect((await alice.listMessages('bob')).length).toBe(before);
    const got = await bob.openAttachment('alice', await fileKeyIn(bob, 'alice', 'f2.bin'), 'd');
    const bytes = got.bytes instanceof Blob ? new Uint8Array(await got.bytes.arrayBuffer()) : got.bytes;
    expect(bytes).toEqual(file(50_000, 2));
    await bob.lookupUser('alice');
    await bob.sendAttachment('alice' as Username, { bytes: file(1000, 5), name: 'back.bin', mime: '', transfer: 'b1' });
    await eventually(async () => expect((await alice.listMessages('bob')).some((m) => m.kind === 'text' && m.attachment?.name === 'back.bin')).toBe(true));
  });
});
