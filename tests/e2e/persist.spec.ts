/**
 * DESIGN.md §8: creating an account asks the browser to keep Parley's storage (no eviction).
 * `persist()` exists only on the window, so the page must ask; the spy counts its calls.
 */
import { expect, test } from '@playwright/test';
import { openPerson, register } from './support/parley';

test('creating an account requests persistent storage from the page', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  try {
    await alice.page.addInitScript(() => {
      const w = window as unknown as { __persistCalls: number };
      w.__persistCalls = 0;
      const real = navigator.storage.persist.bind(navigator.storage);
      navigator.storage.persist = () => {
        w.__persistCalls++;
        return real();
      };
    });
    await register(alice);
    expect(await alice.page.evaluate(() => (window as unknown as { __persistCalls: number }).__persistCalls)).toBeGreaterThanOrEqual(1);
  } finally {
    await alice.context.close();
  }
});
