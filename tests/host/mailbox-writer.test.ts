/**
 * The mailbox writer thread's lifecycle (src/host/storage/writer.ts, DESIGN.md §5): stop() lets
 * the thread close its database and end on its own, and nothing a caller waits on is left
 * hanging when the thread is gone, however it went.
 */
import { describe, expect, test } from 'vitest';
import { startMailboxWriter } from '../../src/host/storage/writer';
import { tempDir } from './support';

describe('mailbox writer thread', () => {
  test('a thread that cannot open its database: stop() returns and every request is refused, none left waiting', async () => {
    // A directory is no SQLite file: the thread throws while it starts.
    const writer = startMailboxWriter(tempDir());
    const early = writer.apply([], []);
    const stopping = writer.stop();
    await expect(early).rejects.toThrow();
    await stopping;
    await expect(writer.apply([], [])).rejects.toThrow();
    await expect(writer.sweepChunk(0, 0, 10)).rejects.toThrow();
    await writer.stop();
  });
});
