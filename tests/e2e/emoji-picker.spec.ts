/**
 * The composer's emoji picker end to end (README "Emoji picker"): alice picks two emoji with the
 * mouse where her caret is (the box keeps the focus, the panel stays open), then one by keyboard
 * alone (Shift+Tab to the button, type a search, arrows in the grid, Enter, Escape back to the
 * box), sends, and bob sees one enlarged emoji-only message, then reacts to it through "More
 * reactions" (the same picker). The Recent row survives a reload.
 * axe-core finds no serious violation with the panel open, at phone and desktop size, and the
 * panel fits both screens; screenshots go to tests/e2e/screenshots/.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { bubbles, expectClean, openChat, openPerson, register, startChat, type Person } from './support/parley';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

function picker(page: Page) {
  return page.getByRole('dialog', { name: 'Emoji', exact: true });
}

function emojiButton(page: Page) {
  return page.getByRole('button', { name: 'Emoji', exact: true });
}

/** The panel lies inside the viewport, and nothing on the page scrolls sideways. */
async function expectFits(page: Page): Promise<void> {
  await expectInside(page, picker(page));
}

async function expectInside(page: Page, panel: Locator): Promise<void> {
  const box = await panel.boundingBox();
  const vp = page.viewportSize()!;
  expect(box).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(vp.width);
  expect(box!.y + box!.height).toBeLessThanOrEqual(vp.height);
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
}

async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.violations.filter((v) => !severe.includes(v));
  if (minor.length) console.log(`[a11y] ${screen}: minor ${minor.map((v) => `${v.id}(${v.nodes.length})`).join(', ')}`);
  expect(severe.map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), screen).toEqual([]);
}

test('two emoji picked by mouse at the caret and one by keyboard-only search arrive as one enlarged emoji-only message', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 });
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  const page = alice.page;
  const box = page.getByRole('textbox', { name: `Message ${bob.name}` });

  // Mouse: the caret between x and y; each pick lands there, the box keeps the focus, the panel stays open.
  await box.fill('xy');
  await box.press('ArrowLeft');
  await emojiButton(page).click();
  await expect(picker(page)).toBeVisible();
  await expect(emojiButton(page)).toHaveAttribute('aria-expanded', 'true');
  await expect(box).toBeFocused();
  await picker(page).getByRole('button', { name: 'face with tears of joy', exact: true }).click();
  await expect(box).toHaveValue('x😂y');
  await expect(box).toBeFocused();
  // A category button scrolls its grid into view.
  await picker(page).getByRole('button', { name: 'Symbols', exact: true }).click();
  await expect(picker(page).getByRole('heading', { name: 'Symbols', exact: true })).toBeInViewport();
  await picker(page).getByRole('grid', { name: 'Symbols' }).getByRole('button', { name: 'check mark button', exact: true }).click();
  await expect(box).toHaveValue('x😂✅y');
  await expect(box).toBeFocused();
  await expect(picker(page)).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/emoji-picker-picks-desktop.png` });

  // Escape in the box closes the panel and keeps the focus (and the text).
  await page.keyboard.press('Escape');
  await expect(picker(page)).toHaveCount(0);
  await expect(box).toBeFocused();
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Home');
  await page.keyboard.press('Delete');
  await page.keyboard.press('End');
  await expect(box).toHaveValue('😂✅');

  // Keyboard only: Shift+Tab to the emoji button, Enter opens it with the search field focused.
  for (let i = 0; i < 4 && !(await emojiButton(page).evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Shift+Tab');
  await expect(emojiButton(page)).toBeFocused();
  await page.keyboard.press('Enter');
  const search = picker(page).getByRole('searchbox', { name: 'Search emoji' });
  await expect(search).toBeFocused();
  await page.keyboard.type('party');
  await expect(picker(page).getByRole('status')).toHaveText(/\d+ emoji found/);
  const results = picker(page).getByRole('grid', { name: 'Search results' });
  await expect(results.getByRole('button').first()).toHaveAccessibleName('party popper');
  await page.keyboard.press('ArrowDown');
  await expect(results.getByRole('button', { name: 'party popper', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(results.getByRole('button').nth(1)).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(results.getByRole('button', { name: 'party popper', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(box).toHaveValue('😂✅🎉');
  // The focus stays on the emoji (more can be picked); Escape returns it to the box.
  await expect(results.getByRole('button', { name: 'party popper', exact: true })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(picker(page)).toHaveCount(0);
  await expect(box).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(box).toHaveValue('');

  // Bob sees one message of those three emoji, enlarged.
  await openChat(bob, alice.name);
  const got = bubbles(bob.page, alice.name);
  await expect(got).toHaveCount(1);
  await expect(got.first().locator('.text')).toHaveText('😂✅🎉');
  await expect(got.first()).toHaveClass(/\bjumbo\b/);

  // P47 reactions beyond the quick eight: React, then "More reactions" opens the same picker; one pick reacts.
  await bob.page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(got.first()).toHaveAttribute('tabindex', '0');
  await got.first().click({ button: 'right' });
  await bob.page.getByRole('menu', { name: 'Message actions' }).getByRole('menuitem', { name: 'React' }).click();
  await bob.page.getByRole('menuitem', { name: 'More reactions', exact: true }).click();
  const reactions = bob.page.getByRole('dialog', { name: 'Choose a reaction', exact: true });
  await expect(reactions).toBeVisible();
  await expect(reactions).toBeFocused();
  await expectInside(bob.page, reactions);
  await bob.page.screenshot({ path: `${SHOTS}/emoji-picker-reaction-phone.png` });
  await audit(bob.page, 'reaction picker phone');
  await reactions.getByRole('searchbox', { name: 'Search emoji' }).fill('pizza');
  await reactions.getByRole('button', { name: 'pizza', exact: true }).click();
  await expect(reactions).toHaveCount(0);
  await expect(bob.page.getByTestId('reactions')).toHaveText('🍕');
  await expect(page.getByTestId('reactions')).toHaveText('🍕');
  // By keyboard: Escape closes the full picker and gives the focus back to the message.
  await got.first().focus();
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.press('ArrowDown');
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.press('End');
  await expect(bob.page.getByRole('menuitem', { name: 'More reactions', exact: true })).toBeFocused();
  await bob.page.keyboard.press('Enter');
  await expect(reactions.getByRole('searchbox', { name: 'Search emoji' })).toBeFocused();
  await bob.page.keyboard.press('Escape');
  await expect(reactions).toHaveCount(0);
  await expect(got.first()).toBeFocused();

  // The Recent row, newest first, is kept on this device across a reload.
  await page.reload();
  await expect(box).toBeVisible();
  await emojiButton(page).click();
  const recent = picker(page).getByRole('grid', { name: 'Recently used' });
  await expect(recent.getByRole('button')).toHaveText(['🎉', '✅', '😂']);
  await expectClean(alice);
  await expectClean(bob);
});

for (const vp of [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 }
] as const) {
  test(`the open picker fits and has no serious axe violation at ${vp.name} size`, async ({ browser }) => {
    test.setTimeout(90_000);
    const alice = await openPerson(browser, 'alice', { width: vp.width, height: vp.height });
    people.push(alice);
    await register(alice);
    const page = alice.page;
    // Note to self: a composer of its own, no second browser needed.
    await page.goto(`/chat/${alice.name}`);
    await expect(page.getByRole('heading', { name: 'Note to self', level: 1 })).toBeVisible();
    const box = page.getByRole('textbox', { name: 'Message yourself' });
    await box.fill('Packing list for the weekend');
    await box.press('Enter');
    await expect(box).toHaveValue('');
    await emojiButton(page).click();
    await expect(picker(page)).toBeVisible();
    await expectFits(page);
    await audit(page, `emoji picker ${vp.name}`);
    await page.screenshot({ path: `${SHOTS}/emoji-picker-${vp.name}.png` });
    await picker(page).getByRole('searchbox', { name: 'Search emoji' }).fill('zzqx');
    await expect(picker(page).getByRole('status')).toHaveText('No emoji found');
    await audit(page, `emoji picker with no results ${vp.name}`);
    await picker(page).getByRole('searchbox', { name: 'Search emoji' }).fill('heart');
    await expectFits(page);
    await page.screenshot({ path: `${SHOTS}/emoji-picker-search-${vp.name}.png` });
    await expectClean(alice);
  });
}
