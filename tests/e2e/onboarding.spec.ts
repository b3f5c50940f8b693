/**
 * Onboarding and keyboard use: the live username check refuses taken and malformed names before
 * anything is created, and the whole first conversation can be driven from the keyboard —
 * Enter sends, Shift+Enter starts a new line.
 */
import { expect, test } from '@playwright/test';
import { bubbles, expectClean, openPerson, register, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('the username check refuses a taken name and explains the rule', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const mallory = await openPerson(browser, 'mallory');
  people.push(alice, mallory);
  await register(alice);

  const page = mallory.page;
  await page.goto('/');
  const field = page.getByLabel('Username');
  const create = page.getByRole('button', { name: 'Create account' });
  await expect(page.getByText('3–32 letters, digits, _ or .')).toBeVisible();

  await field.fill('ab');
  await expect(page.getByText('Too short: at least 3 characters.')).toBeVisible();
  await field.fill('bad name!');
  await expect(page.getByText('Only letters, digits, _ or . are allowed.')).toBeVisible();
  await expect(create).toBeDisabled();

  // Case-folded: ALICE_… is the same name as alice_….
  await field.fill(alice.name.toUpperCase());
  await expect(page.getByText(`✗ ${alice.name} is taken. Try another.`)).toBeVisible();
  await expect(create).toBeDisabled();

  await field.fill(mallory.name);
  await expect(page.getByText(`✓ ${mallory.name} is available`)).toBeVisible();
  await expect(create).toBeEnabled();
  await expectClean(mallory);
});

test('keyboard only: tab to "New chat", Enter sends, Shift+Enter adds a line', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(bob);
  await register(alice);
  const page = alice.page;

  const newChat = page.getByRole('link', { name: 'New chat', exact: true });
  for (let i = 0; i < 10 && !(await newChat.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(newChat).toBeFocused();
  await page.keyboard.press('Enter');
  await page.getByLabel('Their username').focus();
  await page.keyboard.type(bob.name);
  await page.keyboard.press('Enter');

  const box = page.getByRole('textbox', { name: `Message ${bob.name}` });
  await box.focus();
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  await expect(bubbles(page, bob.name)).toHaveCount(0);
  await page.keyboard.press('Enter');
  await expect(bubbles(page, bob.name)).toHaveCount(1);
  await expect(bubbles(page, bob.name).first().locator('.text')).toHaveText('first line\nsecond line');
  await expect(box).toHaveValue('');
  await expect(box).toBeFocused();
  await expectClean(alice);
});
