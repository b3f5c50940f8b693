/**
 * PIN recovery end to end (DESIGN.md §7): recovery in real browsers against the real host with its built-in realm
 * (pinned Argon2id, 1-of-1 realm at /realm/, so a short PIN is refused and a passphrase is used:
 * P38). Alice sets a passphrase at onboarding, talks with
 * bob, verifies him and blocks carol; her browser is lost; bob writes meanwhile; a brand-new
 * browser context restores her with username + passphrase. Contacts, verification and blocks are back,
 * bob's safety number for her is unchanged (no change notice), the message bob sent meanwhile
 * arrives (the retry asks bob to send it again inside a new authenticated session), they keep
 * talking both ways, and the old browser, opened again, says it is signed out.
 */
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { bubbles, chatRow, conversationTitle, expectClean, messageLog, openChat, openPerson, register, send, startChat, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
const PIN = 'violet tractor umbrella quantum';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close().catch(() => undefined);
});

/**
 * Onboarding with the recovery step on the single-realm host: no short PIN is offered, a weak
 * passphrase is refused with its reason, then a strong one is typed twice.
 */
async function registerWithPin(p: Person, pin: string, shots?: string): Promise<void> {
  const page = p.page;
  await page.goto('/');
  await page.getByLabel('Username').fill(p.name);
  await expect(page.getByText(`✓ ${p.name} is available`)).toBeVisible();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Protect your account' })).toBeVisible({ timeout: 30_000 });
  if (shots) await page.screenshot({ path: `${DIR}pin-create-${shots}.png` });
  await page.getByLabel(/New passphrase/).fill('password password');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('alert')).toContainText('Too easy to guess offline');
  if (shots) await page.screenshot({ path: `${DIR}pin-weak-${shots}.png` });
  await page.getByLabel(/New passphrase/).fill(pin);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Type the same passphrase again').fill(pin);
  await page.getByRole('button', { name: 'Protect my account' }).click();
  await expect(page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 30_000 });
  // No "no backup" banner once recovery is on.
  await expect(page.getByText('No backup yet')).toHaveCount(0);
}

async function openContact(page: Page, other: string): Promise<void> {
  await page.getByRole('link', { name: `Safety number and settings for ${other}` }).click();
  await expect(page.getByTestId('safety-number')).toBeVisible();
}

async function safetyNumber(page: Page): Promise<string> {
  return (await page.getByTestId('safety-number').getAttribute('aria-label')) ?? '';
}

async function restore(page: Page, username: string, pin: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('PIN, passphrase or recovery key').fill(pin);
  await page.getByRole('button', { name: 'Restore' }).click();
}

test('a new browser restores alice with her PIN: contacts, verification, blocks, and messages keep flowing', async ({ browser }) => {
  test.setTimeout(180_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  const carol = await openPerson(browser, 'carol');
  people.push(alice, bob, carol);
  await registerWithPin(alice, PIN, 'desktop');
  await register(bob);
  await register(carol);
  // "Later" leaves a persistent reminder banner.
  await expect(bob.page.getByText('No backup yet: if you lose this browser, you lose this account.')).toBeVisible();
  await bob.page.screenshot({ path: `${DIR}pin-later-banner-desktop.png` });

  await startChat(alice, bob.name);
  await send(alice, bob.name, 'hi bob');
  await expect(chatRow(bob.page, alice.name)).toBeVisible();
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name).last()).toContainText('hi bob');
  await send(bob, alice.name, 'hi alice');
  await expect(bubbles(alice.page, bob.name).last()).toContainText('hi alice');

  await openContact(alice.page, bob.name);
  await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
  await expect(alice.page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
  await openContact(bob.page, alice.name);
  const bobSeesBefore = await safetyNumber(bob.page);
  expect(bobSeesBefore).toMatch(/^Safety number (\d{5} ){11}\d{5}$/);
  await bob.page.getByRole('link', { name: 'Back to conversation' }).click();

  await startChat(alice, carol.name);
  await openContact(alice.page, carol.name);
  await alice.page.getByRole('button', { name: `Block ${carol.name}` }).click();
  await expect(alice.page.getByRole('button', { name: `Unblock ${carol.name}` })).toBeVisible();
  // The encrypted backup is re-uploaded a moment after contacts change (debounced).
  await alice.page.waitForTimeout(4000);

  // Alice's browser is gone. Bob writes to her old session meanwhile.
  await alice.page.close();
  await send(bob, alice.name, 'while you restore');
  await expect(bubbles(bob.page, alice.name).last().locator('.ticks')).toHaveAttribute('data-status', 'sent');

  const fresh = await openPerson(browser, 'alice-new');
  people.push(fresh);
  await fresh.page.goto('/');
  await fresh.page.getByRole('link', { name: 'Already have an account? Restore with PIN' }).click();
  await expect(fresh.page.getByRole('heading', { name: 'Restore your account' })).toBeVisible();
  await restore(fresh.page, alice.name, PIN);
  await expect(fresh.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });

  // Contacts, verification and the block list are back.
  await expect(chatRow(fresh.page, bob.name)).toBeVisible();
  await expect(chatRow(fresh.page, carol.name)).toBeVisible();
  await chatRow(fresh.page, carol.name).click();
  await openContact(fresh.page, carol.name);
  await expect(fresh.page.getByRole('button', { name: `Unblock ${carol.name}` })).toBeVisible();
  await openChat(fresh, bob.name);
  await openContact(fresh.page, bob.name);
  await expect(fresh.page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
  await fresh.page.getByRole('link', { name: 'Back to conversation' }).click();

  // What bob sent while she restored arrives (re-sent after the retry request), once.
  await expect(bubbles(fresh.page, bob.name).filter({ hasText: 'while you restore' })).toHaveCount(1, { timeout: 30_000 });

  // They keep talking both ways; bob sees the same safety number and no change notice.
  await send(fresh, bob.name, 'back on a new browser');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('back on a new browser');
  await send(bob, alice.name, 'welcome back');
  await expect(bubbles(fresh.page, bob.name).last()).toContainText('welcome back');
  await expect(messageLog(bob.page, alice.name).getByRole('note').filter({ hasText: 'safety number' })).toHaveCount(0);
  await openContact(bob.page, alice.name);
  expect(await safetyNumber(bob.page)).toBe(bobSeesBefore);
  await expect(bob.page.getByText('Verified', { exact: false }).first()).toBeVisible();

  // The old browser, opened again, is signed out with a clear message and goes no further.
  const old = await alice.context.newPage();
  await old.goto('/');
  await expect(old.getByText('This account is now used on another browser')).toBeVisible({ timeout: 30_000 });
  await expect(old.getByRole('heading', { name: 'Chats', level: 1 })).toHaveCount(0);
  await old.screenshot({ path: `${DIR}signed-out-desktop.png` });
  await expect(conversationTitle(fresh.page, bob.name)).toBeVisible();
  await expectClean(fresh);
  await expectClean(bob);
});

test('a wrong secret shows the attempts left; screens at phone and desktop size', async ({ browser }) => {
  test.setTimeout(120_000);
  const dave = await openPerson(browser, 'dave', { width: 390, height: 844 });
  people.push(dave);
  await registerWithPin(dave, PIN, 'phone');

  for (const vp of [
    { name: 'phone', width: 390, height: 844 },
    { name: 'desktop', width: 1280, height: 800 }
  ] as const) {
    const fresh = await openPerson(browser, 'dave-new', { width: vp.width, height: vp.height });
    people.push(fresh);
    await fresh.page.goto('/restore');
    await expect(fresh.page.getByRole('heading', { name: 'Restore your account' })).toBeVisible();
    await fresh.page.screenshot({ path: `${DIR}restore-${vp.name}.png` });
    await restore(fresh.page, dave.name, 'glacier mango pepper tangerine');
    await expect(fresh.page.getByRole('alert')).toContainText(vp.name === 'phone' ? 'Wrong PIN or passphrase. 9 attempts left' : 'Wrong PIN or passphrase. 8 attempts left', {
      timeout: 60_000
    });
    await fresh.page.screenshot({ path: `${DIR}restore-wrong-pin-${vp.name}.png` });
  }
  // Settings on the original browser: recovery is on, change and turn-off are offered.
  await dave.page.getByRole('link', { name: 'Settings' }).click();
  await expect(dave.page.getByText(`On. A new browser can restore @${dave.name}`)).toBeVisible();
  await expect(dave.page.getByRole('button', { name: 'Turn recovery off' })).toBeVisible();
  await dave.page.screenshot({ path: `${DIR}settings-pin-phone.png` });
  await expectClean(dave);
});
