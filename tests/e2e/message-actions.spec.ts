/**
 * Message actions end to end (README "Message actions"): two browsers reply, react, edit, delete
 * for everyone and for me, and the bubble's menu is driven by keyboard alone (Shift+Tab to a
 * bubble, Enter / Shift+F10 / the menu key, arrows, Escape). A hostile text with links shows only
 * its https address as a link (new tab, rel="noopener noreferrer"); the rest stays text (P31).
 * Screenshots on a phone (390x844) and a desktop go to tests/e2e/screenshots/.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { bubbles, expectClean, openChat, openPerson, register, send, startChat, texts, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const HOSTILE_LINKS = 'see https://example.org/a?b=1 or javascript:alert(1) or <a href="javascript:alert(1)">x</a> data:text/html,<b>x</b>';

function menu(page: Page) {
  return page.getByRole('menu', { name: 'Message actions' });
}

/** axe on what `page` shows now: no serious or critical WCAG 2.1 AA violation. */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), screen).toEqual([]);
}

test('P31 P47 reply, react, edit, delete for everyone and for me between two browsers; the menu works by keyboard alone', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 });
  people.push(alice, bob);
  let dialogs = 0;
  for (const p of [alice, bob]) p.page.on('dialog', (d) => void d.dismiss().then(() => dialogs++));
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'Hello Bob');
  await openChat(bob, alice.name);
  const bobLog = bubbles(bob.page, alice.name);
  const aliceLog = bubbles(alice.page, bob.name);
  await expect(bobLog).toHaveText([/Hello Bob/]);
  // P42: alice is a stranger to bob until he accepts; a request's messages offer no actions.
  await expect(bobLog.last()).not.toHaveAttribute('tabindex', '0');
  await bob.page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(bobLog.last()).toHaveAttribute('tabindex', '0');

  // Keyboard only: from the composer, Shift+Tab (past the composer's own buttons) reaches the newest bubble.
  const box = bob.page.getByRole('textbox', { name: `Message ${alice.name}` });
  await box.focus();
  for (let i = 0; i < 6; i++) {
    await bob.page.keyboard.press('Shift+Tab');
    if (await bobLog.last().evaluate((el) => el === document.activeElement)) break;
  }
  await expect(bobLog.last()).toBeFocused();
  await bob.page.keyboard.press('Enter');
  await expect(menu(bob.page)).toBeVisible();
  await expect(menu(bob.page).getByRole('menuitem', { name: 'Reply' })).toBeFocused();
  // Someone else's message: no Edit, no Delete for everyone.
  await expect(menu(bob.page).getByRole('menuitem')).toHaveText(['Reply', 'React', 'Copy text', 'Delete for me']);
  await bob.page.keyboard.press('Escape');
  await expect(menu(bob.page)).toHaveCount(0);
  await expect(bobLog.last()).toBeFocused();

  // Shift+F10, Down to React, Enter opens the picker; Right moves to ❤️; Enter reacts.
  await bob.page.keyboard.press('Shift+F10');
  await expect(menu(bob.page)).toBeVisible();
  await bob.page.keyboard.press('ArrowDown');
  await bob.page.keyboard.press('Enter');
  const picker = bob.page.getByRole('menu', { name: 'Choose a reaction' });
  await expect(picker).toBeVisible();
  await bob.page.keyboard.press('ArrowRight');
  await expect(picker.getByRole('menuitemradio', { name: /❤️/ })).toBeFocused();
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-picker-phone.png' });
  await bob.page.keyboard.press('Enter');
  await expect(bob.page.getByTestId('reactions')).toContainText('❤️');
  await expect(alice.page.getByTestId('reactions')).toContainText('❤️');
  // A changed reaction replaces the previous one, on both sides.
  await bobLog.last().focus();
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.press('ArrowDown');
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.press('ArrowLeft'); // wraps from ❤️'s left neighbour: 👍
  await expect(picker.getByRole('menuitemradio', { name: /👍/ })).toBeFocused();
  await bob.page.keyboard.press('Enter');
  await expect(alice.page.getByTestId('reactions')).toHaveText('👍');

  // The menu key, then Enter on Reply: the composer shows what is quoted.
  await bobLog.last().focus();
  await bob.page.keyboard.press('ContextMenu');
  await bob.page.keyboard.press('Enter');
  await expect(bob.page.getByTestId('composer-context')).toContainText(`Replying to ${alice.name}`);
  await expect(box).toBeFocused();
  await bob.page.keyboard.type('Hi Alice');
  await bob.page.keyboard.press('Enter');
  await expect(aliceLog.last()).toContainText('Hi Alice');
  await expect(aliceLog.last().getByTestId('quote')).toContainText('You');
  await expect(aliceLog.last().getByTestId('quote')).toContainText('Hello Bob');

  // Alice edits her message with the mouse (right click): Bob sees the new text, "edited", and his quote follows.
  await aliceLog.first().click({ button: 'right' });
  await expect(menu(alice.page).getByRole('menuitem')).toHaveText(['Reply', 'React', 'Edit', 'Copy text', 'Delete for me', 'Delete for everyone']);
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-menu-desktop.png' });
  await menu(alice.page).getByRole('menuitem', { name: 'Edit' }).click();
  const aliceBox = alice.page.getByRole('textbox', { name: `Message ${bob.name}` });
  await expect(aliceBox).toHaveValue('Hello Bob');
  await aliceBox.fill('Hello Bob, edited');
  await aliceBox.press('Enter');
  await expect(bobLog.first()).toContainText('Hello Bob, edited');
  await expect(bobLog.first().getByTestId('edited')).toBeVisible();
  await expect(bobLog.last().getByTestId('quote')).toContainText('Hello Bob, edited');

  // The edit history (README "Message actions"), Bob by keyboard alone: Tab from the bubble reaches
  // "edited", Enter opens the versions, the current first; Escape closes and returns the focus.
  await bobLog.first().focus();
  await bob.page.keyboard.press('Tab');
  const bobEdited = bobLog.first().getByRole('button', { name: /^edited/ });
  await expect(bobEdited).toBeFocused();
  await bob.page.keyboard.press('Enter');
  const history = bob.page.getByRole('dialog', { name: 'Edit history' });
  await expect(history).toBeVisible();
  const versions = history.getByRole('listitem');
  await expect(versions).toHaveCount(2);
  await expect(versions.nth(0)).toContainText('Current');
  await expect(versions.nth(0).locator('.text')).toHaveText('Hello Bob, edited');
  await expect(versions.nth(1)).toContainText('Original');
  await expect(versions.nth(1).locator('.text')).toHaveText('Hello Bob');
  await audit(bob.page, 'edit history, light');
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-edit-history-phone.png' });
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await audit(bob.page, 'edit history, dark');
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-edit-history-dark-phone.png' });
  await bob.page.emulateMedia({ colorScheme: 'light' });
  await bob.page.keyboard.press('Escape');
  await expect(history).toBeHidden();
  await expect(bobEdited).toBeFocused();
  // Alice, the sender, sees the same versions (with the pointer), and Close closes.
  await aliceLog.first().getByRole('button', { name: /^edited/ }).click();
  const aliceHistory = alice.page.getByRole('dialog', { name: 'Edit history' });
  await expect(aliceHistory.getByRole('listitem').locator('.text')).toHaveText(['Hello Bob, edited', 'Hello Bob']);
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-edit-history-desktop.png' });
  await aliceHistory.getByRole('button', { name: 'Close' }).click();
  await expect(aliceHistory).toBeHidden();

  // P31: a hostile text with links: only the https address is a link, opened safely; the rest is text.
  await send(alice, bob.name, HOSTILE_LINKS);
  await expect(bobLog.last()).toContainText('data:text/html');
  expect((await texts(bob.page, alice.name)).at(-1)).toBe(HOSTILE_LINKS);
  const links = bobLog.last().locator('a');
  await expect(links).toHaveCount(1);
  await expect(links).toHaveAttribute('href', 'https://example.org/a?b=1');
  await expect(links).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(links).toHaveAttribute('target', '_blank');
  await expect(bob.page.getByRole('log').locator('b, script, img')).toHaveCount(0);
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-phone.png' });
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-desktop.png' });

  // P47 in the UI: Alice deletes her first message for everyone; Bob's copy and his quote of it go.
  await aliceLog.first().focus();
  await alice.page.keyboard.press('Enter');
  await menu(alice.page).getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await expect(aliceLog.first()).toContainText('You deleted this message');
  await expect(bobLog.first()).toContainText('This message was deleted');
  await expect(bobLog.first()).not.toContainText('Hello Bob');
  await expect(bobLog.nth(1).getByTestId('quote')).toContainText('Original message not found');
  await expect(bob.page.getByTestId('reactions')).toHaveCount(0);

  // Delete for me: gone from Bob's browser only.
  await bobLog.last().focus();
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.press('End');
  await expect(menu(bob.page).getByRole('menuitem', { name: 'Delete for me' })).toBeFocused();
  await bob.page.keyboard.press('Enter');
  await expect(bobLog).toHaveCount(2);
  await expect(aliceLog).toHaveCount(3);
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/message-actions-deleted-phone.png' });

  expect(dialogs).toBe(0);
  await expectClean(alice);
  await expectClean(bob);
});
