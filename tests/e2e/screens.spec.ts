/**
 * Every screen (the walk in support/screen-walk.ts) at phone (390x844) and desktop (1280x800)
 * width in both the light and the dark colour scheme, driven through the real
 * app, host and vault worker. At each screen: a screenshot in tests/e2e/screenshots/ for visual
 * review (`<screen>-<viewport>[-dark].png`), no horizontal scrolling, and axe-core (WCAG 2.1 A/AA)
 * with no serious or critical violation — contrast included, so both schemes stay AA (README
 * "Accessibility").
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import type { Person } from './support/parley';
import { walkScreens } from './support/screen-walk';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const runs = [
  { name: 'phone', width: 390, height: 844, colorScheme: 'light' },
  { name: 'desktop', width: 1280, height: 800, colorScheme: 'light' },
  { name: 'phone', width: 390, height: 844, colorScheme: 'dark' },
  { name: 'desktop', width: 1280, height: 800, colorScheme: 'dark' }
] as const;

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Soft, so one run lists every screen's findings, each naming the element; lesser findings are printed. */
async function audit(page: Page, screen: string, o: { within?: string; exclude?: string } = {}): Promise<void> {
  const axe = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (o.within) axe.include(o.within);
  if (o.exclude) axe.exclude(o.exclude);
  const result = await axe.analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.violations.filter((v) => !severe.includes(v));
  if (minor.length) console.log(`[a11y] ${screen}: minor ${minor.map((v) => `${v.id}(${v.nodes.length})`).join(', ')}`);
  const described = severe.map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary?.split('\n').at(-1)?.trim()})`).join(' | ')}`);
  expect.soft(described, `${screen} has serious accessibility violations`).toEqual([]);
}

for (const run of runs) {
  const suffix = run.colorScheme === 'dark' ? `${run.name}-dark` : run.name;
  test(`every screen on ${run.name} (${run.width}x${run.height}), ${run.colorScheme}: no sideways scroll, no serious axe finding`, async ({ browser }) => {
    test.setTimeout(180_000);
    await walkScreens(browser, {
      viewport: { width: run.width, height: run.height },
      colorScheme: run.colorScheme,
      people,
      look: async (page, screen, o) => {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect.soft(overflow, `${screen} scrolls sideways`).toBe(0);
        await page.screenshot({ path: `${DIR}${screen}-${suffix}.png` });
        await audit(page, `${screen} (${suffix})`, o);
      }
    });
  });
}
