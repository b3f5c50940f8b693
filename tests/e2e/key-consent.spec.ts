/**
 * P36 and P2 as alice sees them, with a host that lies: alice's vault asks for bob's bundle and is
 * answered with a substituted one (a fresh identity the "host" controls), until the test has it
 * serve the real one again.
 *
 * Alice looks bob up in a second tab (the anonymous lookup, P49, records bob's real key without
 * starting a session), verifies him, and writes. The driving tab then needs a session, fetches
 * bob's bundle, gets the substituted one, and holds the text ("Safety number changed"). Accepting the new key does NOT
 * send that text: it shows "Not sent — safety number changed" with "Send again". Rejecting the new
 * key keeps the verified one: the text goes to the real bob once the host serves his key again.
 */
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { substituteIdentity } from './support/fake-bundle';
import { installGuard } from './support/guard';
import { bubbles, expectClean, messageLog, openPerson, register, startChat, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/**
 * Alice and bob registered; alice's bundle fetches for bob answered with the substituted bundle
 * until `serveReal()`, and for real after. (Answering only the first fetch falsely raced the test
 * against a later fetch: a real bundle arriving after "Send again" is a key change, and the text
 * is rightly not sent, P36.)
 */
async function setup(browser: Parameters<Parameters<typeof test>[2]>[0]['browser']): Promise<{ alice: Person; bob: Person; tab: Person; serveReal: () => void }> {
  const alice = await openPerson(browser, 'alice', { width: 390, height: 844 });
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  // Bob knows alice (not a message request, P42), so his receipts reach her.
  await startChat(bob, alice.name);
  await bob.page.goto('/chats');
  const fake = await substituteIdentity(bob.name);
  let real = false;
  await alice.context.route(`**/api/v1/bundles/${bob.name}`, async (route) => {
    if (!real) await route.fulfill({ status: 200, contentType: 'application/json', body: fake.bundle });
    else await route.continue();
  });
  // A second tab follows the first (which drives); the lookup starts no session in either.
  const second = await alice.context.newPage();
  const guard = await installGuard(second);
  await second.setViewportSize({ width: 390, height: 844 });
  await second.goto('/chats');
  await expect(second.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible();
  const tab: Person = { ...alice, page: second, guard };
  await startChat(tab, bob.name);
  await second.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
  await second.getByRole('button', { name: 'Mark as verified' }).click();
  await expect(second.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
  await second.getByRole('link', { name: 'Back to conversation' }).click();
  // Not send(): once the substituted bundle comes back the composer gives way to the key-change
  // banner, which can happen before an emptied box is seen.
  const box = second.getByRole('textbox', { name: `Message ${bob.name}` });
  await box.fill('written for the key I verified');
  await box.press('Enter');
  // The driving tab fetched bob's keys and got the substituted bundle: the text is held.
  await expect(second.getByText('Safety number changed — verify or accept to keep sending.')).toBeVisible();
  await expect(bubbles(second, bob.name).last()).toContainText('written for the key I verified');
  await expect(bubbles(second, bob.name).last().getByRole('img', { name: 'Not sent yet' })).toBeVisible();
  return { alice, bob, tab, serveReal: () => void (real = true) };
}

function lastBubble(page: Page, other: string) {
  return bubbles(page, other).last();
}

test('P36 accepting a new key does not send what was written before it; "Send again" is the user\'s choice', async ({ browser }) => {
  test.setTimeout(120_000);
  const { bob, tab } = await setup(browser);
  const page = tab.page;
  await page.screenshot({ path: `${DIR}key-change-held-phone.png` });
  // The host keeps serving the key the user is about to accept: "Send again" goes to it.

  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toBeVisible();
  await expect(page.getByText('Not sent — safety number changed.')).toBeVisible();
  await expect(lastBubble(page, bob.name).getByRole('img', { name: 'Not sent: safety number changed' })).toBeVisible();
  await expect(messageLog(page, bob.name)).toContainText('You accepted the new safety number');
  await page.screenshot({ path: `${DIR}key-change-accepted-unsent-phone.png` });

  await page.getByRole('button', { name: 'Send again' }).click();
  await expect(page.getByText('Not sent — safety number changed.')).toHaveCount(0);
  await expect(lastBubble(page, bob.name)).toContainText('written for the key I verified');
  await expect(lastBubble(page, bob.name).getByRole('img', { name: 'Sent' })).toBeVisible();
  await expectClean(tab);
});

test('P36 rejecting a new key keeps the verified one; the held text then goes to the real bob', async ({ browser }) => {
  test.setTimeout(120_000);
  const { bob, tab, serveReal } = await setup(browser);
  const page = tab.page;
  serveReal();
  await page.getByRole('button', { name: 'Reject' }).click();
  await expect(messageLog(page, bob.name)).toContainText(`You rejected the new safety number for ${bob.name}`);
  await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toBeVisible();
  // The held text was written for the verified key: it goes once the real key is served again.
  await expect(bubbles(bob.page, tab.name)).toHaveCount(0);
  await startChat(bob, tab.name);
  await expect(lastBubble(bob.page, tab.name)).toContainText('written for the key I verified');
  await expect(lastBubble(page, bob.name).getByRole('img', { name: /Delivered|Read/ })).toBeVisible();
  await page.screenshot({ path: `${DIR}key-change-rejected-phone.png` });
  await page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
  await expect(page.getByText(`You rejected a new key presented for ${bob.name}`)).toBeVisible();
  await expect(page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
  await page.screenshot({ path: `${DIR}contact-key-rejected-phone.png` });
  await expectClean(tab);
});
