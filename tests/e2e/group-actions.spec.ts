/**
 * Message actions in groups end to end (README "Groups": message actions; P47): three people in
 * separate browser contexts against the real host and vault worker. Ben replies to Ann by
 * keyboard (the quote names Ann), Cat and Ann react (counts, and who reacted in the label and
 * tooltip), Ann edits and then deletes her message for everyone, Cat deletes one for herself; the
 * others see each change. Ben's menu on Ann's message offers no Edit or Delete for everyone.
 * Screenshots go to tests/e2e/screenshots/.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { createGroup, groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const SHOTS = 'tests/e2e/screenshots';
const bubble = (page: Page, text: string) => page.getByRole('list', { name: 'Group messages' }).getByTestId('group-message').filter({ hasText: text });
const menu = (page: Page) => page.getByRole('menu', { name: 'Message actions' });

/** axe on what `page` shows now: no serious or critical WCAG 2.1 AA violation. */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), screen).toEqual([]);
}

async function openGroup(p: Person, name: string): Promise<void> {
  await groupRow(p.page, name).click();
  await expect(p.page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

test('P47 reply, react, edit and delete in a group of three, seen by the others; the menu by keyboard', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben', { width: 390, height: 844 }), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of people) await register(p);
  const name = 'Crag day';
  await createGroup(ann, name, [ben, cat]);
  await openGroup(ben, name);
  await openGroup(cat, name);

  const annBox = ann.page.getByLabel(`Message ${name}`);
  await annBox.fill('Meet at the car park at 9');
  await annBox.press('Enter');
  await expect(bubble(ben.page, 'Meet at the car park at 9')).toBeVisible({ timeout: 30_000 });
  await expect(bubble(cat.page, 'Meet at the car park at 9')).toBeVisible({ timeout: 30_000 });

  // Ben, keyboard only: focus Ann's message, Enter opens the menu; not his: no Edit, no Delete for everyone.
  const onBen = bubble(ben.page, 'Meet at the car park at 9');
  await onBen.focus();
  await ben.page.keyboard.press('Enter');
  await expect(menu(ben.page).getByRole('menuitem', { name: 'Reply' })).toBeFocused();
  await expect(menu(ben.page).getByRole('menuitem')).toHaveText(['Reply', 'React', 'Copy text', 'Delete for me']);
  await ben.page.keyboard.press('Enter');
  await expect(ben.page.getByTestId('composer-context')).toContainText(`Replying to ${ann.name}`);
  await ben.page.keyboard.type('Can we make it 9:30?');
  await ben.page.keyboard.press('Enter');
  for (const p of [ann, cat, ben]) {
    const reply = bubble(p.page, 'Can we make it 9:30?');
    await expect(reply.getByTestId('quote')).toContainText(p === ann ? 'You' : ann.name, { timeout: 30_000 });
    await expect(reply.getByTestId('quote')).toContainText('Meet at the car park at 9');
  }

  // Cat reacts 👍 to Ben's reply by keyboard (React, Enter on the first emoji); Ann with the mouse.
  const onCat = bubble(cat.page, 'Can we make it 9:30?');
  await onCat.focus();
  await cat.page.keyboard.press('Shift+F10');
  await cat.page.keyboard.press('ArrowDown');
  await cat.page.keyboard.press('Enter');
  await expect(cat.page.getByRole('menu', { name: 'Choose a reaction' })).toBeVisible();
  await cat.page.keyboard.press('Enter');
  await bubble(ann.page, 'Can we make it 9:30?').click({ button: 'right' });
  await menu(ann.page).getByRole('menuitem', { name: 'React' }).click();
  await ann.page.getByRole('menuitemradio', { name: /👍/ }).click();
  const count = bubble(ben.page, 'Can we make it 9:30?').getByTestId('reactions').getByRole('button');
  await expect(count).toHaveText('👍2', { timeout: 30_000 });
  await expect(count).toHaveAttribute('aria-label', new RegExp(`^👍 2: (${cat.name}, ${ann.name}|${ann.name}, ${cat.name}), press to react the same$`));
  await expect(count).toHaveAttribute('title', /, /);
  await ben.page.screenshot({ path: `${SHOTS}/group-actions-reply-reactions-phone.png` });
  await audit(ben.page, 'group with a reply and reactions');

  // Ann edits her message (right click, Edit): Ben and Cat see the new text, "edited", and the quote follows.
  await bubble(ann.page, 'Meet at the car park at 9').first().click({ button: 'right' });
  await expect(menu(ann.page).getByRole('menuitem')).toHaveText(['Reply', 'React', 'Edit', 'Copy text', 'Delete for me', 'Delete for everyone']);
  await ann.page.screenshot({ path: `${SHOTS}/group-actions-menu-desktop.png` });
  await menu(ann.page).getByRole('menuitem', { name: 'Edit' }).click();
  await expect(annBox).toHaveValue('Meet at the car park at 9');
  await annBox.fill('Meet at the car park at 9:30');
  await annBox.press('Enter');
  for (const p of [ben, cat]) {
    const edited = bubble(p.page, 'Meet at the car park at 9:30').first();
    await expect(edited.getByTestId('edited')).toBeVisible({ timeout: 30_000 });
    await expect(bubble(p.page, 'Can we make it 9:30?').getByTestId('quote')).toContainText('Meet at the car park at 9:30');
  }
  await cat.page.screenshot({ path: `${SHOTS}/group-actions-edited-desktop.png` });

  // Ben opens the edit history by keyboard: Tab from the bubble to "edited", Enter; Escape returns.
  const benEdited = bubble(ben.page, 'Meet at the car park at 9:30').first();
  await benEdited.focus();
  await ben.page.keyboard.press('Tab');
  await expect(benEdited.getByRole('button', { name: /^edited/ })).toBeFocused();
  await ben.page.keyboard.press('Enter');
  const history = ben.page.getByRole('dialog', { name: 'Edit history' });
  await expect(history.getByRole('listitem').locator('.text')).toHaveText(['Meet at the car park at 9:30', 'Meet at the car park at 9']);
  await audit(ben.page, 'group edit history');
  await ben.page.screenshot({ path: `${SHOTS}/group-actions-edit-history-phone.png` });
  await ben.page.keyboard.press('Escape');
  await expect(history).toBeHidden();
  await expect(benEdited.getByRole('button', { name: /^edited/ })).toBeFocused();

  // Ann deletes it for everyone: a tombstone for all, and the quote says the original is gone.
  const original = ann.page.getByRole('list', { name: 'Group messages' }).getByTestId('group-message').first();
  await original.focus();
  await ann.page.keyboard.press('Enter');
  await menu(ann.page).getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await expect(original).toContainText('You deleted this message');
  for (const p of [ben, cat]) {
    await expect(bubble(p.page, 'This message was deleted')).toBeVisible({ timeout: 30_000 });
    await expect(bubble(p.page, 'Can we make it 9:30?').getByTestId('quote')).toContainText('Original message not found');
    await expect(p.page.getByRole('list', { name: 'Group messages' })).not.toContainText('Meet at the car park');
  }
  await ben.page.screenshot({ path: `${SHOTS}/group-actions-deleted-phone.png` });

  // Cat deletes Ben's reply for herself only (End to Delete for me).
  await onCat.focus();
  await cat.page.keyboard.press('Enter');
  await cat.page.keyboard.press('End');
  await expect(menu(cat.page).getByRole('menuitem', { name: 'Delete for me' })).toBeFocused();
  await cat.page.keyboard.press('Enter');
  await expect(bubble(cat.page, 'Can we make it 9:30?')).toHaveCount(0);
  await expect(bubble(ann.page, 'Can we make it 9:30?')).toHaveCount(1);
  await expect(bubble(ben.page, 'Can we make it 9:30?')).toHaveCount(1);

  for (const p of people) await expectClean(p);
});
