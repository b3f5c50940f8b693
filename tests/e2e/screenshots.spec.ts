/**
 * Saves phone and desktop screenshots of the encryption self-test page (/self-test) to
 * tests/e2e/screenshots/ for visual review; asserts only that the layout does not overflow.
 */
import { expect, test } from '@playwright/test';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const viewports = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 }
] as const;

for (const vp of viewports) {
  test(`start page on ${vp.name} (${vp.width}x${vp.height}) fits without horizontal scroll`, async ({ page }) => {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await page.goto('/self-test');
    await expect(page.getByRole('status')).toHaveText('Vault ready');
    await page.getByRole('button', { name: 'Run encryption self-test' }).click();
    await expect(page.getByTestId('decrypted')).toHaveText('Hello from Parley');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await page.screenshot({ path: `${DIR}start-${vp.name}.png`, fullPage: true });
  });
}
