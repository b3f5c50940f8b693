/**
 * registerType 'prompt': when a new version of Parley is deployed, the waiting service worker is
 * announced with an accessible "A new version of Parley is available — Reload" toast, and nothing
 * reloads until the user asks. A deployment is simulated by changing build/sw.js on disk (the host
 * reads files per request) and restoring it afterwards; browser tests run one at a time.
 */
import { expect, test } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const SW = fileURLToPath(new URL('../../build/sw.js', import.meta.url));

test('a newly deployed version is offered with a Reload toast and applied only on request', async ({ page }) => {
  await page.goto('/self-test');
  await expect(page.getByRole('status')).toHaveText('Vault ready');
  expect(await page.evaluate(async () => !!(await navigator.serviceWorker.ready).active)).toBe(true);
  await expect(page.getByRole('alert').filter({ hasText: 'new version' })).toHaveCount(0);

  // "Deploy": the same worker script with changed bytes is a new service worker version.
  const original = await readFile(SW, 'utf8');
  await writeFile(SW, `${original}\n// next deployment\n`);
  try {
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await expect(page.getByRole('alert').filter({ hasText: 'new version' })).toBeVisible({ timeout: 30_000 });
  } finally {
    await writeFile(SW, original);
  }

  const toast = page.getByRole('alert').filter({ hasText: 'A new version of Parley is available' });
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await expect(toast.getByRole('button', { name: 'Reload' })).toBeVisible();
  await expect(toast.getByRole('button', { name: 'Dismiss update notice' })).toBeVisible();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: fileURLToPath(new URL('./screenshots/update-toast-phone.png', import.meta.url)) });

  const reloaded = page.waitForEvent('framenavigated');
  await toast.getByRole('button', { name: 'Reload' }).click();
  await reloaded;
  await expect(page.getByRole('status')).toHaveText('Vault ready');
  await expect(page.getByRole('alert').filter({ hasText: 'new version' })).toHaveCount(0);
});
