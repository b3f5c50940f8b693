// Its test passes; then its worker process dies the way a native crash kills one, by a signal,
// after the results were sent: once per marker file (DIE_ONCE_MARKER), or every time (DIE_ALWAYS).
import { afterAll, expect, test } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';

test('passes', () => expect(1 + 1).toBe(2));

afterAll(async () => {
  const marker = process.env.DIE_ONCE_MARKER;
  if (!process.env.DIE_ALWAYS) {
    if (!marker || existsSync(marker)) return;
    writeFileSync(marker, '');
  }
  process.kill(process.pid, 'SIGSEGV');
  await new Promise((r) => setTimeout(r, 5000));
});
