/**
 * Typing indicators and the read-receipts switch between two browsers (README "Typing
 * indicators", "Read receipts"): "typing…" shows in the other side's header and chat row while
 * one types, and goes when the message arrives or after the 3-second pause; Settings → Privacy
 * turns either off (typing: neither sent nor shown; read receipts: the sender's tick stays at
 * "Delivered"). Screenshots go to tests/e2e/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { acceptedChat, bubbles, chatRow, expectClean, registered, send, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Alice wrote first and bob accepted: each holds the other's profile key, so typing can go sealed. */
async function talking(browser: import('@playwright/test').Browser): Promise<{ alice: Person; bob: Person }> {
  const [alice, bob] = (await registered(browser, people, 'alice', 'bob')) as [Person, Person];
  await acceptedChat(alice, bob, 'Hello Bob', 'Hi Alice');
  return { alice, bob };
}

function header(page: Page): ReturnType<Page['locator']> {
  return page.locator('header').getByText('typing…', { exact: true });
}

async function privacy(p: Person, name: 'Typing indicators' | 'Read receipts', on: boolean): Promise<void> {
  const back = p.page.url();
  await p.page.goto('/settings');
  const box = p.page.getByRole('checkbox', { name, exact: true });
  await expect(box).toBeChecked({ checked: !on });
  await box.setChecked(on);
  await expect(box).toBeChecked({ checked: on });
  await p.page.goto(back);
}

test('typing shows in the header and the chat row, and clears when the message arrives or after a pause', async ({ browser }) => {
  const { alice, bob } = await talking(browser);
  const box = alice.page.getByRole('textbox', { name: `Message ${bob.name}` });
  await box.pressSequentially('On my w', { delay: 40 });
  await expect(header(bob.page)).toBeVisible();
  await expect(chatRow(bob.page, alice.name)).toContainText('typing…');
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/typing-desktop.png' });
  await box.pressSequentially('ay', { delay: 40 });
  await box.press('Enter');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('On my way');
  await expect(header(bob.page)).toHaveCount(0);
  await expect(chatRow(bob.page, alice.name)).not.toContainText('typing…');

  // A pause of 3 s sends "stopped".
  await box.pressSequentially('and', { delay: 40 });
  await expect(header(bob.page)).toBeVisible();
  await expect(header(bob.page)).toHaveCount(0, { timeout: 8_000 });
  await expectClean(alice);
  await expectClean(bob);
});

test('typing indicators off: bob sends none and shows none', async ({ browser }) => {
  const { alice, bob } = await talking(browser);
  await privacy(bob, 'Typing indicators', false);
  await expect(bubbles(bob.page, alice.name)).toHaveCount(2);
  // Bob types: alice sees nothing. Alice types: bob sees nothing. Each then sends a text, which
  // travels after the typing notice would have: when it has arrived, so would have the notice.
  await bob.page.getByRole('textbox', { name: `Message ${alice.name}` }).pressSequentially('quiet', { delay: 40 });
  await alice.page.getByRole('textbox', { name: `Message ${bob.name}` }).pressSequentially('are you', { delay: 40 });
  await alice.page.waitForTimeout(1500);
  await expect(header(alice.page)).toHaveCount(0);
  await expect(header(bob.page)).toHaveCount(0);
  await alice.page.getByRole('textbox', { name: `Message ${bob.name}` }).press('Enter');
  await bob.page.getByRole('textbox', { name: `Message ${alice.name}` }).press('Enter');
  await expect(bubbles(alice.page, bob.name).filter({ hasText: 'quiet' })).toHaveCount(1);
  await expect(bubbles(bob.page, alice.name).filter({ hasText: 'are you' })).toHaveCount(1);
});

test('read receipts off: bob reads, alice sees "Delivered", never "Read"; bob sees no read ticks either', async ({ browser }) => {
  const { alice, bob } = await talking(browser);
  // With receipts on, bob's reply was read by alice: bob's tick shows Read.
  await expect(bubbles(bob.page, alice.name).last().getByRole('img', { name: 'Read', exact: true })).toBeVisible();
  await privacy(bob, 'Read receipts', false);
  await send(alice, bob.name, 'Did you read this?');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('Did you read this?');
  // Bob's reply is queued after any read receipt he would send: once it is there, so would that be.
  await send(bob, alice.name, 'Maybe');
  await expect(bubbles(alice.page, bob.name).last()).toContainText('Maybe');
  const mine = bubbles(alice.page, bob.name).filter({ hasText: 'Did you read this?' });
  await expect(mine.getByRole('img', { name: 'Delivered', exact: true })).toBeVisible();
  // Alice (receipts on) read "Maybe"; bob keeps no read state while his are off.
  await alice.page.waitForTimeout(1500);
  await expect(bubbles(bob.page, alice.name).last().getByRole('img', { name: 'Delivered', exact: true })).toBeVisible();
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/receipts-off-desktop.png' });
  await bob.page.goto('/settings');
  await bob.page.getByRole('heading', { name: 'Privacy' }).scrollIntoViewIfNeeded();
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/privacy-settings-desktop.png' });
});
