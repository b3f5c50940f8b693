/**
 * The composer's emoji picker end to end (README "Emoji picker"): alice picks two emoji with the
 * mouse where her caret is (the box keeps the focus, the panel stays open), then one by keyboard
 * alone (Shift+Tab to the button, type a search, arrows in the grid, Enter, Escape back to the
 * box), sends, and bob sees one enlarged emoji-only message, then reacts to it through "More
 * reactions" (the same picker). The Recent row survives a reload.
 * axe-core finds no serious violation with the panel open, at phone and desktop size, and the
 * panel fits both screens; screenshots go to tests/e2e/screenshots/.
 * Skin tones and `:shortcode`: ":thu" + Enter puts 👍 in the box (Enter sends once the list is
 * closed); a chosen tone tones the grid, the search, the quick reaction row and the shortcode
 * list, bob receives exactly the toned code points, a toned recent stays toned when the tone
 * changes back, and the group composer completes ":piz" beside its "@" mentions.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { bubbles, expectClean, openChat, openPerson, register, startChat, type Person } from './support/parley';
import { createGroup } from './support/groups';

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
    await page.getByRole('link', { name: 'New chat', exact: true }).click();
    await page.getByRole('link', { name: /^Note to self/ }).click();
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

/** The code points of `s`, for comparing emoji exactly (a lost modifier or U+FE0F shows). */
const points = (s: string) => [...s].map((c) => c.codePointAt(0)!.toString(16));

test('":thu" + Enter inserts 👍; a chosen skin tone reaches bob exactly, tones the quick row, and the group composer completes too', async ({ browser }) => {
  test.setTimeout(180_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await alice.page.emulateMedia({ colorScheme: 'light' });
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  const page = alice.page;
  const box = page.getByRole('textbox', { name: `Message ${bob.name}` });
  const list = page.getByRole('listbox', { name: 'Matching emoji' });

  // A time or a smiley never opens the list; ":thu" does, with 👍 first and active.
  await box.focus();
  await page.keyboard.type('at 12:30 :) ');
  await expect(list).toHaveCount(0);
  await expect(box).not.toHaveAttribute('aria-activedescendant');
  await page.keyboard.type(':thu');
  await expect(list).toBeVisible();
  await expect(box).toHaveAttribute('aria-controls', 'emoji-shortcodes');
  const thumbs = list.getByRole('option', { name: 'thumbs up', exact: true });
  await expect(list.getByRole('option').first()).toHaveAccessibleName('thumbs up');
  await expect(thumbs).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await thumbs.getAttribute('id'))!);
  await page.keyboard.press('ArrowDown');
  const down = list.getByRole('option', { name: 'thumbs down', exact: true });
  await expect(down).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await down.getAttribute('id'))!);
  await page.keyboard.press('ArrowUp');
  await expect(thumbs).toHaveAttribute('aria-selected', 'true');
  await expect(box).toBeFocused();
  await page.screenshot({ path: `${SHOTS}/emoji-shortcode-list-light.png` });
  await audit(page, 'shortcode list light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${SHOTS}/emoji-shortcode-list-dark.png` });
  await audit(page, 'shortcode list dark');
  await page.emulateMedia({ colorScheme: 'light' });
  // Escape closes it and leaves the text; typing on reopens it; Enter inserts, a second Enter sends.
  await page.keyboard.press('Escape');
  await expect(list).toHaveCount(0);
  await expect(box).toHaveValue('at 12:30 :) :thu');
  await page.keyboard.type('m');
  await expect(thumbs).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(list).toHaveCount(0);
  await expect(box).toHaveValue('at 12:30 :) 👍');
  await page.keyboard.press('Enter');
  await expect(box).toHaveValue('');
  // Tab inserts as well.
  await page.keyboard.type(':piz');
  await expect(list.getByRole('option').first()).toHaveAccessibleName('pizza');
  await page.keyboard.press('Tab');
  await expect(box).toHaveValue('🍕');
  await expect(box).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(box).toHaveValue('');

  // The tone chooser: six radios, the default checked; a click chooses and closes it.
  await emojiButton(page).click();
  const toneButton = picker(page).getByRole('button', { name: 'Skin tone: Default skin tone', exact: true });
  await toneButton.click();
  await expect(toneButton).toHaveAttribute('aria-expanded', 'true');
  const tones = picker(page).getByRole('radiogroup', { name: 'Skin tone' });
  await expect(tones.getByRole('radio')).toHaveCount(6);
  await expect(tones.getByRole('radio', { name: 'Default skin tone', exact: true })).toHaveAttribute('aria-checked', 'true');
  await page.screenshot({ path: `${SHOTS}/emoji-picker-skin-tones-light.png` });
  await audit(page, 'picker with the skin tone chooser light');
  await tones.getByRole('radio', { name: 'Medium-dark skin tone', exact: true }).click();
  await expect(tones).toHaveCount(0);
  await expect(box).toBeFocused();
  const toned = picker(page).getByRole('button', { name: 'Skin tone: Medium-dark skin tone', exact: true });
  await expect(toned).toBeVisible();
  // Every emoji that takes a tone shows it; the rest do not change.
  await picker(page).getByRole('button', { name: 'People & body', exact: true }).click();
  const body = picker(page).getByRole('grid', { name: 'People & body' });
  await expect(body.getByRole('button', { name: 'thumbs up', exact: true })).toHaveText('👍🏾');
  await expect(body.getByRole('button', { name: 'technologist', exact: true })).toHaveText('🧑🏾‍💻');
  await expect(picker(page).getByRole('button', { name: 'face with tears of joy', exact: true })).toHaveText('😂');
  await page.screenshot({ path: `${SHOTS}/emoji-picker-toned-people.png` });
  await body.getByRole('button', { name: 'thumbs up', exact: true }).click();
  await picker(page).getByRole('searchbox', { name: 'Search emoji' }).fill('waving');
  const results = picker(page).getByRole('grid', { name: 'Search results' });
  const waving = results.getByRole('button', { name: 'waving hand', exact: true });
  await expect(waving).toHaveText('👋🏾');
  await waving.click();
  await expect(box).toHaveValue('👍🏾👋🏾');
  // From the keyboard: the arrows choose at once, Escape closes the row and returns to the button.
  await toned.focus();
  await page.keyboard.press('Enter');
  await expect(tones.getByRole('radio', { name: 'Medium-dark skin tone', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(tones.getByRole('radio', { name: 'Dark skin tone', exact: true })).toBeFocused();
  await expect(tones.getByRole('radio', { name: 'Dark skin tone', exact: true })).toHaveAttribute('aria-checked', 'true');
  await expect(waving).toHaveText('👋🏿');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Escape');
  await expect(tones).toHaveCount(0);
  await expect(picker(page)).toBeVisible();
  await expect(toned).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(picker(page)).toHaveCount(0);
  await box.press('Enter');
  await expect(box).toHaveValue('');

  // Bob receives exactly what alice sent: the tones' code points, nothing lost or added.
  await openChat(bob, alice.name);
  const got = bubbles(bob.page, alice.name);
  await expect(got).toHaveCount(3, { timeout: 30_000 });
  await expect(got.nth(0).locator('.text')).toHaveText('at 12:30 :) 👍');
  await expect(got.nth(1).locator('.text')).toHaveText('🍕');
  await expect(got.nth(2).locator('.text')).toHaveText('👍🏾👋🏾');
  expect(points((await got.nth(2).locator('.text').textContent())!)).toEqual(['1f44d', '1f3fe', '1f44b', '1f3fe']);
  await expect(got.nth(2)).toHaveClass(/\bjumbo\b/);
  await bob.page.getByRole('button', { name: 'Accept', exact: true }).click();

  // Alice's quick reaction row is in her tone; bob sees the toned reaction.
  const mine = bubbles(page, bob.name).nth(2);
  await mine.click({ button: 'right' });
  await page.getByRole('menu', { name: 'Message actions' }).getByRole('menuitem', { name: 'React' }).click();
  const quick = page.getByRole('menu', { name: 'Choose a reaction' });
  await expect(quick.getByRole('menuitemradio').first()).toHaveText('👍🏾');
  await expect(quick.getByRole('menuitemradio', { name: 'React 🙏🏾', exact: true })).toBeVisible();
  await expect(quick.getByRole('menuitemradio', { name: 'React ❤️', exact: true })).toBeVisible();
  await quick.getByRole('menuitemradio').first().click();
  await expect(bob.page.getByTestId('reactions')).toHaveText('👍🏾', { timeout: 30_000 });

  // The tone and the toned recents are kept on this device; back to the default, the recents stay toned.
  await page.reload();
  await expect(box).toBeVisible();
  await emojiButton(page).click();
  await expect(toned).toBeVisible();
  await expect(picker(page).getByRole('grid', { name: 'Recently used' }).getByRole('button')).toHaveText(['👋🏾', '👍🏾', '🍕', '👍']);
  await toned.click();
  await tones.getByRole('radio', { name: 'Default skin tone', exact: true }).click();
  await expect(picker(page).getByRole('grid', { name: 'People & body' }).getByRole('button', { name: 'waving hand', exact: true })).toHaveText('👋');
  await expect(picker(page).getByRole('grid', { name: 'Recently used' }).getByRole('button').first()).toHaveText('👋🏾');
  // The category button of the section scrolled to is marked current.
  const cats = picker(page).getByRole('toolbar', { name: 'Emoji categories' });
  await expect(cats.getByRole('button', { name: 'Recently used', exact: true })).toHaveAttribute('aria-current', 'true');
  await cats.getByRole('button', { name: 'Flags', exact: true }).click();
  await expect(cats.getByRole('button', { name: 'Flags', exact: true })).toHaveAttribute('aria-current', 'true');
  await expect(cats.getByRole('button', { name: 'Recently used', exact: true })).not.toHaveAttribute('aria-current');
  // Back up from Flags by its button (the headings passed stick at the top), then by scrolling alone.
  await cats.getByRole('button', { name: 'Food & drink', exact: true }).click();
  await expect(picker(page).getByRole('grid', { name: 'Food & drink' }).getByRole('button').first()).toBeInViewport();
  await expect(cats.getByRole('button', { name: 'Food & drink', exact: true })).toHaveAttribute('aria-current', 'true');
  await expect(cats.getByRole('button', { name: 'Flags', exact: true })).not.toHaveAttribute('aria-current');
  await picker(page).getByRole('grid', { name: 'Travel & places' }).evaluate((g) => g.scrollIntoView({ block: 'start' }));
  await expect(cats.getByRole('button', { name: 'Travel & places', exact: true })).toHaveAttribute('aria-current', 'true');
  await expect(cats.getByRole('button', { name: 'Food & drink', exact: true })).not.toHaveAttribute('aria-current');
  await page.screenshot({ path: `${SHOTS}/emoji-picker-current-category.png` });
  await page.keyboard.press('Escape');

  // The group composer: ":piz" completes there too, in the same list, beside the "@" mentions.
  const group = `Picnic ${Date.now() % 100000}`;
  await page.goto('/chats');
  await createGroup(alice, group, [bob]);
  const gbox = page.getByLabel(`Message ${group}`);
  await gbox.focus();
  await page.keyboard.type(':piz');
  await expect(list.getByRole('option').first()).toHaveAccessibleName('pizza');
  await expect(gbox).toHaveAttribute('role', 'combobox');
  await expect(gbox).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Enter');
  await expect(gbox).toHaveValue('🍕');
  await expect(gbox).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.type(' @');
  const members = page.getByRole('listbox', { name: 'Mention a member' });
  await expect(members.getByRole('option', { name: bob.name, exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(gbox).toHaveAttribute('aria-controls', 'mention-options');
  await page.keyboard.press('Enter');
  await expect(gbox).toHaveValue(`🍕 @${bob.name} `);
  await page.keyboard.type(':thu');
  await expect(list.getByRole('option').first()).toHaveText('👍thumbs up');
  await page.screenshot({ path: `${SHOTS}/emoji-shortcode-group.png` });
  await expectClean(alice);
  await expectClean(bob);
});
